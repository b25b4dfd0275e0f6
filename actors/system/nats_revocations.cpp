#include "actors/system/nats_revocations.h"

#include <algorithm>

namespace gh::nats_revocations {
namespace {

int64_t seconds_of(const events::Envelope& event) { return event.time_unix_ms() / 1000; }

int64_t time_of(const nlohmann::json& current, const std::string& user) {
  if (!current.is_object() || !current.contains(user) || !current[user].is_number_integer())
    return 0;
  return current[user].get<int64_t>();
}

}  // namespace

void apply(State& state, const events::Envelope& event) {
  const bool ours = event.has_door_credential_issued() || event.has_door_credential_revoked();
  if (!ours || event.version() <= state.version) return;
  state.version = event.version();
  if (event.has_door_credential_issued()) {
    auto& door = state.doors[event.door_credential_issued().device_id()];
    const int64_t at = seconds_of(event);
    // A rotation ends the current credential: its JWTs (iat issued_s) are refused from here.
    if (door.has_credential) door.revoked_s = std::max(at, door.issued_s);
    door.issued_s = door.revoked_s > 0 ? std::max(at, door.revoked_s + 1) : at;
    door.has_credential = true;
  } else if (event.has_door_credential_revoked()) {
    auto& door = state.doors[event.door_credential_revoked().device_id()];
    door.revoked_s = std::max(seconds_of(event), door.issued_s);
    door.has_credential = false;
  }
}

int64_t jwt_issued_at(const State& state, const std::string& device_id, int64_t now_s) {
  const auto found = state.doors.find(device_id);
  if (found == state.doors.end()) return now_s;
  if (found->second.has_credential) return found->second.issued_s;
  return found->second.revoked_s > 0 ? std::max(now_s, found->second.revoked_s + 1) : now_s;
}

std::map<std::string, int64_t> wanted(
    const State& state, const std::function<std::string(const std::string&)>& user_of) {
  std::map<std::string, int64_t> out;
  for (const auto& [id, door] : state.doors)
    if (door.revoked_s > 0) out[user_of(id)] = door.revoked_s;
  return out;
}

nlohmann::json merged(const nlohmann::json& current, const std::map<std::string, int64_t>& wanted) {
  nlohmann::json out = current.is_object() ? current : nlohmann::json::object();
  for (const auto& [user, at] : wanted) out[user] = std::max(at, time_of(current, user));
  return out;
}

bool covers(const nlohmann::json& current, const std::map<std::string, int64_t>& wanted) {
  for (const auto& [user, at] : wanted)
    if (time_of(current, user) < at) return false;
  return true;
}

}  // namespace gh::nats_revocations
