#include "actors/system/nats_operator_setup.h"

#include "actors/system/nats_claims.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"

namespace gh::nats_setup {

Keys new_keys() {
  return {nkeys::new_key(nkeys::Kind::kOperator), nkeys::new_key(nkeys::Kind::kAccount),
          nkeys::new_key(nkeys::Kind::kAccount), nkeys::new_key(nkeys::Kind::kOperator),
          nkeys::new_key(nkeys::Kind::kUser)};
}

std::string operator_jwt(const Keys& keys, int64_t now_s) {
  return nats_jwt::encode(keys.operator_key,
                          nats_claims::operator_claims(
                              keys.operator_key.public_text(), "gatehouse-operator",
                              keys.system_account.public_text(), {keys.signing_key.public_text()}),
                          now_s);
}

std::string system_account_jwt(const Keys& keys, int64_t now_s) {
  return nats_jwt::encode(keys.operator_key,
                          nats_claims::system_account_claims(keys.system_account.public_text()),
                          now_s);
}

std::string account_jwt(const Keys& keys, const std::vector<std::string>& prefixes, uint32_t groups,
                        const std::map<std::string, int64_t>& revocations, int64_t now_s) {
  std::map<std::string, std::string> mappings;
  for (const auto& prefix : prefixes)
    mappings.merge(nats_identities::group_mappings(prefix, groups));
  // Signed by the signing key, as every later version is (by gatehousectl nats-auth revoke or
  // a node's push): a node builds only on a JWT this key signed.
  return nats_jwt::encode(
      keys.signing_key,
      nats_claims::account_claims(keys.account.public_text(), "gatehouse", mappings, revocations),
      now_s);
}

std::string server_config(const Keys& keys, const std::string& operator_jwt_path,
                          const std::string& account_jwt, const std::string& system_jwt) {
  return "# NATS operator mode for gatehouse (written by gatehousectl nats-auth create).\n"
         "operator: \"" +
         operator_jwt_path +
         "\"\n"
         "system_account: " +
         keys.system_account.public_text() +
         "\n"
         "resolver_preload: {\n"
         "  " +
         keys.account.public_text() + ": \"" + account_jwt +
         "\"\n"
         "  " +
         keys.system_account.public_text() + ": \"" + system_jwt +
         "\"\n"
         "}\n";
}

std::string resolver_config(const std::string& dir) {
  // allow_delete off: nobody removes gatehouse's account through the resolver; the interval
  // is how often a node compares its JWTs with another's (a node that missed a push).
  return "resolver: {\n  type: full\n  dir: \"" + dir +
         "\"\n  allow_delete: false\n  interval: \"1m\"\n}\n";
}

}  // namespace gh::nats_setup
