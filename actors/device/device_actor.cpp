#include "actors/device/device_actor.h"

#include <list>
#include <vector>

#include "actors/directory.h"
#include "actors/entity_steps.h"
#include "events/stream_name.h"

namespace gh::device {
namespace {

struct ExpireTimer {
  std::string command_id;
};
struct WaiterTimer {
  uint64_t waiter = 0;
};

}  // namespace
}  // namespace gh::device

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::Recovered<gh::device::State>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::device::ExpireTimer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::device::WaiterTimer)

namespace gh::device {

using Recovered = entity::Recovered<State>;
using entity::AppendDone;

struct Waiter {
  uint64_t id = 0;
  std::string command_id;
  Callback<CommandRecord> done;
};

enum class Phase { kRecovering, kReady, kBroken };

// Appends one device may have in flight. Each is decided on the state including the ones
// before it; the journal's expected-version check makes that safe (if one fails, every
// later one conflicts, and the actor restarts from the log).
constexpr size_t kMaxInFlight = 16;

struct DeviceActorState {
  std::string id;
  std::string stream;  // device/<id>
  caf::actor directory;
  std::shared_ptr<DeviceContext> context;
  Phase phase = Phase::kRecovering;
  Status broken;       // why the stream cannot be served (kBroken)
  State state;         // durable: what replies, effects, waiters and snapshots see
  Boxed<State> ahead;  // `state` plus the events in flight; only while appends are
  uint64_t snapshot_version = 0;
  std::list<DeviceCall> queue;        // not yet decided; usually empty (a list allocates nothing)
  std::list<DeviceCall> in_flight;    // appended, not yet durable, oldest first
  std::vector<WaitCall> early_waits;  // arrived before recovery finished
  std::vector<Waiter> waiters;
  uint64_t next_waiter = 1;
  std::string expiry_armed;  // command id whose timeout timer is running
  bool stop_requested = false;
  static inline const char* name = "device";
};

namespace {

using Self = caf::stateful_actor<DeviceActorState>;

void pump(Self* self);

void start_recovery(Self* self) {
  auto& st = self->state;
  st.phase = Phase::kRecovering;
  bool queued = entity::start_loading<State>(caf::actor_cast<caf::actor>(self), st.context, st.id);
  if (!queued) {
    st.phase = Phase::kBroken;
    st.broken = unavailable("too many devices recovering at once; retry");
  }
}

void arm_expiry(Self* self) {
  auto& st = self->state;
  auto deadline = pending_deadline(st.state);
  if (!deadline || st.expiry_armed == st.state.pending->id) return;
  st.expiry_armed = st.state.pending->id;
  auto delay = std::max<int64_t>(0, *deadline - st.context->clock());
  self->delayed_send(self, std::chrono::milliseconds(delay + 1), ExpireTimer{st.state.pending->id});
}

void answer_waiters(Self* self) {
  auto& st = self->state;
  auto& waiters = st.waiters;
  for (auto it = waiters.begin(); it != waiters.end();) {
    const auto* record = st.state.find_command(it->command_id);
    if (record && record->finished()) {
      it->done(*record);
      it = waiters.erase(it);
    } else {
      ++it;
    }
  }
}

void add_waiter(Self* self, WaitCall& call) {
  auto& st = self->state;
  const auto* record = st.state.find_command(call.command_id);
  if (!record) {
    call.done(not_found("no command " + call.command_id + " on device " + st.id));
    return;
  }
  if (record->finished() || call.timeout.count() <= 0) {
    call.done(*record);
    return;
  }
  uint64_t waiter = st.next_waiter++;
  st.waiters.push_back({waiter, call.command_id, std::move(call.done)});
  self->delayed_send(self, call.timeout, WaiterTimer{waiter});
}

void run_effects(Self* self, const std::vector<Envelope>& written) {
  auto& st = self->state;
  auto* effects = st.context->effects;
  if (!effects) return;
  for (const auto& e : written) {
    if (e.has_lock_command_sent()) {
      const auto* record = st.state.find_command(e.lock_command_sent().command_id());
      if (record) effects->send_command(st.id, record->action, record->id);
    } else if (e.has_stranger_seen() && st.state.last_stranger) {
      effects->stranger_alert(st.id, *st.state.last_stranger);
    } else if (e.has_lock_state_unexpected()) {
      UnexpectedReport report{e.lock_state_unexpected().reported(),
                              e.lock_state_unexpected().desired_at_the_time(), e.time_unix_ms(),
                              e.version()};
      effects->unexpected_report(st.id, report);
    }
  }
  effects->publish_status(st.state);
}

void maybe_snapshot(Self* self) {
  auto& st = self->state;
  entity::maybe_snapshot(st.context, st.state, st.snapshot_version);
}

// Answers everything still queued with `status` (the actor is going away or is broken).
void fail_queue(Self* self, const Status& status) {
  auto& st = self->state;
  for (auto& call : st.queue) call.done(status);
  st.queue.clear();
  for (auto& wait : st.early_waits) wait.done(status);
  st.early_waits.clear();
}

void on_recovered(Self* self, Recovered& recovered) {
  auto& st = self->state;
  if (!recovered.result->is_ok()) {
    st.phase = Phase::kBroken;
    st.broken = recovered.result->status();
    fail_queue(self, st.broken);
    pump(self);  // quits if a stop is pending
    return;
  }
  st.state = std::move(recovered.result->value());
  st.snapshot_version = st.state.version;
  st.phase = Phase::kReady;
  auto early = std::move(st.early_waits);
  st.early_waits.clear();
  for (auto& wait : early) add_waiter(self, wait);
  // A command sent before a restart may be past its deadline already.
  if (auto deadline = pending_deadline(st.state); deadline && *deadline <= st.context->clock()) {
    DeviceCall expire;
    expire.command = ExpireCommand{st.state.pending->id};
    expire.cause.set_kind(events::Cause::SYSTEM);
    expire.cause.set_channel("system");
    expire.done = [](Result<State>) {};
    st.queue.push_front(std::move(expire));
  } else {
    arm_expiry(self);
  }
  pump(self);
}

// Ends the actor after a failed or inconsistent append: every call not yet answered gets
// `status`; the next message spawns a fresh actor that recovers the truth from the log.
void restart(Self* self, const Status& status) {
  auto& st = self->state;
  for (auto& call : st.in_flight) call.done(status);
  st.in_flight.clear();
  fail_queue(self, status);
  for (auto& waiter : st.waiters) waiter.done(status);
  st.waiters.clear();
  self->quit(caf::sec::runtime_error);
}

void on_appended(Self* self, AppendDone& done) {
  auto& st = self->state;
  auto call = std::move(st.in_flight.front());
  st.in_flight.pop_front();
  auto& result = *done.result;
  if (!result.is_ok()) {
    // The log is the truth and we no longer know it: answer, then end.
    ++st.context->rejections;
    call.done(result.status());
    restart(self, unavailable("device " + st.id +
                              " is restarting after a failed write: " + result.status().message()));
    return;
  }
  if (result->duplicate) {
    // Written before (the command fell out of `recent`): nothing new is durable. Appends
    // decided after it assumed its events; they are void, so start again from the log.
    call.done(st.state);
    if (!st.in_flight.empty()) {
      restart(self, unavailable("device " + st.id + " is reloading; retry"));
      return;
    }
    st.ahead.reset();
    pump(self);
    return;
  }
  for (const auto& e : result->events) apply(st.state, e);
  if (st.in_flight.empty()) st.ahead.reset();
  call.done(st.state);
  run_effects(self, result->events);
  answer_waiters(self);
  arm_expiry(self);
  maybe_snapshot(self);
  pump(self);
}

void start_append(Self* self, DeviceCall call, std::vector<Envelope> events) {
  auto& st = self->state;
  if (!st.ahead) st.ahead = st.state;
  AppendRequest request;
  request.stream = st.stream;
  request.expected_version = st.ahead->version;
  request.command_id = call.command_id;
  request.cause = call.cause;
  request.time_unix_ms = st.context->clock();
  // The speculative state sees the events as the journal will stamp them.
  for (auto& e : events) {
    e.set_stream(st.stream);
    e.set_version(st.ahead->version + 1);
    e.set_time_unix_ms(request.time_unix_ms);
    e.set_command_id(call.command_id);
    *e.mutable_cause() = call.cause;
    apply(*st.ahead, e);
  }
  // Dropped pictures lose their bytes in the same write as the event that says why.
  for (const auto& id : dropped_pictures(*st.ahead, events))
    request.delete_blobs.push_back(picture_key(id));
  request.events = std::move(events);
  request.blobs = std::move(call.blobs);
  st.in_flight.push_back(std::move(call));
  entity::append_then_tell(*st.context->journal, caf::actor_cast<caf::actor>(self),
                           std::move(request));
}

// Decides queued calls in order, appending each that produces events without waiting for
// the ones before it (up to kMaxInFlight). A call answered without an append -- a read, a
// retry that changes nothing, a rejection -- waits until nothing is in flight, so that
// every answer shows durable state only.
void pump(Self* self) {
  auto& st = self->state;
  while (st.phase == Phase::kReady && !st.queue.empty() && st.in_flight.size() < kMaxInFlight) {
    auto& call = st.queue.front();
    if (!call.command) {
      if (!st.in_flight.empty()) return;
      if (st.state.registered)
        call.done(st.state);
      else
        call.done(not_found("device " + st.id + " is not registered"));
      st.queue.pop_front();
      continue;
    }
    const State& current = st.ahead ? *st.ahead : st.state;
    auto events = decide(current, *call.command, st.context->clock());
    if (!events || events->empty()) {
      if (!st.in_flight.empty()) return;  // decided again once the state is durable
      ++st.context->commands;
      if (!events) {
        ++st.context->rejections;
        call.done(events.status());
      } else {
        call.done(st.state);
      }
      st.queue.pop_front();
      continue;
    }
    ++st.context->commands;
    auto next = std::move(call);
    st.queue.pop_front();
    start_append(self, std::move(next), std::move(*events));
  }
  if (st.stop_requested && st.in_flight.empty() && st.phase != Phase::kRecovering) {
    fail_queue(self, unavailable("device " + st.id + " is shutting down"));
    for (auto& waiter : st.waiters) {
      const auto* record = st.state.find_command(waiter.command_id);
      if (record)
        waiter.done(*record);
      else
        waiter.done(unavailable("shutting down"));
    }
    st.waiters.clear();
    self->quit();
  }
}

bool idle(const DeviceActorState& st) {
  return (st.phase == Phase::kReady || st.phase == Phase::kBroken) && st.queue.empty() &&
         st.in_flight.empty() && st.waiters.empty() && !pending_deadline(st.state);
}

caf::behavior device_actor(Self* self, std::string id, caf::actor directory,
                           std::shared_ptr<DeviceContext> context) {
  auto& st = self->state;
  st.id = id;
  st.stream = device_stream(id);
  st.state.id = id;
  st.directory = std::move(directory);
  st.context = std::move(context);
  start_recovery(self);
  return {
      [self](DeviceCall& call) {
        auto& st = self->state;
        if (st.phase == Phase::kBroken) {
          call.done(st.broken);
          return;
        }
        st.queue.push_back(std::move(call));
        pump(self);
      },
      [self](WaitCall& call) {
        auto& st = self->state;
        if (st.phase == Phase::kBroken)
          call.done(st.broken);
        else if (st.phase == Phase::kRecovering)
          st.early_waits.push_back(std::move(call));
        else
          add_waiter(self, call);
      },
      [self](Recovered& recovered) { on_recovered(self, recovered); },
      [self](AppendDone& done) { on_appended(self, done); },
      [self](ExpireTimer& timer) {
        auto& st = self->state;
        if (st.expiry_armed == timer.command_id) st.expiry_armed.clear();
        if (st.phase == Phase::kBroken) return;
        DeviceCall expire;
        expire.command = ExpireCommand{timer.command_id};
        expire.cause.set_kind(events::Cause::SYSTEM);
        expire.cause.set_channel("system");
        expire.done = [](Result<State>) {};
        st.queue.push_back(std::move(expire));
        pump(self);
      },
      [self](WaiterTimer& timer) {
        auto& st = self->state;
        for (auto it = st.waiters.begin(); it != st.waiters.end(); ++it) {
          if (it->id != timer.waiter) continue;
          const auto* record = st.state.find_command(it->command_id);
          if (record)
            it->done(*record);
          else
            it->done(not_found("command " + it->command_id + " is gone"));
          st.waiters.erase(it);
          return;
        }
      },
      [self](stop_atom) {
        self->state.stop_requested = true;
        pump(self);
      },
      [self](idle_check_atom) {
        if (idle(self->state)) self->send(self->state.directory, idle_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_device_actor(caf::local_actor* spawner, std::string id, caf::actor directory,
                              std::shared_ptr<DeviceContext> context) {
  return spawner->spawn(device_actor, std::move(id), std::move(directory), std::move(context));
}

}  // namespace gh::device
