// The user entity in the shell (actors/entity_shell.h). What only a user has: the hashing
// stage. A call that needs a password or answer hashed or verified goes to the hasher's
// threads first and enters the shell's queue when that is done, so hashing never holds the
// queue; the model then decides on what was verified. A verification is only used if the
// hash it checked is still the user's (in the state decided on); otherwise it is redone.
#include "actors/user/user_actor.h"

#include <unordered_map>

#include "actors/entity_shell.h"

namespace gh::user {
namespace {

// What a hashing job found out. `checked` is the stored hash it verified against: the
// outcome is only valid while that is still the user's hash.
struct HashOutcome {
  bool ok = false;       // the password or answer matched (true when none was checked)
  std::string checked;   // the stored hash verified against; empty: none (dummy, register)
  std::string new_hash;  // the hash computed (register, new password, answer)
  Status error;          // hashing failed (out of memory)
};

struct HashDone {
  uint64_t call = 0;
  std::shared_ptr<HashOutcome> outcome;
};

// A call on its way through the shell.
struct Pending {
  uint64_t id = 0;
  UserCall call;
  std::optional<HashOutcome> outcome;  // set once hashed
  std::optional<Command> command;      // what the model was asked (for its verdict)
  std::string token;                   // LoginOp: the token whose hash is being appended
};

}  // namespace
}  // namespace gh::user

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::Recovered<gh::user::State>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::user::HashDone)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::user::Pending)

namespace gh::user {
namespace {

using entity::Decision;

// Hashes `secret` into out.new_hash, or records why it could not.
void hash_into(chat::PasswordHasher& hasher, const std::string& secret, HashOutcome& out) {
  auto hash = hasher.hash(secret);
  if (!hash)
    out.error = hash.status();
  else
    out.new_hash = std::move(*hash);
}

// Verifies `secret` against `stored` (a dummy verification when there is none, so that the
// time taken does not tell), then hashes `fresh` if it matched and is not empty.
void verify_then_hash(chat::PasswordHasher& hasher, const std::string& stored,
                      const std::string& secret, const std::string& fresh, HashOutcome& out) {
  out.checked = stored;
  if (stored.empty()) {
    hasher.verify_dummy(secret);
    return;
  }
  out.ok = hasher.verify(stored, secret);
  if (out.ok && !fresh.empty()) hash_into(hasher, fresh, out);
}

bool via_legacy(const UserCall& call) { return call.cause.channel() == kLegacyChannel; }

struct UserEntity : entity::EntityDefaults {
  using State = user::State;
  using Call = Pending;
  using Context = UserContext;
  struct Extra {
    uint64_t next_id = 1;
    std::unordered_map<uint64_t, Pending> hashing;  // a job is queued or running
  };
  using Self = entity::Self<UserEntity>;
  using Shell = entity::Shell<UserEntity>;
  static constexpr const char* kKind = "user";

  static std::string stream(const std::string& name) { return user_stream(name); }
  static State empty(const std::string& name, const Context&) {
    State s;
    s.name = name;
    return s;
  }
  static void apply(State& state, const Envelope& e) { user::apply(state, e); }
  static void fail(Call& p, const Status& status) { p.call.done(status); }
  static void describe(const Call& p, AppendRequest& request) { request.cause = p.call.cause; }
  static bool busy(const Self* self) { return !self->state.extra.hashing.empty(); }

  static void on_restart(Self* self, const Status& status) {
    for (auto& [id, p] : self->state.extra.hashing) fail(p, status);
    self->state.extra.hashing.clear();
  }

  static caf::message_handler handlers(Self* self) {
    return {
        [self](UserCall& call) {
          Shell::receive(self, Pending{self->state.extra.next_id++, std::move(call), {}, {}, {}});
        },
        [self](HashDone& done) {
          auto& hashing = self->state.extra.hashing;
          auto it = hashing.find(done.call);
          if (it == hashing.end()) return;
          auto pending = std::move(it->second);
          hashing.erase(it);
          pending.outcome = std::move(*done.outcome);
          Shell::submit(self, std::move(pending));
        },
    };
  }

  // The state a verification checks against: the one decide() will see.
  static const State& current(const Self* self) {
    const auto& st = self->state;
    return st.ahead ? *st.ahead : st.state;
  }

  // Runs `job` (which fills an outcome) on a hashing thread; the outcome comes back as a
  // HashDone. Answers kUnavailable at once when the hasher's queue is full.
  template <class Job>
  static void hash_then_decide(Self* self, Pending& pending, Job job) {
    auto& st = self->state;
    auto* hasher = st.context->hasher;
    auto status = hasher->submit([handle = caf::actor_cast<caf::actor>(self), hasher,
                                  id = pending.id, job = std::move(job)] {
      auto outcome = std::make_shared<HashOutcome>();
      job(*hasher, *outcome);
      caf::anon_send(handle, HashDone{id, std::move(outcome)});
    });
    if (!status.is_ok()) {
      if (std::holds_alternative<LoginOp>(pending.call.op)) ++st.context->logins_failed;
      fail(pending, status);
      return;
    }
    st.extra.hashing.emplace(pending.id, std::move(pending));
  }

  // A call that has not been hashed yet: start the hashing it needs (true: taken), after the
  // model's own checks that need no hash -- a call they refuse must not spend one. Calls
  // that need no hash (reads, logout) go to the queue (false).
  static bool admit(Self* self, Pending& pending) {
    if (pending.outcome) return false;
    const State& durable = self->state.state;
    const State& s = current(self);
    const int64_t now = self->state.context->clock();
    return std::visit(
        [&](auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, RegisterOp>) {
            if (auto allowed = may_register(durable); !allowed.is_ok()) {
              fail(pending, allowed);
              return true;
            }
            hash_then_decide(self, pending, [password = op.password](auto& h, HashOutcome& out) {
              out.ok = true;
              hash_into(h, password, out);
            });
          } else if constexpr (std::is_same_v<T, LoginOp>) {
            // An unknown user spends one verification too: the answer takes as long.
            hash_then_decide(
                self, pending,
                [stored = s.active() ? s.password_hash : std::string(), password = op.password](
                    auto& h, HashOutcome& out) { verify_then_hash(h, stored, password, "", out); });
          } else if constexpr (std::is_same_v<T, ChangePasswordOp>) {
            if (!session_valid(durable, op.session_sha256, now)) {
              fail(pending, unauthenticated(std::string(kBadSession)));
              return true;
            }
            hash_then_decide(
                self, pending,
                [stored = s.password_hash, old = op.old_password, fresh = op.new_password](
                    auto& h, HashOutcome& out) { verify_then_hash(h, stored, old, fresh, out); });
          } else if constexpr (std::is_same_v<T, SetQuestionOp>) {
            const bool legacy = via_legacy(pending.call);
            Status allowed = may_set_question(durable, legacy);
            if (allowed.is_ok() && !op.session_sha256.empty() &&
                !session_valid(durable, op.session_sha256, now))
              allowed = unauthenticated(std::string(kBadSession));
            if (!allowed.is_ok()) {
              fail(pending, allowed);
              return true;
            }
            if (op.session_sha256.empty()) {
              hash_then_decide(self, pending, [answer = op.answer](auto& h, HashOutcome& out) {
                out.ok = true;
                hash_into(h, answer, out);
              });
            } else {
              hash_then_decide(self, pending,
                               [stored = s.password_hash, password = op.password,
                                answer = op.answer](auto& h, HashOutcome& out) {
                                 verify_then_hash(h, stored, password, answer, out);
                               });
            }
          } else if constexpr (std::is_same_v<T, ResetOp>) {
            // An unknown user or one without a question spends a verification too, and the
            // model answers it like a wrong answer: neither time nor answer tells them apart.
            hash_then_decide(
                self, pending,
                [stored = s.active() ? s.answer_hash : std::string(), answer = op.answer,
                 fresh = op.new_password](auto& h, HashOutcome& out) {
                  verify_then_hash(h, stored, answer, fresh, out);
                });
          } else {
            return false;  // ReadOp, AuthenticateOp, LogoutOp
          }
          return true;
        },
        pending.call.op);
  }

  // The hash a call's verification must still match in `s`; nullopt when it checked none.
  static std::optional<std::string> expected_hash(const State& s, const Pending& p) {
    return std::visit(
        [&](const auto& op) -> std::optional<std::string> {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, LoginOp>) {
            return s.active() ? s.password_hash : std::string();
          } else if constexpr (std::is_same_v<T, ChangePasswordOp>) {
            return s.password_hash;
          } else if constexpr (std::is_same_v<T, SetQuestionOp>) {
            if (op.session_sha256.empty()) return std::nullopt;
            return s.password_hash;
          } else if constexpr (std::is_same_v<T, ResetOp>) {
            return s.active() ? s.answer_hash : std::string();
          } else {
            return std::nullopt;
          }
        },
        p.call.op);
  }

  // The model command of a call, from what its hashing found out.
  static std::optional<Command> command_of(Self* self, Pending& p) {
    const HashOutcome* out = p.outcome ? &*p.outcome : nullptr;
    return std::visit(
        [&](auto& op) -> std::optional<Command> {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, RegisterOp>) {
            return Register{out->new_hash};
          } else if constexpr (std::is_same_v<T, LogoutOp>) {
            return Logout{op.session_sha256, op.everywhere};
          } else if constexpr (std::is_same_v<T, LoginOp>) {
            if (!out->ok) return LoginFailed{};
            p.token = new_session_token(self->state.id);
            return LoginSucceeded{chat::sha256(p.token), 0};
          } else if constexpr (std::is_same_v<T, ChangePasswordOp>) {
            return ChangePassword{out->new_hash, op.session_sha256, /*by_session=*/true, out->ok};
          } else if constexpr (std::is_same_v<T, SetQuestionOp>) {
            return SetSecurityQuestion{op.question, out->new_hash, via_legacy(p.call),
                                       op.session_sha256, out->ok};
          } else if constexpr (std::is_same_v<T, ResetOp>) {
            return ResetPassword{out->ok, out->new_hash};
          } else {
            return std::nullopt;  // a read
          }
        },
        p.call.op);
  }

  static Decision decide(Self* self, const State& ahead, Pending& p) {
    auto& context = *self->state.context;
    if (p.outcome && !p.outcome->error.is_ok()) return Decision::reject(p.outcome->error);
    if (p.outcome) {
      auto expected = expected_hash(ahead, p);
      if (expected && *expected != p.outcome->checked) {
        p.outcome.reset();  // the hash changed since: verify again
        if (!admit(self, p)) return Decision::reject(internal_error("a hashed call was queued"));
        return Decision::taken();
      }
    }
    p.command = command_of(self, p);
    if (!p.command) return Decision::answer();
    auto decision = Decision::of(user::decide(ahead, *p.command, context.clock(), context.policy));
    if (std::holds_alternative<LoginOp>(p.call.op) &&
        (decision.kind == Decision::Kind::kReject || !verdict(*p.command).is_ok()))
      ++context.logins_failed;
    if (decision.kind == Decision::Kind::kAppend) answer_before_durable(p);
    return decision;
  }

  // A wrong password or security answer is answered at once, while its UserLoginFailed (an
  // audit record that changes no decision) is still being appended: waiting for the fsync
  // would make a wrong password for an existing user answer later than one for an unknown
  // user (no event), and so tell them apart. A wrong *current* password of a change is
  // answered once durable: the caller holds a session, there is nothing to hide.
  static void answer_before_durable(Pending& p) {
    const bool early =
        std::holds_alternative<LoginOp>(p.call.op) || std::holds_alternative<ResetOp>(p.call.op);
    if (!early) return;
    Status status = verdict(*p.command);
    if (status.is_ok()) return;
    p.call.done(std::move(status));
    p.call.done = [](Result<UserReply>) {};
  }

  static void on_durable(Self* self, Pending& p, const std::vector<Envelope>& written) {
    auto& st = self->state;
    const State& s = st.state;
    UserReply r;
    r.state = &s;
    if (p.command && !written.empty()) {
      if (auto status = verdict(*p.command); !status.is_ok()) return fail(p, status);
    }
    if (auto* auth = std::get_if<AuthenticateOp>(&p.call.op)) {
      if (!session_valid(s, auth->session_sha256, st.context->clock()))
        return fail(p, unauthenticated(std::string(kBadSession)));
      r.expires_at_ms = session_expiry(s, auth->session_sha256);
    } else if (std::holds_alternative<ReadOp>(p.call.op)) {
      if (!s.active()) return fail(p, not_found("no user named " + st.id));
    } else if (std::holds_alternative<LoginOp>(p.call.op)) {
      ++st.context->logins_ok;
      r.token = p.token;
      r.expires_at_ms = session_expiry(s, chat::sha256(p.token));
    }
    p.call.done(r);
  }
};

}  // namespace

caf::actor spawn_user_actor(caf::local_actor* spawner, std::string name, caf::actor directory,
                            std::shared_ptr<UserContext> context) {
  return entity::Shell<UserEntity>::spawn(spawner, std::move(name), std::move(directory),
                                          std::move(context));
}

std::string new_session_token(const std::string& name) { return name + "." + chat::random_hex(32); }

std::string token_user(const std::string& token) {
  auto dot = token.rfind('.');
  if (dot == std::string::npos || dot == 0) return {};
  return token.substr(0, dot);
}

}  // namespace gh::user
