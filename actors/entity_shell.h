// The one event-sourced shell every entity actor (device, room, user) runs in, as Akka's
// EventSourcedBehavior: a template over an entity type E that gives only its pure parts
// (empty state, decide, apply) and what to do once a call's events are durable. The shell
// owns the rest, the same way for every entity:
//
// - recovery: the state is rebuilt (snapshot + tail, Context::load) on the blocking pool;
//   calls that arrive meanwhile are parked and admitted, in order, once it is ready. A
//   recovery that fails with kUnavailable (the store unreachable for now: a PostgreSQL
//   failover) answers the parked calls with it and ends the actor, so the next call tries
//   again; so does a recovery the blocking pool had no room for (it answers the first call
//   with kUnavailable, then ends); any other failure leaves the entity answering that error
//   (a broken stream);
// - pipelining: each call is decided on the durable state plus the events still in flight
//   (`ahead`) and appended with the expected version chained after them, up to
//   E::kMaxInFlight appends at once, so a busy entity puts many calls into one fsync;
// - answers strictly in arrival order, each only once everything before it is durable: a
//   read, a rejection or a call that changes nothing waits behind the appends before it, so
//   no answer ever shows state that is not on disk;
// - snapshots every Context::snapshot_every events (on the pool, best effort);
// - passivation: idle_check_atom is answered idle_atom when nothing is queued, in flight or
//   busy (E::busy); stop_atom finishes what is in flight, then quits;
// - the failure rule: an append fails (or the log moved under us) -> that call gets the
//   journal's error, every other call held gets kUnavailable, and the actor ends; the
//   directory spawns a fresh one on the next message, which recovers the truth from the log.
//   In cluster mode an append refused with kLeaseLost (this node no longer owns the entity's
//   shard) gives every held call that same kLeaseLost answer.
//
// Every call gets exactly one answer from the shell while it lives; a call CAF drops because
// the actor is gone is answered by the caller's answer_once() guard (actors/answer_once.h).
//
// What E provides (static members; EntityDefaults gives the optional ones):
//   using State, Call, Context, Extra;     Call is the message type of a call; Extra is
//                                          entity-specific actor data (timers, waiters)
//   static constexpr const char* kKind;    "device": the actor's name and error messages
//   static constexpr size_t kMaxInFlight;  appends in flight at once
//   static std::string stream(id);         the entity's stream ("device/<id>")
//   static State empty(id, const Context&);
//   static Decision decide(Self*, const State& ahead, Call&);   pure but for counters
//   static void apply(State&, const Envelope&);
//   static void describe(const Call&, AppendRequest&);  cause, command id, blobs
//   static void on_durable(Self*, Call&, const std::vector<Envelope>& written);
//       the call's turn: everything before it and its own events (`written`, empty for a
//       read or a call that changed nothing) are durable and applied: reply, effects.
//   static void fail(Call&, const Status&);  answers a call with an error
// Optional (EntityDefaults): admit, on_recovered, after_ahead, busy, on_restart, on_stop,
// handlers, snapshot_weight -- see there.
//
// A Context has `pool` (BlockingPool*), `journal` (Journal*), `load(id)` -> Result<State>,
// `save_snapshot(state)`, `snapshot_every` (0: never) and `clock()` (unix ms).
//
// Thread-safety: everything here runs on the actor's own thread; the loading, snapshot and
// append work runs on the pool or the journal's thread and comes back as a message.
#pragma once

#include <algorithm>
#include <caf/all.hpp>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/blocking_pool.h"
#include "actors/boxed.h"
#include "actors/directory.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::entity {

// The state Context::load rebuilt for an actor.
template <class State>
struct Recovered {
  std::shared_ptr<Result<State>> result;
};

// How an append ended (durable, or the journal's error).
struct AppendDone {
  std::shared_ptr<Result<AppendResult>> result;
};

// What E::decide made of a call.
struct Decision {
  enum class Kind {
    kAppend,  // append `events`; the call's turn comes once they are durable
    kAnswer,  // nothing to write: a read, or a call that changes nothing
    kReject,  // refused with `rejection`
    kTaken,   // E took the call back (it will submit() it again, or answer it itself)
  };
  Kind kind = Kind::kAnswer;
  std::vector<Envelope> events;
  Status rejection;

  static Decision append(std::vector<Envelope> events) {
    if (events.empty()) return answer();
    Decision d;
    d.kind = Kind::kAppend;
    d.events = std::move(events);
    return d;
  }
  static Decision answer() { return {}; }
  static Decision reject(Status status) {
    Decision d;
    d.kind = Kind::kReject;
    d.rejection = std::move(status);
    return d;
  }
  static Decision taken() {
    Decision d;
    d.kind = Kind::kTaken;
    return d;
  }
  // The model's verdict: its events (none: an answer), or its rejection.
  static Decision of(Result<std::vector<Envelope>> decided) {
    if (!decided) return reject(decided.status());
    return append(std::move(*decided));
  }
};

enum class Phase { kRecovering, kReady, kBroken };

// A call that has been decided and waits for its turn: its append to be durable, or (not
// appended) everything before it.
template <class Call>
struct Slot {
  Call call;
  bool appended = false;
  Status rejection;  // not ok: the answer when its turn comes
};

template <class E>
struct ShellState {
  using State = typename E::State;
  using Call = typename E::Call;
  std::string id;
  std::string stream;
  caf::actor directory;
  std::shared_ptr<typename E::Context> context;
  Phase phase = Phase::kRecovering;
  Status broken;       // why the stream cannot be served (kBroken)
  State state;         // durable: what answers, effects and snapshots see
  Boxed<State> ahead;  // `state` plus the events in flight; kept once made
  uint64_t snapshot_version = 0;
  std::list<Call> parked;  // arrived during recovery, not yet admitted
  std::list<Call> queue;   // admitted, not yet decided, in order
  // Decided, not yet answered, in order. Lists, not deques: an empty libstdc++ deque
  // allocates 512 bytes, and 100k idle actors would pay for it.
  std::list<Slot<Call>> waiting;
  size_t appends = 0;  // slots in `waiting` with an append in flight
  bool stop_requested = false;
  typename E::Extra extra;
  static inline const char* name = E::kKind;
};

template <class E>
using Self = caf::stateful_actor<ShellState<E>>;

// The optional parts of an entity; E derives from it and hides what it needs.
struct EntityDefaults {
  struct Extra {};
  static constexpr size_t kMaxInFlight = 16;
  // A call that arrived, against the durable state: true when E took it (answered it, or
  // started work that submit()s it later); false queues it for decide.
  template <class S, class Call>
  static bool admit(S*, Call&) {
    return false;
  }
  // The state has been recovered; the queue holds nothing yet (E may submit to it).
  template <class S>
  static void on_recovered(S*) {}
  // `ahead` now includes `request`'s events (stamped as the journal will write them).
  template <class State>
  static void after_ahead(const State&, AppendRequest&) {}
  // True while E holds work of its own (a hash, a timer): no passivation, no stop yet.
  template <class S>
  static bool busy(const S*) {
    return false;
  }
  // The actor ends after a failure: answer what E holds with `status`.
  template <class S>
  static void on_restart(S*, const Status&) {}
  // The actor stops (passivation, shutdown): answer what E holds.
  template <class S>
  static void on_stop(S*) {}
  // Messages of E's own (timers, other calls).
  template <class S>
  static caf::message_handler handlers(S*) {
    return {};
  }
  // What writing a snapshot of `state` costs, in events' worth (a room: the messages it
  // holds). Snapshots then come no more often than every that many events, so writing them
  // costs O(1) per event however large the state, and replay stays as long as the state.
  template <class State>
  static uint64_t snapshot_weight(const State&) {
    return 0;
  }
};

// Writes a snapshot of `state` on the pool when context->snapshot_every events, or `weight`
// if more (EntityDefaults::snapshot_weight), have passed since `snapshot_version`, which it
// then moves up. Best effort: a full pool or a failed write only costs a longer recovery.
template <class Context, class State>
void maybe_snapshot(const std::shared_ptr<Context>& context, const State& state,
                    uint64_t& snapshot_version, uint64_t weight = 0) {
  if (context->snapshot_every == 0) return;
  const uint64_t every = std::max<uint64_t>(context->snapshot_every, weight);
  if (state.version < snapshot_version + every) return;
  snapshot_version = state.version;
  (void)context->pool->submit([context, copy = state] { context->save_snapshot(copy); });
}

template <class E>
class Shell {
 public:
  using State = typename E::State;
  using Call = typename E::Call;
  using Context = typename E::Context;
  using S = Self<E>;

  static caf::actor spawn(caf::local_actor* spawner, std::string id, caf::actor directory,
                          std::shared_ptr<Context> context) {
    return spawner->spawn(behavior, std::move(id), std::move(directory), std::move(context));
  }

  // Queues `call` for decide, behind every call admitted before it (E's own work that
  // finished, an expiry timer), and works the queue.
  static void submit(S* self, Call call) {
    self->state.queue.push_back(std::move(call));
    pump(self);
  }

  // A call that arrived: answered at once when the stream is broken, parked while
  // recovering, else admitted (E::admit) and queued. For E's own message types that turn
  // into a Call.
  static void receive(S* self, Call call) {
    auto& st = self->state;
    switch (st.phase) {
      case Phase::kBroken:
        E::fail(call, st.broken);
        // Broken for now only (the recovery pool was full): the actor ends after answering,
        // so the next call gets a fresh one that tries again, rather than this one
        // answering the overload for as long as it is asked.
        if (st.broken.code() == Code::kUnavailable) restart(self, st.broken);
        return;
      case Phase::kRecovering:
        st.parked.push_back(std::move(call));
        return;
      case Phase::kReady:
        if (!E::admit(self, call)) st.queue.push_back(std::move(call));
        pump(self);
        return;
    }
  }

  // Decides queued calls in order, appending each that produces events without waiting for
  // the ones before it (up to E::kMaxInFlight), then ends the actor if a stop is due.
  static void pump(S* self) {
    auto& st = self->state;
    while (st.phase == Phase::kReady && !st.queue.empty() && st.appends < E::kMaxInFlight) {
      Call call = std::move(st.queue.front());
      st.queue.pop_front();
      const State& current = st.ahead ? *st.ahead : st.state;
      Decision decision = E::decide(self, current, call);
      switch (decision.kind) {
        case Decision::Kind::kTaken:
          break;
        case Decision::Kind::kAppend:
          start_append(self, std::move(call), std::move(decision.events));
          break;
        case Decision::Kind::kAnswer:
        case Decision::Kind::kReject:
          st.waiting.push_back({std::move(call), false, std::move(decision.rejection)});
          answer_ready(self);
          break;
      }
    }
    if (st.stop_requested && st.waiting.empty() && st.phase != Phase::kRecovering &&
        !E::busy(self)) {
      fail_held(self, unavailable(std::string(E::kKind) + " " + st.id + " is shutting down"));
      E::on_stop(self);
      self->quit();
    }
  }

 private:
  static caf::behavior behavior(S* self, std::string id, caf::actor directory,
                                std::shared_ptr<Context> context) {
    auto& st = self->state;
    st.stream = E::stream(id);
    st.state = E::empty(id, *context);
    st.id = std::move(id);
    st.directory = std::move(directory);
    st.context = std::move(context);
    start_recovery(self);
    caf::message_handler shell{
        [self](Call& call) { receive(self, std::move(call)); },
        [self](Recovered<State>& recovered) { on_recovered(self, recovered); },
        [self](AppendDone& done) { on_appended(self, done); },
        [self](stop_atom) {
          self->state.stop_requested = true;
          pump(self);
        },
        [self](idle_check_atom) {
          auto& st = self->state;
          if (st.phase != Phase::kRecovering && st.queue.empty() && st.waiting.empty() &&
              !E::busy(self))
            self->send(st.directory, idle_atom::value);
        },
    };
    return shell.or_else(E::handlers(self));
  }

  static void start_recovery(S* self) {
    auto& st = self->state;
    auto context = st.context;
    bool queued = context->pool->submit([handle = caf::actor_cast<caf::actor>(self), context,
                                         id = st.id] {
      caf::anon_send(handle, Recovered<State>{std::make_shared<Result<State>>(context->load(id))});
    });
    if (!queued) {
      st.phase = Phase::kBroken;
      st.broken = unavailable(std::string("too many ") + E::kKind + "s recovering at once; retry");
    }
  }

  static void on_recovered(S* self, Recovered<State>& recovered) {
    auto& st = self->state;
    auto parked = std::move(st.parked);
    st.parked.clear();
    if (!recovered.result->is_ok()) {
      if (recovered.result->status().code() == Code::kUnavailable) {
        // The store could not be read just now (PostgreSQL failing over): nothing is
        // broken. The actor ends, answering what waited; the next call spawns a fresh actor
        // that recovers again, rather than this one answering the outage forever.
        st.parked = std::move(parked);
        restart(self, recovered.result->status());
        return;
      }
      st.phase = Phase::kBroken;
      st.broken = recovered.result->status();
      for (auto& call : parked) E::fail(call, st.broken);
      E::on_restart(self, st.broken);
      pump(self);  // quits if a stop is pending
      return;
    }
    st.state = std::move(recovered.result->value());
    st.snapshot_version = st.state.version;
    st.phase = Phase::kReady;
    E::on_recovered(self);
    for (auto& call : parked)
      if (!E::admit(self, call)) st.queue.push_back(std::move(call));
    pump(self);
  }

  static void start_append(S* self, Call call, std::vector<Envelope> events) {
    auto& st = self->state;
    if (!st.ahead) st.ahead = st.state;
    State& ahead = *st.ahead;
    AppendRequest request;
    request.stream = st.stream;
    request.expected_version = ahead.version;
    request.time_unix_ms = st.context->clock();
    E::describe(call, request);
    // `ahead` sees the events as the journal will stamp them.
    for (auto& e : events) {
      e.set_stream(st.stream);
      e.set_version(ahead.version + 1);
      e.set_time_unix_ms(request.time_unix_ms);
      e.set_command_id(request.command_id);
      *e.mutable_cause() = request.cause;
      E::apply(ahead, e);
    }
    request.events = std::move(events);
    E::after_ahead(ahead, request);
    st.waiting.push_back({std::move(call), true, Status::ok()});
    ++st.appends;
    st.context->journal->append(
        std::move(request), [handle = caf::actor_cast<caf::actor>(self)](Result<AppendResult> r) {
          caf::anon_send(handle, AppendDone{std::make_shared<Result<AppendResult>>(std::move(r))});
        });
  }

  // Answers the calls at the front of `waiting` that wait for nothing but their turn.
  static void answer_ready(S* self) {
    auto& st = self->state;
    static const std::vector<Envelope> kNone;
    while (!st.waiting.empty() && !st.waiting.front().appended) {
      auto slot = std::move(st.waiting.front());
      st.waiting.pop_front();
      if (slot.rejection.is_ok())
        E::on_durable(self, slot.call, kNone);
      else
        E::fail(slot.call, slot.rejection);
    }
  }

  static void on_appended(S* self, AppendDone& done) {
    auto& st = self->state;
    auto slot = std::move(st.waiting.front());
    st.waiting.pop_front();
    --st.appends;
    auto& result = *done.result;
    if (!result.is_ok()) {
      // The log is the truth and we no longer know it: answer, then start again from it.
      E::fail(slot.call, result.status());
      if (result.status().code() == Code::kLeaseLost) {
        // Cluster mode: another node owns this entity now. Every call held gets the same
        // answer (retrying here would be refused again), and the actor ends.
        restart(self, result.status());
        return;
      }
      restart(self,
              unavailable(std::string(E::kKind) + " " + st.id +
                          " is restarting after a failed write: " + result.status().message()));
      return;
    }
    if (result->duplicate) {
      // Written before (a repeated command id): nothing new is durable. Calls decided after
      // it assumed its events; they are void, so start again from the log.
      static const std::vector<Envelope> kNone;
      E::on_durable(self, slot.call, kNone);
      if (st.appends > 0) {
        restart(self, unavailable(std::string(E::kKind) + " " + st.id + " is reloading; retry"));
        return;
      }
      st.ahead.reset();
      answer_ready(self);
      pump(self);
      return;
    }
    for (const auto& e : result->events) E::apply(st.state, e);
    E::on_durable(self, slot.call, result->events);
    maybe_snapshot(st.context, st.state, st.snapshot_version, E::snapshot_weight(st.state));
    answer_ready(self);
    pump(self);
  }

  // Answers every call the shell holds with `status` (waiting, queued, parked).
  static void fail_held(S* self, const Status& status) {
    auto& st = self->state;
    for (auto& slot : st.waiting) E::fail(slot.call, status);
    st.waiting.clear();
    st.appends = 0;
    for (auto& call : st.queue) E::fail(call, status);
    st.queue.clear();
    for (auto& call : st.parked) E::fail(call, status);
    st.parked.clear();
  }

  // Ends the actor after a failed or inconsistent append; the next message spawns a fresh
  // actor that recovers the truth from the log.
  static void restart(S* self, const Status& status) {
    fail_held(self, status);
    E::on_restart(self, status);
    self->quit(caf::sec::runtime_error);
  }
};

}  // namespace gh::entity

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::AppendDone)
