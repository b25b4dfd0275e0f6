#include "actors/system/door_credential_model.h"

#include "actors/system/secret.h"
#include "events/stream_name.h"

namespace gh::door_credentials {

Result<events::Envelope> issue(const State& state, std::string_view device_id,
                               std::string_view sha256, Issue mode) {
  GH_RETURN_IF_ERROR(validate_id(device_id, "device id"));
  if (sha256.size() != secrets::kHashBytes)
    return invalid_argument("credential hash must be " + std::to_string(secrets::kHashBytes) +
                            " bytes");
  const bool exists = state.doors.count(std::string(device_id)) > 0;
  if (exists && mode == Issue::kNewOnly)
    return already_exists("device " + std::string(device_id) + " already has a credential");
  events::Envelope envelope;
  auto* issued = envelope.mutable_door_credential_issued();
  issued->set_device_id(std::string(device_id));
  issued->set_secret_sha256(std::string(sha256));
  issued->set_replaced(exists);
  return envelope;
}

Result<events::Envelope> revoke(const State& state, std::string_view device_id) {
  if (!state.doors.count(std::string(device_id)))
    return not_found("device " + std::string(device_id) + " has no credential");
  events::Envelope envelope;
  envelope.mutable_door_credential_revoked()->set_device_id(std::string(device_id));
  return envelope;
}

void apply(State& state, const events::Envelope& event) {
  if (event.has_door_credential_issued()) {
    const auto& issued = event.door_credential_issued();
    // Whatever `replaced` says, the newest secret is the one that works.
    state.doors[issued.device_id()] =
        Credential{issued.secret_sha256(), event.time_unix_ms(), event.cause(), event.version()};
  } else if (event.has_door_credential_revoked()) {
    state.doors.erase(event.door_credential_revoked().device_id());
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

bool matches(const State& state, std::string_view device_id, std::string_view sha256) {
  auto it = state.doors.find(std::string(device_id));
  return it != state.doors.end() && secrets::equal_hashes(it->second.sha256, sha256);
}

}  // namespace gh::door_credentials
