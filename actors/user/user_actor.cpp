#include "actors/user/user_actor.h"

#include <list>
#include <unordered_map>

#include "actors/directory.h"
#include "actors/entity_steps.h"

namespace gh::user {
namespace {

// What a hashing job found out. `checked` is the stored hash it verified against: the
// outcome is only valid while that is still the user's hash.
struct HashOutcome {
  bool ok = false;       // the password or answer matched
  std::string checked;   // the stored hash verified against; empty: none (dummy, register)
  std::string new_hash;  // the hash computed (register, new password, answer)
  Status error;          // hashing failed (out of memory)
};

// Hashes `secret` into out.new_hash, or records why it could not.
void hash_into(chat::PasswordHasher& hasher, const std::string& secret, HashOutcome& out) {
  auto hash = hasher.hash(secret);
  if (!hash)
    out.error = hash.status();
  else
    out.new_hash = std::move(*hash);
}

struct HashDone {
  uint64_t call = 0;
  std::shared_ptr<HashOutcome> outcome;
};

}  // namespace
}  // namespace gh::user

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::Recovered<gh::user::State>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::user::HashDone)

namespace gh::user {

using Recovered = entity::Recovered<State>;
using entity::AppendDone;

enum class Phase { kRecovering, kReady, kBroken };

// A call on its way: waiting for recovery, for its hash, or to be decided.
struct Pending {
  uint64_t id = 0;
  UserCall call;
  std::optional<HashOutcome> outcome;  // set once hashed (or when no hash is needed)
  std::string token;                   // LoginOp: the token whose hash is being appended
};

struct UserActorState {
  std::string user;
  std::string stream;  // user/<name>
  caf::actor directory;
  std::shared_ptr<UserContext> context;
  Phase phase = Phase::kRecovering;
  Status broken;
  State state;  // durable
  uint64_t snapshot_version = 0;
  uint64_t next_id = 1;
  std::list<Pending> arrived;                     // during recovery
  std::unordered_map<uint64_t, Pending> hashing;  // a job is queued or running
  std::list<Pending> to_decide;                   // hashed (or needing none), in order
  std::optional<Pending> in_flight;               // appended, not yet durable
  bool stop_requested = false;
  static inline const char* name = "user";
};

namespace {

using Self = caf::stateful_actor<UserActorState>;

void pump(Self* self);
void prepare(Self* self, Pending pending);

Status bad_credentials() { return unauthenticated(std::string(kBadCredentials)); }

Status bad_answer() { return unauthenticated(std::string(kBadAnswer)); }

bool via_legacy(const UserCall& call) { return call.cause.channel() == kLegacyChannel; }

int64_t session_expiry(const State& state, const std::string& sha256) {
  for (const auto& s : state.sessions)
    if (s.sha256 == sha256) return s.expires_at_ms;
  return 0;
}

void reply(Pending& pending, Result<UserReply> result) { pending.call.done(std::move(result)); }

void reply_state(Self* self, Pending& pending) {
  UserReply r;
  r.state = &self->state.state;
  reply(pending, r);
}

void start_recovery(Self* self) {
  auto& st = self->state;
  bool queued =
      entity::start_loading<State>(caf::actor_cast<caf::actor>(self), st.context, st.user);
  if (!queued) {
    st.phase = Phase::kBroken;
    st.broken = unavailable("too many users recovering at once; retry");
  }
}

void maybe_snapshot(Self* self) {
  auto& st = self->state;
  entity::maybe_snapshot(st.context, st.state, st.snapshot_version);
}

// Runs `job` (which fills an outcome) on a hashing thread; the outcome comes back as a
// HashDone. Answers kUnavailable at once when the hasher's queue is full.
template <class Job>
void hash_then_decide(Self* self, Pending pending, Job job) {
  auto& st = self->state;
  auto handle = caf::actor_cast<caf::actor>(self);
  auto* hasher = st.context->hasher;
  const uint64_t id = pending.id;
  auto status = hasher->submit([handle, hasher, id, job = std::move(job)] {
    auto outcome = std::make_shared<HashOutcome>();
    job(*hasher, *outcome);
    caf::anon_send(handle, HashDone{id, std::move(outcome)});
  });
  if (!status.is_ok()) {
    if (std::holds_alternative<LoginOp>(pending.call.op)) ++st.context->logins_failed;
    reply(pending, status);
    return;
  }
  st.hashing.emplace(id, std::move(pending));
}

void to_decide(Self* self, Pending pending, HashOutcome outcome = {}) {
  pending.outcome = std::move(outcome);
  self->state.to_decide.push_back(std::move(pending));
}

// The first stage of a call, against the durable state: answer reads, refuse what the state
// refuses without spending a hash, and start the hashing a command needs.
void prepare(Self* self, Pending pending) {
  auto& st = self->state;
  const State& s = st.state;
  const int64_t now = st.context->clock();
  std::visit(
      [&](auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, ReadOp>) {
          if (!s.active())
            reply(pending, not_found("no user named " + st.user));
          else
            reply_state(self, pending);
        } else if constexpr (std::is_same_v<T, AuthenticateOp>) {
          if (!session_valid(s, op.session_sha256, now)) {
            reply(pending, unauthenticated("unknown, expired or ended session"));
            return;
          }
          UserReply r;
          r.state = &s;
          r.expires_at_ms = session_expiry(s, op.session_sha256);
          reply(pending, r);
        } else if constexpr (std::is_same_v<T, LogoutOp>) {
          to_decide(self, std::move(pending));
        } else if constexpr (std::is_same_v<T, RegisterOp>) {
          if (s.erased) {
            reply(pending, failed_precondition("the user name " + st.user +
                                               " was erased and cannot be reused"));
          } else if (s.registered) {
            reply(pending, already_exists("user " + st.user + " is registered"));
          } else {
            hash_then_decide(self, std::move(pending),
                             [password = op.password](chat::PasswordHasher& h, HashOutcome& out) {
                               hash_into(h, password, out);
                             });
          }
        } else if constexpr (std::is_same_v<T, LoginOp>) {
          // An unknown user spends one verification too: the answer takes as long.
          hash_then_decide(self, std::move(pending),
                           [stored = s.active() ? s.password_hash : std::string(),
                            password = op.password](chat::PasswordHasher& h, HashOutcome& out) {
                             out.checked = stored;
                             if (stored.empty())
                               h.verify_dummy(password);
                             else
                               out.ok = h.verify(stored, password);
                           });
        } else if constexpr (std::is_same_v<T, ChangePasswordOp>) {
          if (!session_valid(s, op.session_sha256, now)) {
            reply(pending, unauthenticated("unknown, expired or ended session"));
          } else {
            hash_then_decide(self, std::move(pending),
                             [stored = s.password_hash, old = op.old_password,
                              fresh = op.new_password](chat::PasswordHasher& h, HashOutcome& out) {
                               out.checked = stored;
                               out.ok = h.verify(stored, old);
                               if (!out.ok) return;
                               hash_into(h, fresh, out);
                             });
          }
        } else if constexpr (std::is_same_v<T, SetQuestionOp>) {
          // Refused without spending a hash; decide() asks again once hashed.
          if (auto allowed = may_set_question(s, via_legacy(pending.call)); !allowed.is_ok()) {
            reply(pending, allowed);
          } else {
            hash_then_decide(self, std::move(pending),
                             [answer = op.answer](chat::PasswordHasher& h, HashOutcome& out) {
                               hash_into(h, answer, out);
                             });
          }
        } else if constexpr (std::is_same_v<T, ResetOp>) {
          // An unknown user or one without a question spends a verification too, and
          // decide() answers it like a wrong answer: neither time nor answer tells them apart.
          hash_then_decide(self, std::move(pending),
                           [stored = s.active() ? s.answer_hash : std::string(), answer = op.answer,
                            fresh = op.new_password](chat::PasswordHasher& h, HashOutcome& out) {
                             out.checked = stored;
                             if (stored.empty()) {
                               h.verify_dummy(answer);
                               return;
                             }
                             out.ok = h.verify(stored, answer);
                             if (!out.ok) return;
                             hash_into(h, fresh, out);
                           });
        }
      },
      pending.call.op);
  pump(self);
}

// Answers a wrong password or security answer at once, before its UserLoginFailed is
// durable, and leaves nothing to answer once it is. The event is an audit record that
// changes no decision; waiting for its fsync would make a wrong password for an existing
// user answer later than one for an unknown user (no event), and so tell them apart.
void answer_before_durable(Pending& pending, Status status) {
  reply(pending, std::move(status));
  pending.call.done = [](Result<UserReply>) {};
}

// The model command of a hashed call, decided against the durable state now. Returns the
// events to append, or answers the call itself (no events, or a rejection) and returns
// nothing; returns true in `again` when the verification is stale and must be redone.
struct Decision {
  std::vector<Envelope> events;
  bool answered = false;
  bool again = false;
};

Decision decide_call(Self* self, Pending& pending) {
  auto& st = self->state;
  const State& s = st.state;
  auto& ctx = *st.context;
  const int64_t now = ctx.clock();
  const HashOutcome& out = *pending.outcome;
  Decision d;
  auto rejected = [&](Status status) {
    reply(pending, std::move(status));
    d.answered = true;
    return d;
  };
  auto run = [&](const Command& command) {
    auto events = decide(s, command, now, ctx.policy);
    if (!events) return rejected(events.status());
    if (events->empty()) {
      reply_state(self, pending);
      d.answered = true;
      return d;
    }
    d.events = std::move(*events);
    return d;
  };
  if (!out.error.is_ok()) return rejected(out.error);
  return std::visit(
      [&](auto& op) -> Decision {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, RegisterOp>) {
          return run(Register{out.new_hash});
        } else if constexpr (std::is_same_v<T, LogoutOp>) {
          if (!session_valid(s, op.session_sha256, now))
            return rejected(unauthenticated("unknown, expired or ended session"));
          return run(Logout{op.session_sha256, op.everywhere});
        } else if constexpr (std::is_same_v<T, LoginOp>) {
          if (out.checked != (s.active() ? s.password_hash : std::string())) {
            d.again = true;
            return d;
          }
          if (!s.active()) {
            ++ctx.logins_failed;
            return rejected(bad_credentials());
          }
          if (!out.ok) {
            ++ctx.logins_failed;
            auto decided = run(LoginFailed{});
            if (!d.answered) answer_before_durable(pending, bad_credentials());
            return decided;
          }
          pending.token = new_session_token(st.user);
          auto decided = run(LoginSucceeded{chat::sha256(pending.token), 0});
          if (d.answered) ++ctx.logins_failed;
          return decided;
        } else if constexpr (std::is_same_v<T, ChangePasswordOp>) {
          if (out.checked != s.password_hash) {
            d.again = true;
            return d;
          }
          if (!session_valid(s, op.session_sha256, now))
            return rejected(unauthenticated("unknown, expired or ended session"));
          if (!out.ok) return run(LoginFailed{});
          return run(ChangePassword{out.new_hash, op.session_sha256});
        } else if constexpr (std::is_same_v<T, SetQuestionOp>) {
          return run(SetSecurityQuestion{op.question, out.new_hash, via_legacy(pending.call)});
        } else if constexpr (std::is_same_v<T, ResetOp>) {
          if (out.checked != (s.active() ? s.answer_hash : std::string())) {
            d.again = true;
            return d;
          }
          auto decided = run(ResetPassword{out.ok, out.new_hash});
          if (!out.ok && !d.answered) answer_before_durable(pending, bad_answer());
          return decided;
        } else {
          return rejected(internal_error("a read reached the decide stage"));
        }
      },
      pending.call.op);
}

// The answer to a call whose events are now durable and applied.
void answer_durable(Self* self, Pending& pending, const std::vector<Envelope>& written) {
  auto& st = self->state;
  const State& s = st.state;
  bool failed = false;
  for (const auto& e : written) failed = failed || e.has_user_login_failed();
  UserReply r;
  r.state = &s;
  if (std::holds_alternative<LoginOp>(pending.call.op)) {
    if (failed) return;  // answered before the append (answer_before_durable)
    ++st.context->logins_ok;
    r.token = pending.token;
    r.expires_at_ms = session_expiry(s, chat::sha256(pending.token));
  } else if (failed && std::holds_alternative<ChangePasswordOp>(pending.call.op)) {
    reply(pending, unauthenticated("wrong password"));
    return;
  } else if (failed && std::holds_alternative<ResetOp>(pending.call.op)) {
    return;  // answered before the append (answer_before_durable)
  }
  reply(pending, r);
}

// Ends the actor after a failed append: every call not yet answered gets `status`; the next
// message spawns a fresh actor that recovers the truth from the log.
void restart(Self* self, const Status& status) {
  auto& st = self->state;
  for (auto& p : st.arrived) reply(p, status);
  for (auto& [id, p] : st.hashing) reply(p, status);
  for (auto& p : st.to_decide) reply(p, status);
  st.arrived.clear();
  st.hashing.clear();
  st.to_decide.clear();
  self->quit(caf::sec::runtime_error);
}

void on_appended(Self* self, AppendDone& done) {
  auto& st = self->state;
  auto pending = std::move(*st.in_flight);
  st.in_flight.reset();
  auto& result = *done.result;
  if (!result.is_ok() || result->duplicate) {
    Status status =
        result.is_ok() ? internal_error("unexpected duplicate append") : result.status();
    reply(pending, status);
    restart(self, unavailable("user " + st.user +
                              " is restarting after a failed write: " + status.message()));
    return;
  }
  for (const auto& e : result->events) apply(st.state, e);
  answer_durable(self, pending, result->events);
  maybe_snapshot(self);
  pump(self);
}

void start_append(Self* self, Pending pending, std::vector<Envelope> events) {
  auto& st = self->state;
  AppendRequest request;
  request.stream = st.stream;
  request.expected_version = st.state.version;
  request.cause = pending.call.cause;
  request.time_unix_ms = st.context->clock();
  request.events = std::move(events);
  st.in_flight = std::move(pending);
  entity::append_then_tell(*st.context->journal, caf::actor_cast<caf::actor>(self),
                           std::move(request));
}

bool busy(const UserActorState& st) {
  return !st.arrived.empty() || !st.hashing.empty() || !st.to_decide.empty() ||
         st.in_flight.has_value();
}

void pump(Self* self) {
  auto& st = self->state;
  while (st.phase == Phase::kReady && !st.in_flight && !st.to_decide.empty()) {
    auto pending = std::move(st.to_decide.front());
    st.to_decide.pop_front();
    auto decision = decide_call(self, pending);
    if (decision.again) {
      pending.outcome.reset();
      prepare(self, std::move(pending));  // pumps again
      return;
    }
    if (decision.answered) continue;
    start_append(self, std::move(pending), std::move(decision.events));
  }
  if (st.stop_requested && !busy(st) && st.phase != Phase::kRecovering) self->quit();
}

void on_recovered(Self* self, Recovered& recovered) {
  auto& st = self->state;
  if (!recovered.result->is_ok()) {
    st.phase = Phase::kBroken;
    st.broken = recovered.result->status();
    for (auto& p : st.arrived) reply(p, st.broken);
    st.arrived.clear();
    pump(self);
    return;
  }
  st.state = std::move(recovered.result->value());
  st.snapshot_version = st.state.version;
  st.phase = Phase::kReady;
  auto arrived = std::move(st.arrived);
  st.arrived.clear();
  for (auto& p : arrived) prepare(self, std::move(p));
  pump(self);
}

caf::behavior user_actor(Self* self, std::string name, caf::actor directory,
                         std::shared_ptr<UserContext> context) {
  auto& st = self->state;
  st.user = name;
  st.stream = user_stream(name);
  st.state.name = name;
  st.directory = std::move(directory);
  st.context = std::move(context);
  start_recovery(self);
  return {
      [self](UserCall& call) {
        auto& st = self->state;
        Pending pending{st.next_id++, std::move(call), std::nullopt, {}};
        switch (st.phase) {
          case Phase::kBroken:
            reply(pending, st.broken);
            break;
          case Phase::kRecovering:
            st.arrived.push_back(std::move(pending));
            break;
          case Phase::kReady:
            prepare(self, std::move(pending));
            break;
        }
      },
      [self](Recovered& recovered) { on_recovered(self, recovered); },
      [self](AppendDone& done) { on_appended(self, done); },
      [self](HashDone& done) {
        auto& st = self->state;
        auto it = st.hashing.find(done.call);
        if (it == st.hashing.end()) return;
        auto pending = std::move(it->second);
        st.hashing.erase(it);
        to_decide(self, std::move(pending), std::move(*done.outcome));
        pump(self);
      },
      [self](stop_atom) {
        self->state.stop_requested = true;
        pump(self);
      },
      [self](idle_check_atom) {
        auto& st = self->state;
        if (st.phase != Phase::kRecovering && !busy(st)) self->send(st.directory, idle_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_user_actor(caf::local_actor* spawner, std::string name, caf::actor directory,
                            std::shared_ptr<UserContext> context) {
  return spawner->spawn(user_actor, std::move(name), std::move(directory), std::move(context));
}

std::string new_session_token(const std::string& name) { return name + "." + chat::random_hex(32); }

std::string token_user(const std::string& token) {
  auto dot = token.rfind('.');
  if (dot == std::string::npos || dot == 0) return {};
  return token.substr(0, dot);
}

}  // namespace gh::user
