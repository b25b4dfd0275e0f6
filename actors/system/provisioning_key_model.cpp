#include "actors/system/provisioning_key_model.h"

#include "actors/system/secret.h"
#include "events/stream_name.h"

namespace gh::provisioning_keys {

std::string provisioning_secret_text(std::string_view name, std::string_view secret) {
  return std::string(kTextPrefix) + std::string(name) + "." + std::string(secret);
}

Result<ProvisioningSecret> parse_provisioning_secret(std::string_view text) {
  if (!text.starts_with(kTextPrefix))
    return invalid_argument("a provisioning key starts with '" + std::string(kTextPrefix) + "'");
  std::string_view rest = text.substr(kTextPrefix.size());
  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos)
    return invalid_argument("a provisioning key is pk.<name>.<secret>");
  ProvisioningSecret out{std::string(rest.substr(0, dot)), std::string(rest.substr(dot + 1))};
  GH_RETURN_IF_ERROR(validate_id(out.name, "provisioning key name"));
  if (!secrets::is_secret_hex(out.secret))
    return invalid_argument("a provisioning key's secret is " +
                            std::to_string(secrets::kSecretHexChars) +
                            " lower-case hex characters");
  return out;
}

Result<events::Envelope> create(const State& state, std::string_view name,
                                std::string_view sha256) {
  GH_RETURN_IF_ERROR(validate_id(name, "provisioning key name"));
  if (sha256.size() != secrets::kHashBytes)
    return invalid_argument("provisioning key hash must be " + std::to_string(secrets::kHashBytes) +
                            " bytes");
  if (state.active.count(std::string(name)))
    return already_exists("provisioning key " + std::string(name) + " exists; revoke it first");
  events::Envelope envelope;
  envelope.mutable_provisioning_key_created()->set_name(std::string(name));
  envelope.mutable_provisioning_key_created()->set_secret_sha256(std::string(sha256));
  return envelope;
}

Result<events::Envelope> revoke(const State& state, std::string_view name) {
  if (!state.active.count(std::string(name)))
    return not_found("no active provisioning key named " + std::string(name));
  events::Envelope envelope;
  envelope.mutable_provisioning_key_revoked()->set_name(std::string(name));
  return envelope;
}

void apply(State& state, const events::Envelope& event) {
  if (event.has_provisioning_key_created()) {
    const auto& created = event.provisioning_key_created();
    // A second create of a name (never decided, but possible in a hand-made log) replaces
    // the first: the newest secret is the one handed out.
    state.active[created.name()] =
        Key{created.name(), created.secret_sha256(), event.time_unix_ms(), event.cause()};
  } else if (event.has_provisioning_key_revoked()) {
    state.active.erase(event.provisioning_key_revoked().name());
  } else {
    return;
  }
  state.version = event.version();
}

State replay(const std::vector<events::Envelope>& events) {
  State state;
  for (const auto& event : events) apply(state, event);
  return state;
}

bool matches(const State& state, std::string_view name, std::string_view sha256) {
  auto it = state.active.find(std::string(name));
  return it != state.active.end() && secrets::equal_hashes(it->second.sha256, sha256);
}

}  // namespace gh::provisioning_keys
