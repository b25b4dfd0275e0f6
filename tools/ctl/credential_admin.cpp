#include "tools/ctl/credential_admin.h"

#include "actors/system/credential_registry.h"
#include "events/stream_name.h"

namespace gh::ctl {
namespace {

Result<device::State> load_device(const Journal& journal, const std::string& id) {
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  auto events = journal.read_stream(device_stream(id), 1);
  if (!events) return events.status();
  return device::replay(id, *events);
}

}  // namespace

Result<bool> device_registered(const Journal& journal, const std::string& id) {
  auto state = load_device(journal, id);
  if (!state) return state.status();
  return state->registered;
}

Result<device::State> remove_device_in_store(Journal& journal, const std::string& id,
                                             const events::Cause& by, int64_t now_ms) {
  auto state = load_device(journal, id);
  if (!state) return state.status();
  auto events = device::decide(*state, device::RemoveDevice{}, now_ms);
  if (!events) return events.status();
  AppendRequest request;
  request.stream = device_stream(id);
  request.expected_version = state->version;
  request.cause = by;
  request.time_unix_ms = now_ms;
  request.events = *events;
  auto appended = journal.append_and_wait(std::move(request));
  if (!appended) return appended.status();
  for (const auto& e : appended->events) device::apply(*state, e);
  return *state;
}

Result<std::string> add_device(Journal& journal, credentials::CredentialRegistry& registry,
                               const std::string& id, const device::DeviceInfo& info,
                               const events::Cause& by, int64_t now_ms) {
  auto state = load_device(journal, id);
  if (!state) return state.status();
  auto events = device::decide(*state, device::Provision{info}, now_ms);
  if (!events) return events.status();
  AppendRequest request;
  request.stream = device_stream(id);
  request.expected_version = state->version;
  request.cause = by;
  request.events = std::move(*events);
  request.time_unix_ms = now_ms;
  auto appended = journal.append_and_wait(std::move(request));
  if (!appended) return appended.status();
  return registry.issue_door(id, by);
}

Result<std::string> rotate_device_credential(Journal& journal,
                                             credentials::CredentialRegistry& registry,
                                             const std::string& id, const events::Cause& by) {
  auto state = load_device(journal, id);
  if (!state) return state.status();
  if (!state->registered) return not_found("device " + id + " is not registered");
  return registry.issue_door(id, by);
}

}  // namespace gh::ctl
