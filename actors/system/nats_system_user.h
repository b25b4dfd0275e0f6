// The system-account user a gatehouse node pushes gatehouse's account JWT with
// (docs/cluster.md, "Revocation on NATS"), and the NATS credentials file that holds it.
//
// The user connects over NATS' own client protocol (not MQTT) and signs the server's nonce
// with its seed, so its JWT alone is no password (not a bearer user). It may publish only
// the resolver's request subjects ($SYS.REQ.CLAIMS.UPDATE, $SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP)
// and subscribe only its replies (_INBOX.>).
//
// A credentials file is NATS' usual text (what NATS' own tools read):
//   -----BEGIN NATS USER JWT-----
//   <JWT>
//   ------END NATS USER JWT------
//   ... -----BEGIN USER NKEY SEED-----
//   <SU... seed>
//   ------END USER NKEY SEED------
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/system/nats_nkey.h"
#include "events/status.h"

namespace gh::nats_system_user {

inline constexpr const char* kClaimsUpdate = "$SYS.REQ.CLAIMS.UPDATE";
// The lookup subject of `account` (its public text).
std::string lookup_subject(const std::string& account);

// The JWT of `user`, signed by the system account `system_account`, issued at `now_s`.
std::string user_jwt(const nkeys::KeyPair& system_account, const nkeys::KeyPair& user,
                     int64_t now_s);

struct Credentials {
  std::string jwt;
  nkeys::KeyPair user{nkeys::Kind::kUser, {}, {}};
};

// The text of a credentials file holding `jwt` and `user`'s seed.
std::string creds_text(const std::string& jwt, const nkeys::KeyPair& user);

// The JWT and user seed of a credentials file's text; kInvalidArgument naming what is
// missing (either block, a seed that is not a user's, a JWT whose sub is not that user).
Result<Credentials> parse_creds(std::string_view text);

}  // namespace gh::nats_system_user
