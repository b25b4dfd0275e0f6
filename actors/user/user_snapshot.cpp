#include "actors/user/user_snapshot.h"

namespace gh::user {

snapshots::Snapshot to_snapshot(const State& state, int64_t now_ms) {
  snapshots::Snapshot snapshot;
  snapshot.set_stream(user_stream(state.name));
  snapshot.set_version(state.version);
  snapshot.set_taken_at_unix_ms(now_ms);
  auto* u = snapshot.mutable_user();
  u->set_name(state.name);
  u->set_registered(state.registered);
  u->set_registered_at_ms(state.registered_at_ms);
  u->set_password_hash(state.password_hash);
  for (const auto& role : state.roles) u->add_roles(role);
  for (const auto& session : state.sessions) {
    auto* s = u->add_sessions();
    s->set_sha256(session.sha256);
    s->set_expires_at_ms(session.expires_at_ms);
  }
  for (int64_t t : state.failure_times_ms) u->add_failure_times_ms(t);
  u->set_locked_until_ms(state.locked_until_ms);
  u->set_locks_in_a_row(state.locks_in_a_row);
  u->set_question(state.question);
  u->set_answer_hash(state.answer_hash);
  u->set_erased(state.erased);
  u->set_last_login_ms(state.last_login_ms);
  u->set_version(state.version);
  u->set_updated_at_ms(state.updated_at_ms);
  u->set_registered_via_legacy(state.registered_via_legacy);
  return snapshot;
}

std::optional<State> from_snapshot(const snapshots::Snapshot& snapshot) {
  if (!snapshot.has_user()) return std::nullopt;
  const auto& u = snapshot.user();
  if (u.version() != snapshot.version() || user_stream(u.name()) != snapshot.stream())
    return std::nullopt;
  State state;
  state.name = u.name();
  state.registered = u.registered();
  state.registered_at_ms = u.registered_at_ms();
  state.password_hash = u.password_hash();
  state.roles.insert(u.roles().begin(), u.roles().end());
  // A snapshot holding more than the model ever keeps was not written by this model.
  if (static_cast<size_t>(u.sessions_size()) > State::kMaxSessions ||
      static_cast<size_t>(u.failure_times_ms_size()) > State::kMaxFailureTimes)
    return std::nullopt;
  for (const auto& s : u.sessions())
    state.sessions.push_back(Session{s.sha256(), s.expires_at_ms()});
  state.failure_times_ms.assign(u.failure_times_ms().begin(), u.failure_times_ms().end());
  state.locked_until_ms = u.locked_until_ms();
  state.locks_in_a_row = u.locks_in_a_row();
  state.question = u.question();
  state.answer_hash = u.answer_hash();
  state.erased = u.erased();
  state.last_login_ms = u.last_login_ms();
  state.version = u.version();
  state.updated_at_ms = u.updated_at_ms();
  state.registered_via_legacy = u.registered_via_legacy();
  return state;
}

}  // namespace gh::user
