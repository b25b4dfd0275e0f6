#include "actors/user/user_model.h"

#include <algorithm>
#include <type_traits>

namespace gh::user {
namespace {

using Events = std::vector<Envelope>;

Events one(Envelope e) {
  Events out;
  out.push_back(std::move(e));
  return out;
}

// Hashes come from libsodium and are ASCII; the bounds keep a buggy caller from storing an
// empty "password" or megabytes in the log.
Status validate_hash(std::string_view hash, std::string_view what) {
  if (hash.empty() || hash.size() > kMaxHashBytes || !is_valid_utf8(hash))
    return invalid_argument(std::string(what) + " must be 1-" + std::to_string(kMaxHashBytes) +
                            " bytes of text");
  return Status::ok();
}

Status validate_session_hash(std::string_view sha256) {
  if (sha256.size() != kTokenHashBytes)
    return invalid_argument("a session hash must be " + std::to_string(kTokenHashBytes) + " bytes");
  return Status::ok();
}

// Compares all of both strings whatever they hold, so timing says nothing about a guess.
bool equal_in_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Status not_active(const State& state) { return not_found("no user named " + state.name); }

bool known_role(std::string_view role) {
  return std::find(std::begin(kKnownRoles), std::end(kKnownRoles), role) != std::end(kKnownRoles);
}

// Recorded for the audit; never a lock (locked_until_unix_ms stays 0).
Envelope login_failed(std::string_view reason) {
  Envelope e;
  e.mutable_user_login_failed()->set_reason(std::string(reason));
  return e;
}

Result<Events> decide_register(const State& state, const Register& c) {
  GH_RETURN_IF_ERROR(validate_user_name(state.name));
  GH_RETURN_IF_ERROR(may_register(state));
  GH_RETURN_IF_ERROR(validate_hash(c.password_hash, "password hash"));
  Envelope e;
  e.mutable_user_registered()->set_password_hash(c.password_hash);
  return one(std::move(e));
}

// Shared by both outcomes of a login: neither may reveal whether the user exists.
Status check_login(const State& state) {
  if (!state.active()) return unauthenticated(std::string(kBadCredentials));
  return Status::ok();
}

Result<Events> decide_login(const State& state, const LoginSucceeded& c, int64_t now_ms,
                            const UserPolicy& policy) {
  GH_RETURN_IF_ERROR(check_login(state));
  GH_RETURN_IF_ERROR(validate_session_hash(c.session_sha256));
  const int64_t longest = now_ms + policy.session_ttl_ms;
  const int64_t expires = c.expires_at_ms == 0 ? longest : std::min(c.expires_at_ms, longest);
  if (expires <= now_ms) return invalid_argument("a session must expire after now");
  Envelope e;
  auto* body = e.mutable_user_logged_in();
  body->set_session_sha256(c.session_sha256);
  body->set_expires_at_unix_ms(expires);
  return one(std::move(e));
}

const Session* find_session(const State& state, std::string_view sha256) {
  const Session* found = nullptr;
  for (const auto& session : state.sessions)
    if (equal_in_constant_time(session.sha256, sha256)) found = &session;
  return found;
}

Status bad_session() { return unauthenticated(std::string(kBadSession)); }

Result<Events> decide_logout(const State& state, const Logout& c, int64_t now_ms) {
  if (!state.active()) return not_active(state);
  if (!session_valid(state, c.session_sha256, now_ms)) return bad_session();
  if (c.everywhere) {
    // One UserLoggedOut per session: the log already says what ending a session means.
    Events out;
    for (const auto& session : state.sessions) {
      Envelope e;
      e.mutable_user_logged_out()->set_session_sha256(session.sha256);
      out.push_back(std::move(e));
    }
    return out;
  }
  Envelope e;
  e.mutable_user_logged_out()->set_session_sha256(c.session_sha256);
  return one(std::move(e));
}

Result<Events> decide_change(const State& state, const ChangePassword& c, int64_t now_ms) {
  if (!state.active()) return not_active(state);
  if (c.by_session) {
    if (!session_valid(state, c.keep_session_sha256, now_ms)) return bad_session();
    if (!c.password_ok) return one(login_failed(kReasonPassword));
  }
  GH_RETURN_IF_ERROR(validate_hash(c.new_hash, "password hash"));
  Envelope e;
  auto* body = e.mutable_user_password_changed();
  body->set_password_hash(c.new_hash);
  // Only a live session can be kept; anything else would be a session nobody holds.
  if (session_valid(state, c.keep_session_sha256, now_ms))
    body->set_kept_session_sha256(c.keep_session_sha256);
  return one(std::move(e));
}

Result<Events> decide_question(const State& state, const SetSecurityQuestion& c, int64_t now_ms) {
  GH_RETURN_IF_ERROR(may_set_question(state, c.via_legacy));
  if (!c.via_legacy && !c.session_sha256.empty()) {
    if (!session_valid(state, c.session_sha256, now_ms)) return bad_session();
    if (!c.password_ok) return one(login_failed(kReasonPassword));
  }
  GH_RETURN_IF_ERROR(validate_question(c.question));
  GH_RETURN_IF_ERROR(validate_hash(c.answer_hash, "answer hash"));
  Envelope e;
  auto* body = e.mutable_user_security_question_set();
  body->set_question(c.question);
  body->set_answer_hash(c.answer_hash);
  return one(std::move(e));
}

Result<Events> decide_reset(const State& state, const ResetPassword& c) {
  // An unknown user, one without a question and a wrong answer read alike.
  if (!state.active() || state.question.empty()) return unauthenticated(std::string(kBadAnswer));
  // The answer is a second password: a wrong one is recorded like a wrong password.
  if (!c.answer_ok) return one(login_failed(kReasonSecurityAnswer));
  GH_RETURN_IF_ERROR(validate_hash(c.new_hash, "password hash"));
  Envelope e;
  e.mutable_user_password_reset()->set_password_hash(c.new_hash);
  return one(std::move(e));
}

Result<Events> decide_grant(const State& state, const GrantRole& c) {
  if (!state.active()) return not_active(state);
  if (!known_role(c.role)) return invalid_argument("unknown role '" + c.role + "'");
  if (state.roles.count(c.role)) return Events{};
  Envelope e;
  e.mutable_user_role_granted()->set_role(c.role);
  return one(std::move(e));
}

Result<Events> decide_revoke(const State& state, const RevokeRole& c) {
  if (!state.active()) return not_active(state);
  if (!state.roles.count(c.role)) return Events{};
  Envelope e;
  e.mutable_user_role_revoked()->set_role(c.role);
  return one(std::move(e));
}

Result<Events> decide_erase(const State& state) {
  if (!state.registered) return not_active(state);
  if (state.erased) return Events{};
  Envelope e;
  e.mutable_user_erased();
  return one(std::move(e));
}

void clear_failures(State& state) {
  state.failure_times_ms.clear();
  state.locked_until_ms = 0;
  state.locks_in_a_row = 0;
}

void add_session(State& state, Session session, int64_t at_ms) {
  // Expired sessions go when a new one comes, so a user who logs in daily for years does not
  // carry years of dead sessions.
  std::erase_if(state.sessions, [&](const Session& s) { return s.expires_at_ms <= at_ms; });
  state.sessions.push_back(std::move(session));
  if (state.sessions.size() > State::kMaxSessions)
    state.sessions.erase(state.sessions.begin(), state.sessions.end() - State::kMaxSessions);
}

void add_failure(State& state, const events::UserLoginFailed& failed, int64_t at_ms) {
  if (failed.locked_until_unix_ms() > 0) {
    state.locked_until_ms = failed.locked_until_unix_ms();
    state.locks_in_a_row++;
    state.failure_times_ms.clear();
    return;
  }
  state.failure_times_ms.push_back(at_ms);
  if (state.failure_times_ms.size() > State::kMaxFailureTimes)
    state.failure_times_ms.erase(state.failure_times_ms.begin(),
                                 state.failure_times_ms.end() - State::kMaxFailureTimes);
}

void erase_personal_data(State& state) {
  state.erased = true;
  state.password_hash.clear();
  state.roles.clear();
  state.sessions.clear();
  state.question.clear();
  state.answer_hash.clear();
  clear_failures(state);
}

}  // namespace

Result<std::vector<Envelope>> decide(const State& state, const Command& command, int64_t now_ms,
                                     const UserPolicy& policy) {
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, Register>) {
          return decide_register(state, c);
        } else if constexpr (std::is_same_v<T, LoginSucceeded>) {
          return decide_login(state, c, now_ms, policy);
        } else if constexpr (std::is_same_v<T, LoginFailed>) {
          GH_RETURN_IF_ERROR(check_login(state));
          return one(login_failed(kReasonPassword));
        } else if constexpr (std::is_same_v<T, Logout>) {
          return decide_logout(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, ChangePassword>) {
          return decide_change(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, SetSecurityQuestion>) {
          return decide_question(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, ResetPassword>) {
          return decide_reset(state, c);
        } else if constexpr (std::is_same_v<T, GrantRole>) {
          return decide_grant(state, c);
        } else if constexpr (std::is_same_v<T, RevokeRole>) {
          return decide_revoke(state, c);
        } else {
          return decide_erase(state);
        }
      },
      command);
}

void apply(State& state, const Envelope& e) {
  const int64_t at = e.time_unix_ms();
  switch (e.event_case()) {
    case Envelope::kUserRegistered:
      state.registered = true;
      state.registered_at_ms = at;
      state.password_hash = e.user_registered().password_hash();
      state.registered_via_legacy = e.cause().channel() == kLegacyChannel;
      break;
    case Envelope::kUserLoggedIn: {
      const auto& b = e.user_logged_in();
      add_session(state, Session{b.session_sha256(), b.expires_at_unix_ms()}, at);
      clear_failures(state);
      state.last_login_ms = at;
      break;
    }
    case Envelope::kUserLoginFailed:
      add_failure(state, e.user_login_failed(), at);
      break;
    case Envelope::kUserLoggedOut: {
      const auto& sha256 = e.user_logged_out().session_sha256();
      std::erase_if(state.sessions, [&](const Session& s) { return s.sha256 == sha256; });
      break;
    }
    case Envelope::kUserPasswordChanged: {
      const auto& b = e.user_password_changed();
      state.password_hash = b.password_hash();
      std::erase_if(state.sessions, [&](const Session& s) {
        return b.kept_session_sha256().empty() || s.sha256 != b.kept_session_sha256();
      });
      break;
    }
    case Envelope::kUserSecurityQuestionSet:
      state.question = e.user_security_question_set().question();
      state.answer_hash = e.user_security_question_set().answer_hash();
      break;
    case Envelope::kUserPasswordReset:
      state.password_hash = e.user_password_reset().password_hash();
      state.sessions.clear();
      clear_failures(state);
      break;
    case Envelope::kUserRoleGranted:
      state.roles.insert(e.user_role_granted().role());
      break;
    case Envelope::kUserRoleRevoked:
      state.roles.erase(e.user_role_revoked().role());
      break;
    case Envelope::kUserErased:
      erase_personal_data(state);
      break;
    default:
      return;  // not a user event: ignored, version untouched
  }
  state.version = e.version();
  state.updated_at_ms = at;
}

State replay(std::string_view name, const std::vector<Envelope>& events) {
  State state;
  state.name = std::string(name);
  for (const auto& e : events) apply(state, e);
  return state;
}

Status verdict(const Command& command) {
  if (std::holds_alternative<LoginFailed>(command))
    return unauthenticated(std::string(kBadCredentials));
  if (const auto* c = std::get_if<ResetPassword>(&command); c && !c->answer_ok)
    return unauthenticated(std::string(kBadAnswer));
  if (const auto* c = std::get_if<ChangePassword>(&command); c && c->by_session && !c->password_ok)
    return permission_denied(std::string(kWrongCurrentPassword));
  if (const auto* c = std::get_if<SetSecurityQuestion>(&command);
      c && !c->via_legacy && !c->session_sha256.empty() && !c->password_ok)
    return permission_denied(std::string(kWrongCurrentPassword));
  return Status::ok();
}

Status may_register(const State& state) {
  if (state.erased)
    return failed_precondition("the user name " + state.name + " was erased and cannot be reused");
  if (state.registered) return already_exists("user " + state.name + " is registered");
  return Status::ok();
}

Status may_set_question(const State& state, bool via_legacy) {
  if (!via_legacy) return state.active() ? Status::ok() : not_active(state);
  if (!state.active() || !state.registered_via_legacy || !state.question.empty() ||
      state.roles.count(std::string(kOperatorRole)) > 0)
    return permission_denied(std::string(kLegacyQuestionRefused));
  return Status::ok();
}

bool session_valid(const State& state, std::string_view session_sha256, int64_t now_ms) {
  if (!state.active() || session_sha256.size() != kTokenHashBytes) return false;
  const Session* session = find_session(state, session_sha256);
  return session && now_ms < session->expires_at_ms;
}

int64_t session_expiry(const State& state, std::string_view session_sha256) {
  const Session* session = find_session(state, session_sha256);
  return session ? session->expires_at_ms : 0;
}

bool has_role(const State& state, std::string_view role) {
  return state.active() && state.roles.count(std::string(role)) > 0;
}

Result<std::string> security_question(const State& state) {
  if (!state.active() || state.question.empty()) return no_question();
  return state.question;
}

Status no_question() { return not_found("no security question is set for this user name"); }

std::string user_stream(std::string_view name) { return "user/" + std::string(name); }

}  // namespace gh::user
