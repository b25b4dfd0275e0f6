#include "adapters/mqtt/identity_projection.h"

#include <algorithm>
#include <string_view>

namespace gh::mqtt_adapter {
namespace {

constexpr std::string_view kUserPrefix = "user/";

bool has_session(const std::vector<user::Session>& sessions, const std::string& sha256) {
  return std::any_of(sessions.begin(), sessions.end(),
                     [&](const user::Session& s) { return s.sha256 == sha256; });
}

// The changes from `before` to `after` (maps of name -> entry with a raw `sha256`).
template <class Map>
void diff(const Map& before, const Map& after, const std::string& kind,
          std::vector<IdentityChange>& changes) {
  for (const auto& [name, entry] : before)
    if (!after.contains(name)) changes.push_back({kind, name, "", 0, true});
  for (const auto& [name, entry] : after) {
    auto old = before.find(name);
    if (old == before.end() || old->second.sha256 != entry.sha256)
      changes.push_back({kind, name, entry.sha256, INT64_MAX, false});
  }
}

}  // namespace

IdentityProjection::IdentityProjection(
    std::vector<std::pair<std::string, std::string>> fixed_tokens)
    : fixed_tokens_(std::move(fixed_tokens)) {}

std::vector<IdentityChange> IdentityProjection::apply(const events::Envelope& event) {
  std::vector<IdentityChange> changes;
  const std::string& stream = event.stream();
  if (stream == tokens::kStream) {
    auto before = tokens_.active;
    tokens::apply(tokens_, event);
    for (const auto& [name, token] : before)
      if (!tokens_.active.contains(name)) changes.push_back({"token", name, "", 0, true});
    for (const auto& [name, token] : tokens_.active) {
      auto old = before.find(name);
      if (old == before.end() || old->second.sha256 != token.sha256)
        changes.push_back({"token", name, token.sha256, INT64_MAX, false});
    }
    return changes;
  }
  if (stream == door_credentials::kStream) {
    auto before = doors_.doors;
    door_credentials::apply(doors_, event);
    diff(before, doors_.doors, "door", changes);
    return changes;
  }
  if (stream == provisioning_keys::kStream) {
    auto before = keys_.active;
    provisioning_keys::apply(keys_, event);
    diff(before, keys_.active, "key", changes);
    return changes;
  }
  if (!stream.starts_with(kUserPrefix)) return changes;
  const std::string name = stream.substr(kUserPrefix.size());
  auto it = users_.find(name);
  user::State state = it == users_.end() ? user::State{} : std::move(it->second);
  if (it == users_.end()) state.name = name;
  const auto before = state.sessions;
  user::apply(state, event);
  if (event.event_case() == events::Envelope::kUserErased) state.sessions.clear();
  for (const auto& s : before)
    if (!has_session(state.sessions, s.sha256))
      changes.push_back({"session", name, s.sha256, 0, true});
  for (const auto& s : state.sessions)
    if (!has_session(before, s.sha256))
      changes.push_back({"session", name, s.sha256, s.expires_at_ms, false});
  // Users without sessions cost nothing here; their next login starts from an empty state,
  // which is all apply() needs to track sessions (a login event carries the whole session).
  if (state.sessions.empty()) {
    if (it != users_.end()) users_.erase(it);
  } else {
    users_[name] = std::move(state);
  }
  return changes;
}

BrokerIdentities IdentityProjection::all(int64_t now_ms) const {
  BrokerIdentities out;
  for (const auto& [name, hash] : fixed_tokens_) out.tokens.push_back({name, hash});
  for (const auto& [name, token] : tokens_.active) out.tokens.push_back({name, token.sha256});
  for (const auto& [id, door] : doors_.doors) out.doors.push_back({id, door.sha256});
  for (const auto& [name, key] : keys_.active) out.keys.push_back({name, key.sha256});
  for (const auto& [name, state] : users_)
    for (const auto& s : state.sessions)
      if (s.expires_at_ms > now_ms) out.sessions.push_back({name, s.sha256, s.expires_at_ms});
  return out;
}

Status load_identities(const Journal& journal, IdentityProjection& projection) {
  std::vector<std::string> streams = {std::string(tokens::kStream),
                                      std::string(door_credentials::kStream),
                                      std::string(provisioning_keys::kStream)};
  GH_RETURN_IF_ERROR(
      journal.list_streams(std::string(kUserPrefix), [&](const std::string& stream, uint64_t) {
        streams.push_back(stream);
        return true;
      }));
  for (const auto& stream : streams) {
    auto events = journal.read_stream(stream, 1);
    if (!events) return events.status();
    for (const auto& event : *events) (void)projection.apply(event);
  }
  return Status::ok();
}

}  // namespace gh::mqtt_adapter
