// The user entity (stream user/<name>) as two pure functions: decide(state, command) ->
// events | rejection, and apply(state, event). No CAF, no I/O, no clock (time is an
// argument) and no hashing: the actor hashes passwords and answers off the scheduler threads
// and tells the model what it computed or verified. Shared by the actor, gatehousectl and
// the tests. Thread-compatible.
//
// Login flow: the actor verifies the password off-thread (an unknown user costs a dummy
// verification, so the time taken does not tell), then decides LoginSucceeded or
// LoginFailed. There is no account lock: a lock that anyone can trigger with five wrong
// passwords is a weapon against the account's owner. Guessing is limited before any hash is
// spent, per source and per account, with back-off per (account, source)
// (actors/chat/login_throttle.h); failures are still recorded here (UserLoginFailed) for
// the audit. Locks written by older versions (locked_until_unix_ms) replay into the state
// for the record but no longer refuse anything.
//
// Origin: a user registered over the legacy topics (the UserRegistered envelope's cause has
// channel kLegacyChannel) may set a first security question over the same topics, which
// have no session and no password; nobody else may ever have a question set that way.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/user/user_rules.h"
#include "events/event.pb.h"
#include "events/status.h"

namespace gh::user {

using events::Envelope;

inline constexpr size_t kTokenHashBytes = 32;                  // SHA-256
inline constexpr size_t kMaxHashBytes = 512;                   // a crypto_pwhash_str string is ~100
inline constexpr std::string_view kOperatorRole = "operator";  // may see and command devices
// The roles GrantRole accepts: a typo in gatehousectl must not grant a role nobody checks.
inline constexpr std::string_view kKnownRoles[] = {kOperatorRole};
// The one answer to a wrong password, an unknown user and an erased user alike.
inline constexpr std::string_view kBadCredentials = "wrong user name or password";
// The one answer to a password reset that fails: unknown user, no question, wrong answer.
inline constexpr std::string_view kBadAnswer = "wrong user name or security answer";
// The one answer to a legacy set_security_question that is not allowed, whatever the reason
// (unknown user, not registered over the legacy topics, a question already set, operator).
inline constexpr std::string_view kLegacyQuestionRefused =
    "a security question can be set here only once, for a user registered on these topics";
// Cause.channel of the legacy (seed) protocol: users registered with it are legacy users.
inline constexpr std::string_view kLegacyChannel = "legacy";
// The one answer to a session that is unknown, expired or ended.
inline constexpr std::string_view kBadSession = "unknown, expired or ended session";
// The answer to a change (password, security question) whose current password is wrong.
inline constexpr std::string_view kWrongCurrentPassword = "the current password is wrong";
inline constexpr std::string_view kReasonPassword = "password";
inline constexpr std::string_view kReasonSecurityAnswer = "security_answer";

// Configuration of decide(); apply() never needs it.
struct UserPolicy {
  int64_t session_ttl_ms = 7 * 24 * 3600 * 1000LL;  // a session's longest life
};

struct Session {
  std::string sha256;  // 32 bytes: SHA-256 of the token's text
  int64_t expires_at_ms = 0;
};

struct State {
  std::string name;  // the stream's name; validated by Register
  bool registered = false;
  int64_t registered_at_ms = 0;
  std::string password_hash;  // crypto_pwhash_str output, as the actor computed it
  std::set<std::string> roles;
  // Unexpired sessions as of the last login, oldest first, at most kMaxSessions: a login
  // beyond that ends the oldest one.
  std::vector<Session> sessions;
  // For the record (gatehousectl): times of failed logins since the last lock or success,
  // oldest first, at most kMaxFailureTimes; and the lock of older versions, which no longer
  // refuses anything.
  std::vector<int64_t> failure_times_ms;
  int64_t locked_until_ms = 0;
  uint32_t locks_in_a_row = 0;
  // The UserRegistered event's cause had channel kLegacyChannel. False for users registered
  // before the channel was recorded.
  bool registered_via_legacy = false;
  std::string question;     // empty: no security question set
  std::string answer_hash;  // crypto_pwhash_str output of normalise_answer(answer)
  bool erased = false;      // final: the name can never be registered again
  int64_t last_login_ms = 0;
  uint64_t version = 0;  // version of the last applied event
  int64_t updated_at_ms = 0;

  static constexpr size_t kMaxSessions = 16;
  static constexpr size_t kMaxFailureTimes = 32;
  // A live user: registered and not erased.
  bool active() const { return registered && !erased; }
};

// ---- commands ----
struct Register {
  std::string password_hash;  // of a password that passed validate_password()
};
// The password was right. `expires_at_ms` 0 means now + policy.session_ttl_ms; a later time
// than that is cut to it.
struct LoginSucceeded {
  std::string session_sha256;
  int64_t expires_at_ms = 0;
};
// The password was wrong.
struct LoginFailed {};
struct Logout {
  std::string session_sha256;
  bool everywhere = false;  // end every session of the user, not only this one
};
// Every session but `keep_session_sha256` ends, so a stolen session dies with the old
// password while the person who changed it stays logged in. Empty: every session ends.
// `by_session` (the user's own change): `keep_session_sha256` must be a live session and
// `password_ok` says whether the current password verified; a wrong one is recorded as a
// failed login and answered kPermissionDenied (verdict()).
struct ChangePassword {
  std::string new_hash;
  std::string keep_session_sha256;
  bool by_session = false;
  bool password_ok = true;
};
struct SetSecurityQuestion {
  std::string question;     // passes validate_question()
  std::string answer_hash;  // of normalise_answer(answer)
  // Asked over the legacy topics (no session, no password): see may_set_question().
  bool via_legacy = false;
  // Asked by the user with a session and the current password (not via_legacy):
  // `session_sha256` must be live and `password_ok` true; a wrong password is recorded as a
  // failed login and answered kPermissionDenied (verdict()). Empty session: an operator.
  std::string session_sha256 = {};
  bool password_ok = true;
};
// The actor verified the answer off-thread (a dummy verification when the user is unknown
// or has no question): `answer_ok` is the outcome. A wrong answer is recorded as a failed
// login; a reset ends every session.
struct ResetPassword {
  bool answer_ok = false;
  std::string new_hash;
};
struct GrantRole {
  std::string role;
};
struct RevokeRole {
  std::string role;
};
struct Erase {};
using Command = std::variant<Register, LoginSucceeded, LoginFailed, Logout, ChangePassword,
                             SetSecurityQuestion, ResetPassword, GrantRole, RevokeRole, Erase>;

// The events `command` produces against `state` at `now_ms` (none when nothing changes:
// granting a held role, revoking a missing one, logging out an unknown session, erasing an
// erased user), or a rejection:
// - kInvalidArgument: bad user name (Register), empty or oversized hash, session hash not
//   32 bytes, expiry not after now, bad question, a role not in kKnownRoles (GrantRole);
// - kTooLarge: a security question longer than kMaxQuestionBytes;
// - kAlreadyExists: Register of a registered name;
// - kFailedPrecondition: Register of an erased name;
// - kUnauthenticated (message kBadCredentials): LoginSucceeded/LoginFailed for a user that
//   is not active, so an unknown user reads like a wrong password; (message kBadAnswer)
//   ResetPassword for a user that is not active or has no question, so those read like a
//   wrong answer;
// - kPermissionDenied (message kLegacyQuestionRefused): SetSecurityQuestion via_legacy
//   refused by may_set_question();
// - kUnauthenticated (message kBadSession): Logout of a session that is not live;
//   ChangePassword by_session or SetSecurityQuestion with a session that is not live;
// - kNotFound: any other command for a user that is not active.
// Some commands are refused *and* recorded (a wrong password or answer writes
// UserLoginFailed): decide() returns the events, verdict() the answer.
Result<std::vector<Envelope>> decide(const State& state, const Command& command, int64_t now_ms,
                                     const UserPolicy& policy = {});

// The answer to `command` once the events decide() gave for it are durable: OK, or the
// refusal those events record -- kUnauthenticated kBadCredentials (LoginFailed),
// kUnauthenticated kBadAnswer (ResetPassword with a wrong answer), kPermissionDenied
// kWrongCurrentPassword (ChangePassword or SetSecurityQuestion with a wrong password).
Status verdict(const Command& command);

// Whether `name` may be registered now: kFailedPrecondition for an erased name,
// kAlreadyExists for a registered one. The actor asks before hashing; decide() again.
Status may_register(const State& state);

// Folds one stored event into `state`. Total: an event that does not concern users is
// ignored; never fails on replay.
void apply(State& state, const Envelope& event);

// The state after `events` from an empty state for user `name`.
State replay(std::string_view name, const std::vector<Envelope>& events);

// Whether a security question may be set now. Over the legacy topics (`via_legacy`), which
// have no session and no password, only for an active user registered over them
// (registered_via_legacy), without a question yet and without the operator role:
// otherwise kPermissionDenied with kLegacyQuestionRefused, one answer whatever the reason.
// Otherwise (the caller proved the session and the password) for any active user, else
// kNotFound. The actor asks this before hashing the answer; decide() asks it again.
Status may_set_question(const State& state, bool via_legacy);

// True when the user is active and has a session with this hash that has not expired at
// `now_ms`. Every session's hash is compared in full, so the time taken does not reveal how
// much of a guess matched.
bool session_valid(const State& state, std::string_view session_sha256, int64_t now_ms);
// When the session with this hash ends (unix ms); 0 when the state has no such session.
int64_t session_expiry(const State& state, std::string_view session_sha256);

// True when the user is active and holds `role`.
bool has_role(const State& state, std::string_view role);

// The security question, or no_question() when the user is not active or has set none: the
// two cannot be told apart.
Result<std::string> security_question(const State& state);
// kNotFound with one message for unknown and question-less users alike.
Status no_question();

// "user/<name>"; the caller has validated `name`.
std::string user_stream(std::string_view name);

}  // namespace gh::user
