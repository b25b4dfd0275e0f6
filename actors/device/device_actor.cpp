// The device entity in the shell (actors/entity_shell.h): its decide, apply and effects,
// and what only a door has -- a command's timeout timer and callers waiting for a command
// to finish.
#include "actors/device/device_actor.h"

#include <vector>

#include "actors/entity_shell.h"
#include "events/cause.h"
#include "events/stream_name.h"

namespace gh::device {
namespace {

struct ExpireTimer {
  std::string command_id;
};
struct WaiterTimer {
  uint64_t waiter = 0;
};
struct DriftTimer {
  int64_t deadline_ms = 0;  // the drift_deadline() it was armed for
};

}  // namespace
}  // namespace gh::device

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::Recovered<gh::device::State>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::device::ExpireTimer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::device::WaiterTimer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::device::DriftTimer)

namespace gh::device {
namespace {

// A lock call parked until its command finishes (DeviceCall::wait): answered with the
// state then, or when its wait ends.
struct Waiter {
  uint64_t id = 0;
  std::string command_id;
  Callback<State> done;
};

struct DeviceEntity : entity::EntityDefaults {
  using State = device::State;
  using Call = DeviceCall;
  using Context = DeviceContext;
  struct Extra {
    std::vector<Waiter> waiters;
    uint64_t next_waiter = 1;
    std::string expiry_armed;  // command id whose timeout timer is running
    int64_t drift_armed = 0;   // drift deadline whose timer is running; 0: none
  };
  using Self = entity::Self<DeviceEntity>;
  using Shell = entity::Shell<DeviceEntity>;
  static constexpr const char* kKind = "device";

  static std::string stream(const std::string& id) { return device_stream(id); }
  static State empty(const std::string& id, const Context&) {
    State s;
    s.id = id;
    return s;
  }
  static void apply(State& state, const Envelope& e) { device::apply(state, e); }
  static void fail(Call& call, const Status& status) { call.done(status); }

  static entity::Decision decide(Self* self, const State& ahead, Call& call) {
    auto& context = *self->state.context;
    if (!call.command) return entity::Decision::answer();
    ++context.commands;
    auto decided = device::decide(ahead, *call.command, context.clock());
    if (!decided) ++context.rejections;
    return entity::Decision::of(std::move(decided));
  }

  static void describe(Call& call, AppendRequest& request) {
    request.command_id = call.command_id;
    request.cause = call.cause;
    request.blobs = std::move(call.blobs);
  }

  // Dropped pictures lose their bytes in the same write as the event that says why.
  static void after_ahead(const State& ahead, AppendRequest& request) {
    for (const auto& id : dropped_pictures(ahead, request.events))
      request.delete_blobs.push_back(picture_key(id));
  }

  static void on_durable(Self* self, Call& call, const std::vector<Envelope>& written) {
    const State& s = self->state.state;
    if (!call.command && !s.registered)
      call.done(not_found("device " + s.id + (s.removed ? " was removed" : " is not registered")));
    else if (!wait_until_finished(self, call))
      call.done(s);
    if (written.empty()) return;
    run_effects(self, written);
    answer_waiters(self);
    arm_expiry(self);
    arm_drift(self);
  }

  static void on_recovered(Self* self) {
    auto& st = self->state;
    // A command sent before a restart may be past its deadline already.
    auto deadline = pending_deadline(st.state);
    if (deadline && *deadline <= st.context->clock())
      st.queue.push_back(expire_call(st.state.pending->id));
    else
      arm_expiry(self);
    // So may a drift: the door differed while gatehouse was down.
    auto drift = drift_deadline(st.state);
    if (drift && *drift <= st.context->clock())
      st.queue.push_back(system_call(CheckDrift{}));
    else
      arm_drift(self);
  }

  // Busy while a command or a drift may still come due: passivation would lose the timer.
  static bool busy(const Self* self) {
    const auto& st = self->state;
    return !st.extra.waiters.empty() || pending_deadline(st.state).has_value() ||
           drift_deadline(st.state).has_value();
  }

  static void on_restart(Self* self, const Status& status) {
    auto& extra = self->state.extra;
    for (auto& waiter : extra.waiters) waiter.done(status);
    extra.waiters.clear();
  }

  static void on_stop(Self* self) {
    auto& st = self->state;
    for (auto& waiter : st.extra.waiters) waiter.done(st.state);
    st.extra.waiters.clear();
  }

  static caf::message_handler handlers(Self* self) {
    return {
        [self](ExpireTimer& timer) {
          auto& st = self->state;
          if (st.extra.expiry_armed == timer.command_id) st.extra.expiry_armed.clear();
          if (st.phase == entity::Phase::kBroken) return;
          Shell::submit(self, expire_call(timer.command_id));
        },
        [self](DriftTimer& timer) {
          auto& st = self->state;
          if (st.extra.drift_armed == timer.deadline_ms) st.extra.drift_armed = 0;
          if (st.phase == entity::Phase::kBroken) return;
          Shell::submit(self, system_call(CheckDrift{}));
        },
        [self](WaiterTimer& timer) {
          auto& waiters = self->state.extra.waiters;
          for (auto it = waiters.begin(); it != waiters.end(); ++it) {
            if (it->id != timer.waiter) continue;
            it->done(self->state.state);
            waiters.erase(it);
            return;
          }
        },
    };
  }

  // A command of gatehouse's own timers; nobody waits for its answer.
  static DeviceCall system_call(Command command) {
    DeviceCall call;
    call.command = std::move(command);
    call.cause = events::system_cause();
    call.done = [](Result<State>) {};
    return call;
  }

  static DeviceCall expire_call(const std::string& command_id) {
    return system_call(ExpireCommand{command_id});
  }

  // One timer per drift deadline: a stale one finds nothing due and writes nothing.
  static void arm_drift(Self* self) {
    auto& st = self->state;
    auto deadline = drift_deadline(st.state);
    if (!deadline || st.extra.drift_armed == *deadline) return;
    st.extra.drift_armed = *deadline;
    auto delay = std::max<int64_t>(0, *deadline - st.context->clock());
    self->delayed_send(self, std::chrono::milliseconds(delay + 1), DriftTimer{*deadline});
  }

  static void arm_expiry(Self* self) {
    auto& st = self->state;
    auto deadline = pending_deadline(st.state);
    if (!deadline || st.extra.expiry_armed == st.state.pending->id) return;
    st.extra.expiry_armed = st.state.pending->id;
    auto delay = std::max<int64_t>(0, *deadline - st.context->clock());
    self->delayed_send(self, std::chrono::milliseconds(delay + 1),
                       ExpireTimer{st.state.pending->id});
  }

  static void answer_waiters(Self* self) {
    auto& st = self->state;
    auto& waiters = st.extra.waiters;
    for (auto it = waiters.begin(); it != waiters.end();) {
      const auto* record = st.state.find_command(it->command_id);
      if (record && record->finished()) {
        it->done(st.state);
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A lock call whose caller waits (DeviceCall::wait) and whose command of the same action is
  // still open: parks it until the command finishes or the wait ends. False when the call is
  // to be answered now.
  static bool wait_until_finished(Self* self, Call& call) {
    if (call.wait.count() <= 0) return false;
    const auto* lock = call.command ? std::get_if<RequestLock>(&*call.command) : nullptr;
    auto& st = self->state;
    const auto* record = st.state.find_command(call.command_id);
    if (lock == nullptr || record == nullptr || record->finished() ||
        record->action != lock->action)
      return false;
    uint64_t waiter = st.extra.next_waiter++;
    st.extra.waiters.push_back({waiter, call.command_id, std::move(call.done)});
    self->delayed_send(self, call.wait, WaiterTimer{waiter});
    return true;
  }

  static void run_effects(Self* self, const std::vector<Envelope>& written) {
    auto& st = self->state;
    auto* effects = st.context->effects;
    if (!effects) return;
    bool removed = false;
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
      } else if (e.has_door_drifted()) {
        const auto& b = e.door_drifted();
        effects->drift_changed(st.id, {true, b.desired(), b.reported(), b.differs_since_ms(),
                                       b.timeout_ms(), e.time_unix_ms(), e.version()});
      } else if (e.has_door_drift_ended()) {
        const auto state = e.door_drift_ended().state();
        effects->drift_changed(st.id, {false, state, state, 0, 0, e.time_unix_ms(), e.version()});
      } else if (e.has_device_removed()) {
        removed = true;
      }
    }
    if (removed)
      effects->device_removed(st.state);
    else
      effects->publish_status(st.state);
  }
};

}  // namespace

caf::actor spawn_device_actor(caf::local_actor* spawner, std::string id, caf::actor directory,
                              std::shared_ptr<DeviceContext> context) {
  return entity::Shell<DeviceEntity>::spawn(spawner, std::move(id), std::move(directory),
                                            std::move(context));
}

}  // namespace gh::device
