#include "adapters/mqtt/device_topics.h"

#include <algorithm>
#include <cctype>

#include "adapters/codec/device_json.h"
#include "adapters/codec/image_type.h"
#include "adapters/codec/iso_time.h"
#include "adapters/codec/json_reply.h"
#include "adapters/codec/picture_id.h"
#include "adapters/mqtt/device_info_payload.h"
#include "adapters/mqtt/topic_filter.h"
#include "events/stream_name.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(DeviceTopic::kCount)> kFamilyNames = {
    "hello", "availability", "state", "stranger", "other"};

constexpr std::array<std::string_view, static_cast<size_t>(Rejection::kCount)> kRejectionNames = {
    "unknown_topic", "invalid_id",       "too_large", "bad_json",     "bad_value", "bad_picture",
    "unavailable",   "service_rejected", "retained",  "rate_limited", "busy"};

// Sub-topics we publish ourselves. A message on one of them (we do not subscribe to them,
// but an operator's wildcard bridge might route one to us) is dropped without an answer:
// answering on .../error could otherwise loop.
bool is_outbound_word(std::string_view word) {
  return word == "command" || word == "status" || word == "error";
}

// kOther for anything that is not one of our families.
DeviceTopic family_of(std::string_view word) {
  if (word == "hello") return DeviceTopic::kHello;
  if (word == "availability") return DeviceTopic::kAvailability;
  if (word == "state") return DeviceTopic::kState;
  if (word == "stranger") return DeviceTopic::kStranger;
  return DeviceTopic::kOther;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Echoing device input in an error message: keep it short so an error never outgrows the
// message that caused it.
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out = "'" + std::string(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  return out + "'";
}

}  // namespace

std::string_view topic_family_name(DeviceTopic topic) {
  return kFamilyNames[std::min(static_cast<size_t>(topic), kFamilyNames.size() - 1)];
}

std::string_view rejection_name(Rejection reason) {
  auto i = static_cast<size_t>(reason);
  return i < kRejectionNames.size() ? kRejectionNames[i] : "unknown";
}

DeviceTopics::DeviceTopics(Publisher& publisher, DeviceTopicsOptions options)
    : publisher_(publisher), options_(std::move(options)) {}

std::vector<std::string> DeviceTopics::subscriptions() const {
  std::vector<std::string> filters;
  for (std::string_view word : {"hello", "availability", "state", "stranger"}) {
    filters.push_back(options_.prefix + "/devices/+/" + std::string(word));
  }
  return filters;
}

std::string DeviceTopics::device_topic(const std::string& id, std::string_view word) const {
  return options_.prefix + "/devices/" + id + "/" + std::string(word);
}

std::string DeviceTopics::alert_topic() const { return options_.prefix + "/alerts/stranger"; }

std::string DeviceTopics::unexpected_topic() const {
  return options_.prefix + "/alerts/unexpected";
}

std::string DeviceTopics::drift_topic() const { return options_.prefix + "/alerts/drift"; }

void DeviceTopics::on_message(const std::string& topic, const std::string& payload, bool retained) {
  // PREFIX/devices/{id}/{word}: the prefix may itself contain '/', so match it as a string.
  std::string head = options_.prefix + "/devices/";
  if (!std::string_view(topic).starts_with(head)) {
    counters_.received.count(DeviceTopic::kOther);
    counters_.rejected.count(Rejection::kUnknownTopic);
    return;
  }
  auto levels = topic_levels(std::string_view(topic).substr(head.size()));
  DeviceTopic family = levels.size() == 2 ? family_of(levels[1]) : DeviceTopic::kOther;
  counters_.received.count(family);
  std::string id(levels[0]);
  if (!is_valid_id(id)) {
    counters_.rejected.count(Rejection::kInvalidId);
    return;
  }
  if (family == DeviceTopic::kOther) {
    if (levels.size() == 2 && is_outbound_word(levels[1])) {
      counters_.rejected.count(Rejection::kUnknownTopic);
      return;
    }
    std::string rest(std::string_view(topic).substr(head.size() + id.size()));
    reject(id, rest.empty() ? std::string_view() : std::string_view(rest).substr(1),
           Rejection::kUnknownTopic,
           invalid_argument("unknown device topic " + excerpt(topic) +
                            "; expected hello, availability, state or stranger"));
    return;
  }
  if (retained) {
    // The broker hands a retained message to us again on every (re)subscribe: a stale or
    // planted "UNLOCKED" would overwrite the door's real report after each reconnect.
    std::string word(topic_family_name(family));
    return reject(id, word, Rejection::kRetained,
                  invalid_argument("device messages must not be published retained (" + word +
                                   "): the broker would replay them on every reconnect"));
  }
  switch (family) {
    case DeviceTopic::kHello:
      return on_hello(id, payload);
    case DeviceTopic::kAvailability:
      return on_availability(id, payload);
    case DeviceTopic::kState:
      return on_state(id, payload);
    case DeviceTopic::kStranger:
      return on_stranger(id, payload);
    default:
      return;
  }
}

void DeviceTopics::reject(const std::string& id, std::string_view word, Rejection reason,
                          const Status& status) {
  counters_.rejected.count(reason);
  json reply = codec::error_reply(status);
  reply["topic"] = device_topic(id, word);
  reply["reason"] = std::string(rejection_name(reason));
  publisher_.publish(device_topic(id, "error"), codec::to_wire(reply), options_.qos, false);
  counters_.errors_published.fetch_add(1);
}

device::DeviceService* DeviceTopics::service_or_reject(const std::string& id,
                                                       std::string_view word) {
  device::DeviceService* service = service_.load();
  if (service == nullptr) {
    reject(id, word, Rejection::kUnavailable, unavailable("device service is starting"));
    return nullptr;
  }
  if (!add_pending(id)) {
    reject(id, word, Rejection::kBusy,
           unavailable("door " + id + " has " + std::to_string(options_.max_pending_per_door) +
                       " messages still being carried out; slow down"));
    return nullptr;
  }
  return service;
}

bool DeviceTopics::add_pending(const std::string& id) {
  std::lock_guard lock(pending_mu_);
  size_t& pending = pending_[id];
  if (pending >= options_.max_pending_per_door) return false;
  ++pending;
  return true;
}

void DeviceTopics::done_pending(const std::string& id) {
  std::lock_guard lock(pending_mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  if (--it->second == 0) pending_.erase(it);  // the map holds only doors with work in flight
}

template <class T>
device::Callback<T> DeviceTopics::answer(const std::string& id, std::string_view word) {
  // Runs on an actor thread: only counts and publishes. The success answer to a device is
  // the retained status that the effects publish, so nothing is sent here on success.
  return [this, id, word](Result<T> result) {
    done_pending(id);
    if (result.is_ok()) {
      counters_.accepted.fetch_add(1);
      return;
    }
    // Sizes are checked here before the service sees a picture: a picture the service finds
    // too large is one over its door's rate limit.
    bool rate_limited = word == "stranger" && result.status().code() == Code::kTooLarge;
    reject(id, word, rate_limited ? Rejection::kRateLimited : Rejection::kServiceRejected,
           result.status());
  };
}

void DeviceTopics::on_hello(const std::string& id, const std::string& payload) {
  constexpr std::string_view kWord = "hello";
  auto parsed =
      parse_device_info(payload, kWord, options_.max_payload_bytes, options_.max_info_length);
  if (parsed.problem != InfoProblem::kNone) {
    const auto reason = parsed.problem == InfoProblem::kTooLarge  ? Rejection::kTooLarge
                        : parsed.problem == InfoProblem::kBadJson ? Rejection::kBadJson
                                                                  : Rejection::kBadValue;
    return reject(id, kWord, reason, parsed.status);
  }
  device::DeviceInfo info = std::move(parsed.info);
  if (auto* service = service_or_reject(id, kWord)) {
    service->hello(id, std::move(info), then_ask_state(id, answer<device::State>(id, kWord)));
  }
}

void DeviceTopics::on_availability(const std::string& id, const std::string& payload) {
  constexpr std::string_view kWord = "availability";
  if (payload.size() > options_.max_payload_bytes) {
    return reject(id, kWord, Rejection::kTooLarge,
                  too_large("availability payload exceeds " +
                            std::to_string(options_.max_payload_bytes) + " bytes"));
  }
  auto text = trim(payload);
  bool online;
  if (iequals(text, "online")) {
    online = true;
  } else if (iequals(text, "offline")) {
    online = false;
  } else {
    return reject(
        id, kWord, Rejection::kBadValue,
        invalid_argument("availability must be 'online' or 'offline', got " + excerpt(text)));
  }
  if (auto* service = service_or_reject(id, kWord)) {
    auto done = answer<device::State>(id, kWord);
    service->set_availability(id, online, online ? then_ask_state(id, std::move(done)) : done);
  }
}

void DeviceTopics::on_state(const std::string& id, const std::string& payload) {
  constexpr std::string_view kWord = "state";
  if (payload.size() > options_.max_payload_bytes) {
    return reject(id, kWord, Rejection::kTooLarge,
                  too_large("state payload exceeds " + std::to_string(options_.max_payload_bytes) +
                            " bytes"));
  }
  // Plain "LOCKED" (what simple firmware sends) or {"state":"LOCKED"}.
  std::string text(trim(payload));
  if (text.starts_with('{')) {
    auto parsed = codec::parse_json(text, options_.max_payload_bytes);
    if (!parsed) {
      auto reason =
          parsed.status().code() == Code::kTooLarge ? Rejection::kTooLarge : Rejection::kBadJson;
      return reject(id, kWord, reason, parsed.status());
    }
    auto it = parsed->find("state");
    if (it == parsed->end() || !it->is_string()) {
      return reject(id, kWord, Rejection::kBadJson,
                    invalid_argument("state JSON must be {\"state\":\"LOCKED|UNLOCKED|...\"}"));
    }
    text = it->get<std::string>();
  }
  auto state = device::parse_lock_state(text);
  if (!state) {
    return reject(id, kWord, Rejection::kBadValue,
                  invalid_argument("unknown lock state " + excerpt(text) +
                                   "; expected LOCKED, UNLOCKED, LOCKING, UNLOCKING or JAMMED"));
  }
  if (auto* service = service_or_reject(id, kWord)) {
    service->report_state(id, *state, answer<device::State>(id, kWord));
  }
}

void DeviceTopics::on_stranger(const std::string& id, std::string payload) {
  constexpr std::string_view kWord = "stranger";
  if (payload.size() > options_.max_picture_bytes) {
    return reject(
        id, kWord, Rejection::kTooLarge,
        too_large("picture of " + std::to_string(payload.size()) + " bytes exceeds the limit of " +
                  std::to_string(options_.max_picture_bytes)));
  }
  auto type = codec::detect_image_type(payload);
  if (!type) {
    return reject(id, kWord, Rejection::kBadPicture,
                  invalid_argument("stranger payload must be the raw bytes of a JPEG or PNG"));
  }
  device::Picture picture;
  picture.id = codec::picture_id(payload);
  picture.content_type = std::string(*type);
  picture.bytes = std::move(payload);
  if (auto* service = service_or_reject(id, kWord)) {
    service->report_stranger(id, std::move(picture), answer<device::Stranger>(id, kWord));
  }
}

void DeviceTopics::send_command(const std::string& device_id, device::LockAction action,
                                const std::string& command_id) {
  // The seed firmware expects the bare word; the command id stays in our log (and in the
  // status JSON's "pending"), so a device need not echo it.
  (void)command_id;
  publisher_.publish(device_topic(device_id, "command"), std::string(device::action_name(action)),
                     options_.qos, false);
  counters_.commands_sent.fetch_add(1);
  if (auto* follower = follower_.load()) follower->send_command(device_id, action, command_id);
}

void DeviceTopics::ask_state(const std::string& device_id) {
  publisher_.publish(device_topic(device_id, "command"), std::string(kAskState), options_.qos,
                     false);
  counters_.state_asks.fetch_add(1);
}

device::Callback<device::State> DeviceTopics::then_ask_state(const std::string& id,
                                                             device::Callback<device::State> done) {
  return [this, id, done = std::move(done)](Result<device::State> state) {
    const bool ok = state.is_ok();
    done(std::move(state));
    if (ok) ask_state(id);
  };
}

void DeviceTopics::publish_status(const device::State& state) {
  publisher_.publish(device_topic(state.id, "status"), codec::to_wire(codec::to_json(state)),
                     options_.qos, true);
  counters_.statuses_published.fetch_add(1);
  if (auto* follower = follower_.load()) follower->publish_status(state);
}

void DeviceTopics::stranger_alert(const std::string& device_id, const device::Stranger& stranger) {
  json url = nullptr;
  if (options_.picture_url) {
    // The injected signer is the HTTP adapter's code; keep its failure out of actor threads.
    try {
      url = options_.picture_url(stranger.picture_id);
    } catch (...) {
      url = nullptr;
    }
  }
  json alert = {{"alert_id", stranger.alert_id},
                {"device", device_id},
                {"time", codec::iso8601_or_null(stranger.seen_at_ms)},
                {"picture_id", stranger.picture_id},
                {"content_type", stranger.content_type},
                {"size_bytes", stranger.size_bytes},
                {"url", url}};
  publisher_.publish(alert_topic(), codec::to_wire(alert), options_.qos, false);
  counters_.alerts_published.fetch_add(1);
  if (auto* follower = follower_.load()) follower->stranger_alert(device_id, stranger);
}

void DeviceTopics::unexpected_report(const std::string& device_id,
                                     const device::UnexpectedReport& report) {
  json alert = codec::to_json(report);
  alert["device"] = device_id;
  alert["time"] = alert["at"];
  publisher_.publish(unexpected_topic(), codec::to_wire(alert), options_.qos, false);
  counters_.unexpected_published.fetch_add(1);
  if (auto* follower = follower_.load()) follower->unexpected_report(device_id, report);
}

void DeviceTopics::drift_changed(const std::string& device_id, const device::DriftChange& change) {
  publisher_.publish(drift_topic(), codec::to_wire(codec::to_json(device_id, change)), options_.qos,
                     false);
  counters_.drift_published.fetch_add(1);
  if (auto* follower = follower_.load()) follower->drift_changed(device_id, change);
}

void DeviceTopics::device_removed(const device::State& state) {
  publisher_.publish(device_topic(state.id, "status"), "", options_.qos, true);
  counters_.statuses_published.fetch_add(1);
  if (auto* follower = follower_.load()) follower->device_removed(state);
}

}  // namespace gh::mqtt_adapter
