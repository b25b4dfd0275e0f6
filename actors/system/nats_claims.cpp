#include "actors/system/nats_claims.h"

namespace gh::nats_claims {
namespace {

// NATS' "no limit" (-1) for every account limit.
nlohmann::json unlimited() {
  return {{"subs", -1},    {"data", -1}, {"payload", -1}, {"imports", -1},
          {"exports", -1}, {"conn", -1}, {"leaf", -1},    {"wildcards", true}};
}

nlohmann::json subject_of(const std::string& sub, const std::string& name, nlohmann::json nats) {
  return {{"sub", sub}, {"name", name}, {"nats", std::move(nats)}};
}

}  // namespace

nlohmann::json operator_claims(const std::string& operator_public, const std::string& name,
                               const std::string& system_account_public,
                               const std::vector<std::string>& signing_keys) {
  nlohmann::json nats = {
      {"type", "operator"}, {"version", 2}, {"system_account", system_account_public}};
  if (!signing_keys.empty()) nats["signing_keys"] = signing_keys;
  return subject_of(operator_public, name, std::move(nats));
}

nlohmann::json system_account_claims(const std::string& account_public) {
  return subject_of(account_public, "SYS",
                    {{"type", "account"}, {"version", 2}, {"limits", unlimited()}});
}

nlohmann::json account_claims(const std::string& account_public, const std::string& name,
                              const std::map<std::string, std::string>& mappings,
                              const std::map<std::string, int64_t>& revocations) {
  nlohmann::json limits = unlimited();
  // JetStream for the account: NATS' MQTT keeps its sessions and QoS 1 messages there.
  limits["mem_storage"] = -1;
  limits["disk_storage"] = -1;
  limits["streams"] = -1;
  limits["consumer"] = -1;
  nlohmann::json nats = {{"type", "account"}, {"version", 2}, {"limits", std::move(limits)}};
  if (!mappings.empty()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [from, to] : mappings)
      out[from] = nlohmann::json::array({{{"subject", to}, {"weight", 100}}});
    nats["mappings"] = std::move(out);
  }
  if (!revocations.empty()) nats["revocations"] = revocations;
  return subject_of(account_public, name, std::move(nats));
}

nlohmann::json user_claims(const std::string& user_public, const std::string& name,
                           const std::optional<Permissions>& permissions) {
  nlohmann::json nats = {{"type", "user"},       {"version", 2},
                         {"bearer_token", true}, {"allowed_connection_types", {"MQTT"}},
                         {"subs", -1},           {"data", -1},
                         {"payload", -1}};
  if (permissions) {
    nats["pub"] = {{"allow", permissions->publish}};
    nats["sub"] = {{"allow", permissions->subscribe}};
  }
  return subject_of(user_public, name, std::move(nats));
}

}  // namespace gh::nats_claims
