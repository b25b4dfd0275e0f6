// The claims of the NATS JWTs gatehouse signs (docs/cluster.md, "Device identity on NATS"),
// from NATS' published JWT v2 specification: an operator (self-signed, naming the system
// account), an account (JetStream on, which NATS' MQTT needs; the subject mappings of the
// session groups; revoked users), and a user (bearer: NATS' MQTT has no nonce to sign, so
// the JWT alone is the password; publish and subscribe allow-lists; MQTT connections only).
// Each returns the claims for nats_jwt::encode(), which adds iss, iat and jti.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gh::nats_claims {

// `signing_keys`: public operator keys that may sign accounts too (nats-server trusts an
// account JWT issued by the operator or by one of these).
nlohmann::json operator_claims(const std::string& operator_public, const std::string& name,
                               const std::string& system_account_public,
                               const std::vector<std::string>& signing_keys = {});

// The system account: no JetStream (NATS refuses it there).
nlohmann::json system_account_claims(const std::string& account_public);

// gatehouse's account: JetStream unlimited, `mappings` (subject -> the one subject it maps
// to), `revocations` (user public key -> Unix seconds: JWTs of that user issued at or before
// are refused).
nlohmann::json account_claims(const std::string& account_public, const std::string& name,
                              const std::map<std::string, std::string>& mappings,
                              const std::map<std::string, int64_t>& revocations);

struct Permissions {
  std::vector<std::string> publish;  // NATS subjects allowed; both empty: everything
  std::vector<std::string> subscribe;
};

// A bearer user that may connect over MQTT only, with `permissions` (nullopt: all subjects).
nlohmann::json user_claims(const std::string& user_public, const std::string& name,
                           const std::optional<Permissions>& permissions);

}  // namespace gh::nats_claims
