// Live device updates for operators (GET /api/devices/events, Server-Sent Events): every
// door's new status, every stranger alert, drift and removal, as the web console's Doors page
// shows them.
//
// DeviceEventHub is a device::DeviceEffects: the device actors hand it each status and
// alert after the events are durable (through DeviceEffectsTee, beside the MQTT adapter),
// and it queues the update, formatted once as an SSE frame, for each open stream. An HTTP
// worker thread serves each stream and takes its frames with DeviceStream::next().
//
// Bounds and stop rules are the SseHub's (sse_hub.h): at most `max_streams` streams (the
// adapter adds as many worker threads); at most `max_buffered_bytes` queued per stream, a
// slower client is dropped ("too_slow"); stop() ends every stream ("stopping").
//
// Thread-safety: every method may be called from any thread; the DeviceEffects methods
// take a short lock and never block on a client. A DeviceStream must not outlive its hub.
// No httplib here: the server includes this header for DeviceEffectsTee; the route is
// declared in routes.h.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "actors/device/device_service.h"
#include "adapters/http/sse_hub.h"
#include "events/status.h"

namespace gh::http {

// Streams of device updates allowed at once (operators' consoles; each holds a thread).
inline constexpr size_t kMaxDeviceStreams = 8;

// One open stream of device updates.
using DeviceStream = SseStream;

class DeviceEventHub : public device::DeviceEffects {
 public:
  DeviceEventHub(size_t max_streams, size_t max_buffered_bytes, size_t max_per_caller = 0)
      : hub_(max_streams, max_buffered_bytes, "device event streams", max_per_caller) {}

  // A new stream for `caller` (a token or user; "" is not limited per caller) whose first
  // frames are `initial`. kUnavailable when max_streams are open or the hub has stopped;
  // kFailedPrecondition when `caller` holds max_per_caller streams.
  Result<std::shared_ptr<DeviceStream>> subscribe(const std::string& caller, std::string initial) {
    return hub_.subscribe(std::string(kKey), caller, std::move(initial));
  }
  // The same without a caller (not limited per caller).
  Result<std::shared_ptr<DeviceStream>> subscribe(std::string initial) {
    return subscribe(std::string(), std::move(initial));
  }

  // Commands go to devices over MQTT only: nothing to stream.
  void send_command(const std::string&, events::LockAction, const std::string&) override {}
  // "event: status", data: the device JSON (docs/protocol.md "JSON shapes").
  void publish_status(const device::State& state) override;
  // "event: stranger", data: {device, alert_id, picture_id, content_type, size_bytes,
  // seen_at}.
  void stranger_alert(const std::string& device_id, const device::Stranger& stranger) override;
  // "event: drift", data: {device, drifting, desired, reported, since, timeout_ms, at, time,
  // version} (drifting false: the drift ended; the console clears its highlight).
  void drift_changed(const std::string& device_id, const device::DriftChange& change) override;
  // "event: removed", data: the removed door's JSON (removed: true): drop it from the list.
  void device_removed(const device::State& state) override;

  // Says that the hub receives the device system's effects. Until then the route answers
  // 503, so that a console falls back to polling instead of waiting on a silent stream.
  void attach() { attached_.store(true); }
  bool attached() const { return attached_.load(); }

  // Ends every stream and refuses new ones. Idempotent.
  void stop() { hub_.stop(); }
  // Waits up to `limit` until every stream is closed; true when none is open.
  bool wait_closed(std::chrono::milliseconds limit) { return hub_.wait_closed(limit); }
  size_t open_streams() const { return hub_.open_streams(); }

 private:
  // Every stream sees every device: one key for all.
  static constexpr std::string_view kKey = "devices";
  SseHub hub_;
  std::atomic<bool> attached_{false};
};

// Hands every device effect to `first` (the MQTT adapter) and then to `second` (the HTTP
// adapter's DeviceEventHub), which can be set after the device system exists (the HTTP
// adapter is made after it) and cleared before the HTTP adapter is destroyed.
// Thread-safety: set_second() from the owner; the effects from any thread.
class DeviceEffectsTee : public device::DeviceEffects {
 public:
  explicit DeviceEffectsTee(device::DeviceEffects* first) : first_(first) {}
  void set_second(device::DeviceEffects* second) { second_.store(second); }

  void send_command(const std::string& device_id, events::LockAction action,
                    const std::string& command_id) override;
  void publish_status(const device::State& state) override;
  void stranger_alert(const std::string& device_id, const device::Stranger& stranger) override;
  void unexpected_report(const std::string& device_id,
                         const device::UnexpectedReport& report) override;
  void drift_changed(const std::string& device_id, const device::DriftChange& change) override;
  void device_removed(const device::State& state) override;

 private:
  device::DeviceEffects* const first_;
  std::atomic<device::DeviceEffects*> second_{nullptr};
};

}  // namespace gh::http
