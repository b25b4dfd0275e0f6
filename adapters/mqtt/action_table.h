// The seed smart-lock server's action table (seeds/000, docs/protocol.md "MQTT: the action table"),
// part of the `legacy` protocol and off unless configured on: gatehouse subscribes to the
// configured topics (default "server"), takes the payload's first word as the action and publishes
// the answer on the topic named by that word. Built-in actions, as the seed's server:
//
//   hand_shake <device_id>                   greets a registered device (marks it online)
//   lock [device_id], unlock [device_id]     one device, or every registered one
//   find_stranger <device_id> <base64 image> stores the picture, raises the alert, answers
//                                            with the picture's link
//
// and then installed scripted actions (ActionService).
//
// hand_shake never registers a door (issue 9): anyone may publish on the legacy topics, so
// a door unknown to the log is refused (failed_precondition, nothing written, counted in
// counters().unprovisioned and logged at most once per 10 s). A new door gets its
// credential with an operator's provisioning key (provision_topics.h) or from an operator
// (POST /devices), and may then keep using hand_shake. They go through DeviceService like
// every other channel: durable, audited (cause channel "legacy"). Answers are the JSON
// envelope of docs/protocol.md ({"ok":true,...} / {"ok":false,"error":{...}}); an unknown
// word gets an error answer and nothing is stored.
//
// A word is only answered on when it is a safe topic: [A-Za-z0-9_-]{1,48} (no '/', '$',
// wildcards) and none of the topics the table listens on (no loops). Other messages are
// dropped and counted. Retained and oversized messages are dropped and counted too.
//
// A scripted action's payload is bounded far below max_payload_bytes (which a find_stranger
// picture needs): over max_script_input_bytes (actions.max-input) it is answered with
// too_large before the service is called, so no script sees it and it counts as no failure
// of the action (anyone may send it: the protocol has no authentication).
//
// Thread-safety: on_message() runs on paho's callback thread and never blocks (service calls
// are asynchronous); answers are published from actor or sandbox threads. The publisher and
// the services must outlive every call in flight.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/actions/action_service.h"
#include "actors/device/device_service.h"
#include "adapters/codec/labelled_counter.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/publisher.h"
#include "adapters/mqtt/reply_topic.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

struct ActionTableOptions {
  std::vector<std::string> topics = {"server"};  // exact topics to listen on
  std::string prefix = "gatehouse";              // mqtt.prefix, named in refusals
  size_t max_payload_bytes = 4 * 1024 * 1024;    // a base64 picture is 4/3 of its bytes
  size_t max_picture_bytes = 2 * 1024 * 1024;    // decoded find_stranger picture
  size_t max_script_input_bytes = 16 * 1024;     // a scripted action's whole payload
  int qos = 1;
  // The link of a stored picture (the HTTP adapter signs it); unset: "url": null.
  std::function<std::string(const std::string& picture_id)> picture_url;
  // Where the refusal of an unknown door's hand_shake is logged (rate-limited); empty:
  // "gatehouse: ..." on stderr.
  std::function<void(const std::string& line)> log;
};

enum class ActionWord : size_t {
  kHandShake,
  kLock,
  kUnlock,
  kFindStranger,
  kScripted,
  kUnknown,
  kCount
};

enum class ActionDrop : size_t {
  kTooLarge,    // payload over max_payload_bytes: dropped, nowhere trusted to answer
  kRetained,    // a retained request: dropped
  kUnsafeWord,  // first word is no safe reply topic (or empty): dropped
  kCount
};

std::string_view action_word_name(ActionWord word);  // "hand_shake", ..., "scripted", "unknown"
std::string_view action_drop_name(ActionDrop why);   // "too_large", "retained", "unsafe_word"

struct ActionTableCounters {
  codec::LabelledCounter<ActionWord> received;
  codec::LabelledCounter<ActionDrop> dropped;
  std::atomic<uint64_t> replies{0};  // {"ok":true,...} answers
  std::atomic<uint64_t> errors{0};   // {"ok":false,...} answers
  // hand_shake of a door the log does not know: refused, never registered (also in errors).
  std::atomic<uint64_t> unprovisioned{0};

  uint64_t received_of(ActionWord w) const { return received.get(w); }
  uint64_t dropped_of(ActionDrop d) const { return dropped.get(d); }
};

class ActionTable {
 public:
  ActionTable(Publisher& publisher, ActionTableOptions options);

  // Set once the services exist; until then every action answers kUnavailable (and scripted
  // actions are unknown).
  void set_devices(device::DeviceService* devices) { devices_.store(devices); }
  void set_actions(actions::ActionService* actions) { actions_.store(actions); }

  // Routes options.topics to on_message() on `connection`; before it starts.
  Status install(MqttConnection& connection);

  // Handles one message. Never blocks, never throws.
  void on_message(const std::string& topic, const std::string& payload, bool retained = false);

  const ActionTableCounters& counters() const { return counters_; }
  // gatehouse_mqtt_actions_received_total{word="..."}, _dropped_total{reason="..."},
  // _replies_total, _errors_total, _refused_total{reason="unprovisioned"}.
  std::vector<std::pair<std::string, double>> metrics() const;

  // Strict standard base64 (padding optional, blanks ignored); nullopt when malformed.
  static std::optional<std::string> decode_base64(std::string_view text);

 private:
  void hand_shake(const std::string& word, const std::string& args);
  void lock(const std::string& word, device::LockAction action, const std::string& args);
  void find_stranger(const std::string& word, const std::string& args);
  void scripted(const std::string& word, const std::string& topic, const std::string& payload);

  void answer(const std::string& word, const nlohmann::json& reply);
  void fail(const std::string& word, const Status& status);
  bool safe_word(std::string_view word) const;

  Publisher& publisher_;
  const ActionTableOptions options_;
  std::atomic<device::DeviceService*> devices_{nullptr};
  std::atomic<actions::ActionService*> actions_{nullptr};
  ActionTableCounters counters_;
  RateLimitedLog refusals_log_;
};

}  // namespace gh::mqtt_adapter
