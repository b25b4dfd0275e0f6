#include "actors/system/nats_operator_setup.h"

#include "actors/system/nats_claims.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"

namespace gh::nats_setup {

Keys new_keys() {
  return {nkeys::new_key(nkeys::Kind::kOperator), nkeys::new_key(nkeys::Kind::kAccount),
          nkeys::new_key(nkeys::Kind::kAccount)};
}

std::string operator_jwt(const Keys& keys, int64_t now_s) {
  return nats_jwt::encode(
      keys.operator_key,
      nats_claims::operator_claims(keys.operator_key.public_text(), "gatehouse-operator",
                                   keys.system_account.public_text()),
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
  return nats_jwt::encode(
      keys.operator_key,
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
         "resolver: MEMORY\n"
         "resolver_preload: {\n"
         "  " +
         keys.account.public_text() + ": \"" + account_jwt +
         "\"\n"
         "  " +
         keys.system_account.public_text() + ": \"" + system_jwt +
         "\"\n"
         "}\n";
}

}  // namespace gh::nats_setup
