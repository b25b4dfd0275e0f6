// The device side of MQTT (docs/protocol.md "Devices"): one handler per topic family under
// PREFIX/devices/{id}/ — hello, availability, state, stranger — each turning a message into a
// DeviceService call; and the DeviceEffects that publish commands, the retained status and
// stranger alerts once their events are durable.
//
// Bad input (unknown sub-topic, invalid id, oversized payload, bad JSON, unknown value,
// non-image picture) and service rejections change nothing, are counted per reason, and
// are answered with an error JSON on PREFIX/devices/{id}/error. A message whose id is invalid
// is counted and dropped: there is no valid topic to answer on.
//
// Thread-safety: on_message() runs on paho's callback thread and never blocks (service
// calls are asynchronous); the effects are called from actor threads and only publish.
// All methods are safe from any thread. The service must outlive this object's use.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/device/device_service.h"
#include "adapters/codec/labelled_counter.h"
#include "adapters/mqtt/publisher.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

struct DeviceTopicsOptions {
  std::string prefix = "gatehouse";
  size_t max_payload_bytes = 64 * 1024;        // hello, availability, state
  size_t max_picture_bytes = 2 * 1024 * 1024;  // stranger
  size_t max_info_length = 128;                // each of hello's type, name, firmware
  // Messages of one door handed to the device service and not yet answered; beyond, the
  // door's further messages are refused `busy` until it catches up. A door's messages are
  // carried out one durable write at a time, so without this bound a flood from one door
  // queued in gatehouse's memory without limit (docs/reliability.md "Exhaustion").
  size_t max_pending_per_door = 1000;
  int qos = 1;
  // The URL under which a picture can be fetched (the HTTP adapter signs it). Unset: the
  // alert carries "url": null.
  std::function<std::string(const std::string& picture_id)> picture_url;
};

// The topic families we accept from devices.
enum class DeviceTopic : size_t { kHello, kAvailability, kState, kStranger, kOther, kCount };

// Why a message was refused; each is counted.
enum class Rejection : size_t {
  kUnknownTopic,     // PREFIX/devices/{id}/<word> with an unknown word, or a malformed topic
  kInvalidId,        // {id} fails is_valid_id: counted and dropped
  kTooLarge,         // payload over max_payload_bytes / max_picture_bytes
  kBadJson,          // malformed JSON, or not an object where one is required
  kBadValue,         // unknown lock state or availability, wrong field type, too long
  kBadPicture,       // not a JPEG or PNG by content
  kUnavailable,      // no service attached yet
  kServiceRejected,  // the device service refused (e.g. unregistered, auto-register off)
  kRetained,         // a retained message on any device input topic
  kRateLimited,      // a picture over its door's devices.max-pictures-per-minute
  kBusy,             // the door has max_pending_per_door messages still being carried out
  kCount
};

std::string_view topic_family_name(DeviceTopic topic);  // "hello", ..., "other"
std::string_view rejection_name(Rejection reason);      // "unknown_topic", "invalid_id", ...

// For /metrics. Monotonic; read with relaxed loads.
struct DeviceTopicsCounters {
  codec::LabelledCounter<DeviceTopic> received;
  codec::LabelledCounter<Rejection> rejected;
  std::atomic<uint64_t> accepted{0};              // the service applied the message
  std::atomic<uint64_t> commands_sent{0};         // PREFIX/devices/{id}/command
  std::atomic<uint64_t> state_asks{0};            // GET on PREFIX/devices/{id}/command
  std::atomic<uint64_t> statuses_published{0};    // PREFIX/devices/{id}/status
  std::atomic<uint64_t> alerts_published{0};      // PREFIX/alerts/stranger
  std::atomic<uint64_t> unexpected_published{0};  // PREFIX/alerts/unexpected
  std::atomic<uint64_t> drift_published{0};       // PREFIX/alerts/drift
  std::atomic<uint64_t> errors_published{0};      // PREFIX/devices/{id}/error

  uint64_t received_of(DeviceTopic t) const { return received.get(t); }
  uint64_t rejected_of(Rejection r) const { return rejected.get(r); }
};

class DeviceTopics final : public device::DeviceEffects {
 public:
  // `publisher` (usually the MqttConnection) must outlive this object.
  DeviceTopics(Publisher& publisher, DeviceTopicsOptions options);

  // Where device messages go. Until it is set, they are refused with kUnavailable; set it
  // once the DeviceSystem exists (it needs this object as its effects first).
  void set_service(device::DeviceService* service) { service_.store(service); }

  // Also given every effect, after this object published its own (the Home Assistant topics);
  // null: none. Set before the device system starts.
  void set_follower(device::DeviceEffects* follower) { follower_.store(follower); }

  // The filters to subscribe to: PREFIX/devices/+/{hello,availability,state,stranger}.
  std::vector<std::string> subscriptions() const;

  // Handles one message from the broker. Never blocks, never throws. A retained message on
  // any device input topic is refused (kRetained): the broker would hand it to us again on
  // every resubscribe, and a planted or stale retained "UNLOCKED" would overwrite the door's
  // real report (or a picture raise the same alert) after each reconnect.
  void on_message(const std::string& topic, const std::string& payload, bool retained = false);

  // Asks door `device_id` for its lock state: "GET" on PREFIX/devices/{id}/command, which
  // the door answers with a report on its state topic. Sent after a door's hello or
  // `online`, and by the server to every registered door when its broker connection is
  // (re)established (docs/protocol.md "Presence").
  void ask_state(const std::string& device_id);
  static constexpr std::string_view kAskState = "GET";

  // ---- DeviceEffects ----
  // "LOCK" | "UNLOCK" on PREFIX/devices/{id}/command, QoS 1, not retained.
  void send_command(const std::string& device_id, device::LockAction action,
                    const std::string& command_id) override;
  // codec::to_json(state) on PREFIX/devices/{id}/status, QoS 1, retained.
  void publish_status(const device::State& state) override;
  // {alert_id, device, time, picture_id, content_type, size_bytes, url} on
  // PREFIX/alerts/stranger, QoS 1, not retained.
  void stranger_alert(const std::string& device_id, const device::Stranger& stranger) override;
  // {device, reported, desired, at, time, version} on PREFIX/alerts/unexpected, QoS 1, not
  // retained.
  void unexpected_report(const std::string& device_id,
                         const device::UnexpectedReport& report) override;
  // codec::to_json(device_id, change) on PREFIX/alerts/drift, QoS 1, not retained: a drift
  // began ("drifting": true) or ended (false).
  void drift_changed(const std::string& device_id, const device::DriftChange& change) override;
  // Clears the door's retained status (an empty retained message on PREFIX/devices/{id}/status,
  // which MQTT defines as deleting it): the door is gone from every status subscriber.
  void device_removed(const device::State& state) override;

  const DeviceTopicsCounters& counters() const { return counters_; }
  const DeviceTopicsOptions& options() const { return options_; }

  // Topic names, for tests and the docs.
  std::string device_topic(const std::string& id, std::string_view word) const;
  std::string alert_topic() const;
  std::string unexpected_topic() const;  // PREFIX/alerts/unexpected
  std::string drift_topic() const;       // PREFIX/alerts/drift

 private:
  void on_hello(const std::string& id, const std::string& payload);
  void on_availability(const std::string& id, const std::string& payload);
  void on_state(const std::string& id, const std::string& payload);
  void on_stranger(const std::string& id, std::string payload);

  // Counts `reason` and answers on PREFIX/devices/{id}/error with error_reply(status) plus
  // the offending topic.
  void reject(const std::string& id, std::string_view word, Rejection reason, const Status& status);
  // The callback for a service call from `word` of device `id`.
  template <class T>
  device::Callback<T> answer(const std::string& id, std::string_view word);
  // The service, counting one message of `id` pending until its answer() runs; or null,
  // after rejecting it (no service yet, or the door is busy).
  device::DeviceService* service_or_reject(const std::string& id, std::string_view word);
  // `done`, then ask_state(id) when the call succeeded.
  device::Callback<device::State> then_ask_state(const std::string& id,
                                                 device::Callback<device::State> done);

  // Counts one more message of `id` in the service; false (nothing counted) when it has
  // max_pending_per_door already. done_pending() when its answer comes.
  bool add_pending(const std::string& id);
  void done_pending(const std::string& id);

  Publisher& publisher_;
  const DeviceTopicsOptions options_;
  std::mutex pending_mu_;
  std::unordered_map<std::string, size_t> pending_;  // doors with messages in the service
  std::atomic<device::DeviceService*> service_{nullptr};
  std::atomic<device::DeviceEffects*> follower_{nullptr};
  DeviceTopicsCounters counters_;
};

}  // namespace gh::mqtt_adapter
