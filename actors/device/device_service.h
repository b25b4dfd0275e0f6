// What the adapters (MQTT, HTTP) call to reach devices, and what devices call back.
// This header has no CAF in it: adapters stay cheap to compile and never touch actors or
// RocksDB directly. The implementation (device_system.h) routes each call to the device's
// actor through the directory; callbacks run on an actor's thread and must not block.
//
// Every call that changes state answers only after its events are durable.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "actors/device/device_audit.h"
#include "actors/device/device_model.h"
#include "events/status.h"

namespace gh::device {

template <class T>
using Callback = std::function<void(Result<T>)>;

// A picture a device uploaded; the adapter has checked type and size and named it.
struct Picture {
  std::string id;  // content hash, hex
  std::string content_type;
  std::string bytes;
};

// A LOCK/UNLOCK fan-out result for one device.
struct FanOut {
  std::string device_id;
  Result<CommandRecord> command;
};

class DeviceService {
 public:
  virtual ~DeviceService() = default;

  // ---- from devices (cause: the device, channel "mqtt") ----
  // kFailedPrecondition when the device is unknown and auto-registration is off.
  virtual void hello(const std::string& id, DeviceInfo info, Callback<State> done) = 0;
  virtual void set_availability(const std::string& id, bool online, Callback<State> done) = 0;
  virtual void report_state(const std::string& id, LockState state, Callback<State> done) = 0;
  // Stores the picture with the event and raises the alert; answers with the stranger.
  virtual void report_stranger(const std::string& id, Picture picture, Callback<Stranger> done) = 0;

  // ---- from people and operators ----
  // kAlreadyExists when the device is registered.
  virtual void provision(const std::string& id, DeviceInfo info, events::Cause cause,
                         Callback<State> done) = 0;
  // Starts a LOCK/UNLOCK command. `command_id` empty: one is generated. A repeated id
  // answers with that command's current record and starts nothing.
  virtual void request_lock(const std::string& id, LockAction action, std::string command_id,
                            events::Cause cause, Callback<CommandRecord> done) = 0;
  // request_lock, answered once the command finishes, or with its current record after
  // `wait`: one visit to the door where request_lock and a wait would be two. A repeated
  // `command_id` waits for the original command; one for another action, or a `wait` of 0,
  // answers at once as request_lock does.
  virtual void request_lock_and_wait(const std::string& id, LockAction action,
                                     std::string command_id, events::Cause cause,
                                     std::chrono::milliseconds wait,
                                     Callback<CommandRecord> done) = 0;
  // The live state; kNotFound when the device is not registered.
  virtual void get(const std::string& id, Callback<State> done) = 0;
  // Marks stranger alert `alert_id` of the door reviewed by `cause` (device_model.h
  // ReviewAlert): kNotFound when it is not one of the door's unreviewed alerts.
  virtual void review_alert(const std::string& id, const std::string& alert_id, events::Cause cause,
                            Callback<State> done) = 0;
  // Removes registered device `id` for operator `cause` (device_model.h RemoveDevice):
  // answers with its state after removal; kFailedPrecondition when it is not registered.
  // The broker credential is the caller's to revoke (credential_registry.h).
  virtual void remove(const std::string& id, events::Cause cause, Callback<State> done) = 0;
  // LOCK/UNLOCK every registered device.
  virtual void request_lock_all(LockAction action, events::Cause cause,
                                Callback<std::vector<FanOut>> done) = 0;

  // ---- read straight from the log (no actor is spawned) ----
  // Registered device ids after `after` (exclusive), ascending, at most `limit`.
  virtual Result<std::vector<std::string>> list(const std::string& after, size_t limit) = 0;
  // Audit trail of lock commands, oldest first.
  virtual Result<std::vector<AuditEntry>> history(const std::string& id) = 0;
  // Every event of the door, oldest first (device_alerts.h derives its alerts and timeline);
  // empty when the door has none.
  virtual Result<std::vector<Envelope>> events(const std::string& id) = 0;
  // The state as it was after `version` (0: latest) or at time `at_ms` (0: ignore).
  virtual Result<State> state_at(const std::string& id, uint64_t version, int64_t at_ms) = 0;
  // The bytes of a stored picture; kNotFound if unknown, or dropped (over its door's quota
  // or past the retention: the message says so).
  virtual Result<std::string> picture(const std::string& picture_id) = 0;
};

// Calls `start(callback)` and waits for the callback. For threads that may block (HTTP
// workers, tests); never from an actor.
template <class T, class Start>
Result<T> wait_for(Start&& start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> result) { promise->set_value(std::move(result)); });
  return future.get();
}

// A drift that began (DoorDrifted) or ended (DoorDriftEnded), as the effects hand it on.
struct DriftChange {
  bool drifting = true;  // false: the drift ended
  LockState desired = events::LOCK_STATE_UNKNOWN;
  LockState reported = events::LOCK_STATE_UNKNOWN;
  int64_t differs_since_ms = 0;  // unix ms when reported stopped matching desired
  int64_t timeout_ms = 0;        // the command timeout it outlasted (0 when it ended)
  int64_t at_ms = 0;             // unix ms of the event
  uint64_t version = 0;          // stream version of the event
};

// Effects of device events, published only after the events are durable. Implemented by
// the MQTT adapter. Called from actor threads: implementations must not block.
class DeviceEffects {
 public:
  virtual ~DeviceEffects() = default;
  // Send LOCK/UNLOCK to the device (QoS 1).
  virtual void send_command(const std::string& device_id, LockAction action,
                            const std::string& command_id) = 0;
  // The device's retained status changed.
  virtual void publish_status(const State& state) = 0;
  // A stranger was seen: raise the alert.
  virtual void stranger_alert(const std::string& device_id, const Stranger& stranger) = 0;
  // A lock state report no command explained was recorded: raise the alert. Listeners that
  // raise no alerts (the browser's event stream) may keep this default, which does nothing.
  virtual void unexpected_report(const std::string& device_id, const UnexpectedReport& report) {
    (void)device_id;
    (void)report;
  }
  // A drift began or ended (docs/protocol.md "Drift"). Default: nothing.
  virtual void drift_changed(const std::string& device_id, const DriftChange& change) {
    (void)device_id;
    (void)change;
  }
  // An operator removed the door (DeviceRemoved); `state` is its state after removal. Called
  // instead of publish_status for that write. Default: nothing.
  virtual void device_removed(const State& state) { (void)state; }
};

}  // namespace gh::device
