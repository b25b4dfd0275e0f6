// An operator's NATS setup for cluster mode on NATS (docs/cluster.md, "Device identity on
// NATS"): NATS' decentralised authentication ("operator mode") with these keys,
// - the operator, which signs the accounts (its seed is needed again only to change them),
// - an operator signing key, named in the operator's JWT, which may sign gatehouse's account
//   too: gatehouse nodes hold it (cluster.nats-operator-signing-seed-file) to push the account
//   with its revocations ("Revocation on NATS"),
// - gatehouse's account, whose seed gatehouse holds (cluster.nats-account-seed-file) to sign
//   the users of doors and nodes; its JWT carries the session groups' subject mappings,
// - the system account NATS requires, and a user of it (system-user.creds) through which
//   nodes push the account JWT ($SYS.REQ.CLAIMS.UPDATE);
// and the part of nats-server's configuration that trusts them (the operator, both accounts'
// JWTs preloaded into NATS' `full` resolver, whose block each node's own file holds).
// gatehousectl nats-auth writes them (tools/ctl/nats_auth_admin.h).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/system/nats_nkey.h"

namespace gh::nats_setup {

struct Keys {
  nkeys::KeyPair operator_key{nkeys::Kind::kOperator, {}, {}};
  nkeys::KeyPair account{nkeys::Kind::kAccount, {}, {}};
  nkeys::KeyPair system_account{nkeys::Kind::kAccount, {}, {}};
  nkeys::KeyPair signing_key{nkeys::Kind::kOperator, {}, {}};
  nkeys::KeyPair system_user{nkeys::Kind::kUser, {}, {}};
};

// Fresh keys from libsodium's CSPRNG.
Keys new_keys();

std::string operator_jwt(const Keys& keys, int64_t now_s);
std::string system_account_jwt(const Keys& keys, int64_t now_s);
// gatehouse's account with the subject mappings of every prefix in `prefixes` to
// `groups` session groups, and `revocations` (user public key -> Unix seconds), signed by the
// operator signing key.
std::string account_jwt(const Keys& keys, const std::vector<std::string>& prefixes, uint32_t groups,
                        const std::map<std::string, int64_t>& revocations, int64_t now_s);

// nats-server configuration lines (to include in each node's file) trusting the operator
// JWT at `operator_jwt_path`, with both accounts preloaded (into the resolver of
// resolver_config(), which stores a pushed account JWT newer than the preloaded one and
// keeps it over restarts).
std::string server_config(const Keys& keys, const std::string& operator_jwt_path,
                          const std::string& account_jwt, const std::string& system_jwt);

// The resolver block of one nats-server's own file: NATS' `full` resolver storing account
// JWTs in `dir` (one per node), which takes an account JWT pushed on $SYS.REQ.CLAIMS.UPDATE
// and passes it to the cluster's other nodes.
std::string resolver_config(const std::string& dir);

}  // namespace gh::nats_setup
