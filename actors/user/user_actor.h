// The actor of one chat user (stream user/<name>), run by the entity shell
// (actors/entity_shell.h): recovered before its first call, appends pipelined, each call
// answered in order once it and everything before it is durable. Every business rule is the
// user model's (user_model.h decide() and verdict()); this actor adds the hashing stage: a
// call that needs a password or answer hashed or verified goes to the PasswordHasher's
// threads first and is decided when that is done, so hashing never holds the queue. A
// verification is only used if the hash it checked is still the user's; otherwise it is
// done again.
//
// One exception to "answer once durable": a wrong password at login or a wrong security
// answer at a reset is answered as soon as it is decided, while its UserLoginFailed (an
// audit record that changes no decision) is still being appended, so that it takes as long
// as an unknown user's answer, which writes nothing.
//
// A failed append ends the actor: every call it holds is answered and the directory spawns a
// fresh one on the next message, which recovers the truth from the log.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "actors/blocking_pool.h"
#include "actors/chat/password_hasher.h"
#include "actors/user/user_model.h"
#include "events/journal.h"

namespace gh::user {

// What every user actor shares. Owned by ChatSystem, outlives its actors.
struct UserContext {
  Journal* journal = nullptr;
  BlockingPool* pool = nullptr;
  chat::PasswordHasher* hasher = nullptr;
  // Rebuilds the state of user `name` (snapshot + tail). Runs on the pool.
  std::function<Result<State>(const std::string& name)> load;
  // Writes a snapshot of `state`. Runs on the pool; failures only cost a longer recovery.
  std::function<void(const State& state)> save_snapshot;
  uint64_t snapshot_every = 100;   // 0: never
  std::function<int64_t()> clock;  // unix ms
  UserPolicy policy;
  std::atomic<uint64_t> logins_ok{0};
  std::atomic<uint64_t> logins_failed{0};  // wrong password, unknown user, hashing refused
};

// ---- calls (the raw secrets travel only to the hashing thread, never into events) ----
struct RegisterOp {
  std::string password;  // passed validate_password()
};
struct LoginOp {
  std::string password;
};
// Read only: is this session valid now?
struct AuthenticateOp {
  std::string session_sha256;
};
struct LogoutOp {
  std::string session_sha256;
  bool everywhere = false;  // every session of the user ends
};
// A wrong old password: kPermissionDenied (recorded as a failed login).
struct ChangePasswordOp {
  std::string session_sha256;  // the caller's session: must be valid, is kept
  std::string old_password;
  std::string new_password;  // passed validate_password()
};
// Over the legacy topics (the call's cause has channel kLegacyChannel) the model allows
// only a first question for a user registered there (may_set_question()). Otherwise the
// user proves a live session and the current password (a wrong one: kPermissionDenied,
// recorded as a failed login; no session is started or ended).
struct SetQuestionOp {
  std::string question;             // passed validate_question()
  std::string answer;               // normalised, non-empty
  std::string session_sha256 = {};  // empty: legacy or operator, no password checked
  std::string password = {};        // the current password, with session_sha256
};
struct ResetOp {
  std::string answer;        // normalised
  std::string new_password;  // passed validate_password()
};
// Read only: the reply shows the state.
struct ReadOp {};
using Op = std::variant<RegisterOp, LoginOp, AuthenticateOp, LogoutOp, ChangePasswordOp,
                        SetQuestionOp, ResetOp, ReadOp>;

// What a call's callback sees, on the actor's thread (copy what you need, do not block).
struct UserReply {
  const State* state = nullptr;  // durable, after the call
  std::string token;             // LoginOp: the new session's token
  int64_t expires_at_ms = 0;     // LoginOp, AuthenticateOp: when the session ends
};

struct UserCall {
  Op op;
  events::Cause cause;
  std::function<void(Result<UserReply>)> done;
};

// Spawns the actor of user `name` from `spawner` (the directory), which it tells when idle.
caf::actor spawn_user_actor(caf::local_actor* spawner, std::string name, caf::actor directory,
                            std::shared_ptr<UserContext> context);

// "<name>.<64 hex digits>": the token of a new session. The user's name in front lets
// authenticate() find the user's actor without a global index; the 256 random bits are the
// secret. Only its SHA-256 is stored.
std::string new_session_token(const std::string& name);
// The user named by a token of new_session_token()'s form; empty when it has none.
std::string token_user(const std::string& token);

}  // namespace gh::user

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::user::UserCall)
