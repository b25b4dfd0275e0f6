// NATS JWTs (docs/cluster.md, "Device identity on NATS"), written from NATS' published JWT
// specification: base64url (no padding) of the header {"typ":"JWT","alg":"ed25519-nkey"},
// ".", base64url of the claims, ".", base64url of the issuer's ed25519 signature of the two
// parts before it. The claims carry jti (base32 of SHA-256 of the claims without it), iat
// (Unix seconds), iss (the signer's public nkey) and what the caller gives: sub, name and
// "nats" (the claims of an operator, account or user: nats_claims.h).
//
//   std::string jwt = nats_jwt::encode(account_key, claims, now_s);   // a user's JWT
//   auto read = nats_jwt::decode(jwt);   // claims, once the signature matches their iss
//
// Pure functions; thread-safe. decode() errors: kInvalidArgument (not three parts, not
// base64url, not JSON, an unknown header) and kUnauthenticated (the signature is not iss').
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "actors/system/nats_nkey.h"
#include "events/status.h"

namespace gh::nats_jwt {

// base64url without padding, and back (kInvalidArgument for other characters).
std::string base64url(std::string_view data);
Result<std::string> from_base64url(std::string_view text);

// The JWT of `claims` (an object) issued by `issuer` at `iat_s`: iss, iat and jti are set here.
std::string encode(const nkeys::KeyPair& issuer, nlohmann::json claims, int64_t iat_s);

// The claims of `jwt` once its header is NATS' and its signature is that of the key its iss
// names (of any kind).
Result<nlohmann::json> decode(std::string_view jwt);

}  // namespace gh::nats_jwt
