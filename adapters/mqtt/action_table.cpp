#include "adapters/mqtt/action_table.h"

#include <algorithm>

#include "adapters/codec/device_json.h"
#include "adapters/codec/image_type.h"
#include "adapters/codec/json_reply.h"
#include "adapters/codec/picture_id.h"
#include "events/stream_name.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(ActionWord::kCount)> kWordNames = {
    "hand_shake", "lock", "unlock", "find_stranger", "scripted", "unknown"};
constexpr std::array<std::string_view, static_cast<size_t>(ActionDrop::kCount)> kDropNames = {
    "too_large", "retained", "unsafe_word"};
constexpr size_t kMaxWord = 48;  // as action names (actors/actions/action_model.h)

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The first word and the rest, leading and trailing blanks removed.
std::pair<std::string, std::string> split(std::string_view text) {
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  size_t end = 0;
  while (end < text.size() && !blank(text[end])) ++end;
  std::string_view rest = text.substr(end);
  while (!rest.empty() && blank(rest.front())) rest.remove_prefix(1);
  return {std::string(text.substr(0, end)), std::string(rest)};
}

// The seed had no authentication: what its action table does is done by nobody in particular,
// through the legacy channel, and audited as such.
events::Cause legacy_cause() {
  events::Cause cause;
  cause.set_kind(events::Cause::KIND_UNSPECIFIED);
  cause.set_channel("legacy");
  return cause;
}

ActionWord word_of(std::string_view word) {
  if (word == "hand_shake") return ActionWord::kHandShake;
  if (word == "lock") return ActionWord::kLock;
  if (word == "unlock") return ActionWord::kUnlock;
  if (word == "find_stranger") return ActionWord::kFindStranger;
  return ActionWord::kUnknown;
}

}  // namespace

std::string_view action_word_name(ActionWord word) {
  return kWordNames[std::min(static_cast<size_t>(word), kWordNames.size() - 1)];
}

std::string_view action_drop_name(ActionDrop why) {
  auto i = static_cast<size_t>(why);
  return i < kDropNames.size() ? kDropNames[i] : "unknown";
}

ActionTable::ActionTable(Publisher& publisher, ActionTableOptions options)
    : publisher_(publisher), options_(std::move(options)), refusals_log_(options_.log) {}

Status ActionTable::install(MqttConnection& connection) {
  return connection.add_handler(options_.topics, options_.qos,
                                [this](const std::string& topic, const std::string& payload,
                                       bool retained) { on_message(topic, payload, retained); });
}

bool ActionTable::safe_word(std::string_view word) const {
  if (word.empty() || word.size() > kMaxWord) return false;
  for (char c : word) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  // Answering on a topic we listen on would feed our answer back to us.
  return std::find(options_.topics.begin(), options_.topics.end(), word) == options_.topics.end();
}

void ActionTable::on_message(const std::string& topic, const std::string& payload, bool retained) {
  auto drop = [this](ActionDrop why) { counters_.dropped.count(why); };
  if (retained) return drop(ActionDrop::kRetained);
  if (payload.size() > options_.max_payload_bytes) return drop(ActionDrop::kTooLarge);
  // Only the head is split here: a find_stranger payload is megabytes of base64.
  auto [word, args] = split(payload);
  if (!safe_word(word)) return drop(ActionDrop::kUnsafeWord);
  ActionWord kind = word_of(word);
  if (kind == ActionWord::kUnknown) {
    auto* actions = actions_.load();
    if (actions != nullptr && actions->has(word)) kind = ActionWord::kScripted;
  }
  counters_.received.count(kind);
  switch (kind) {
    case ActionWord::kHandShake:
      return hand_shake(word, args);
    case ActionWord::kLock:
      return lock(word, device::LockAction::LOCK, args);
    case ActionWord::kUnlock:
      return lock(word, device::LockAction::UNLOCK, args);
    case ActionWord::kFindStranger:
      return find_stranger(word, args);
    case ActionWord::kScripted:
      return scripted(word, topic, payload);
    default:
      return fail(word, not_found("unknown action '" + word +
                                  "'; known: hand_shake, lock, unlock, find_stranger and the "
                                  "installed scripted actions"));
  }
}

void ActionTable::answer(const std::string& word, const json& reply) {
  counters_.replies.fetch_add(1);
  publisher_.publish(word, codec::to_wire(codec::ok_reply(reply)), options_.qos, false);
}

void ActionTable::fail(const std::string& word, const Status& status) {
  counters_.errors.fetch_add(1);
  json reply = codec::error_reply(status);
  reply["action"] = word;
  publisher_.publish(word, codec::to_wire(reply), options_.qos, false);
}

void ActionTable::hand_shake(const std::string& word, const std::string& args) {
  auto [id, extra] = split(args);
  if (id.empty() || !extra.empty())
    return fail(word, invalid_argument("usage: hand_shake <device_id>"));
  if (!is_valid_id(id)) return fail(word, validate_id(id, "device id"));
  auto* devices = devices_.load();
  if (devices == nullptr) return fail(word, unavailable("the device service is starting"));
  // Availability, not hello: a hello may register an unknown device (devices.auto-register),
  // and nobody in particular speaks on these topics. A registered door is greeted (marked
  // online, a waiting command goes out) exactly as its hello without information would.
  devices->set_availability(id, true, [this, word, id = id](Result<device::State> state) {
    if (state.is_ok()) return answer(word, {{"action", word}, {"device", codec::to_json(*state)}});
    if (state.status().code() != Code::kFailedPrecondition) return fail(word, state.status());
    counters_.unprovisioned.fetch_add(1);
    refusals_log_.log("legacy hand_shake refused: device " + id +
                      " is not provisioned (nothing registered; provision it with a "
                      "provisioning key or POST /devices)");
    fail(word,
         failed_precondition(
             "device " + id +
             " is not provisioned: hand_shake never registers a door; a new door gets its "
             "credential with an operator's provisioning key (" +
             options_.prefix + "/provision/KEY/" + id + ") or from an operator (POST /devices)"));
  });
}

void ActionTable::lock(const std::string& word, device::LockAction action,
                       const std::string& args) {
  auto [id, extra] = split(args);
  if (!extra.empty()) return fail(word, invalid_argument("usage: " + word + " [device_id]"));
  if (!id.empty() && !is_valid_id(id)) return fail(word, validate_id(id, "device id"));
  auto* devices = devices_.load();
  if (devices == nullptr) return fail(word, unavailable("the device service is starting"));
  if (!id.empty()) {
    // `id = id`: clang 14 (the fuzz build) cannot capture a structured binding by name.
    devices->request_lock(
        id, action, "", legacy_cause(),
        [this, word, id = id](Result<device::CommandRecord> command) {
          if (!command.is_ok()) return fail(word, command.status());
          answer(word, {{"action", word}, {"device", id}, {"command", codec::to_json(*command)}});
        });
    return;
  }
  devices->request_lock_all(action, legacy_cause(),
                            [this, word](Result<std::vector<device::FanOut>> all) {
                              if (!all.is_ok()) return fail(word, all.status());
                              json list = json::array();
                              for (const auto& one : *all) {
                                json item = {{"device", one.device_id}};
                                if (one.command.is_ok()) {
                                  item["ok"] = true;
                                  item["command"] = codec::to_json(*one.command);
                                } else {
                                  item.update(codec::error_reply(one.command.status()));
                                }
                                list.push_back(std::move(item));
                              }
                              answer(word, {{"action", word}, {"devices", std::move(list)}});
                            });
}

void ActionTable::find_stranger(const std::string& word, const std::string& args) {
  auto [id, encoded] = split(args);
  if (id.empty() || encoded.empty())
    return fail(word, invalid_argument("usage: find_stranger <device_id> <base64 picture>"));
  if (!is_valid_id(id)) return fail(word, validate_id(id, "device id"));
  if (encoded.size() / 4 * 3 > options_.max_picture_bytes + 3)
    return fail(word, too_large("the picture exceeds " +
                                std::to_string(options_.max_picture_bytes) + " bytes"));
  auto bytes = decode_base64(encoded);
  if (!bytes) return fail(word, invalid_argument("the picture is not valid base64"));
  if (bytes->size() > options_.max_picture_bytes)
    return fail(word, too_large("the picture exceeds " +
                                std::to_string(options_.max_picture_bytes) + " bytes"));
  auto type = codec::detect_image_type(*bytes);
  if (!type) return fail(word, invalid_argument("the picture must be a JPEG or a PNG"));
  auto* devices = devices_.load();
  if (devices == nullptr) return fail(word, unavailable("the device service is starting"));
  device::Picture picture;
  picture.id = codec::picture_id(*bytes);
  picture.content_type = std::string(*type);
  picture.bytes = std::move(*bytes);
  devices->report_stranger(
      id, std::move(picture), [this, word, id = id](Result<device::Stranger> stranger) {
        if (!stranger.is_ok()) return fail(word, stranger.status());
        json url =
            options_.picture_url ? json(options_.picture_url(stranger->picture_id)) : json(nullptr);
        answer(word, {{"action", word},
                      {"device", id},
                      {"stranger", codec::to_json(*stranger)},
                      {"url", std::move(url)}});
      });
}

void ActionTable::scripted(const std::string& word, const std::string& topic,
                           const std::string& payload) {
  if (payload.size() > options_.max_script_input_bytes)
    return fail(word, too_large("the payload has " + std::to_string(payload.size()) +
                                " bytes; a scripted action's payload is at most " +
                                std::to_string(options_.max_script_input_bytes) + " bytes"));
  auto* actions = actions_.load();
  if (actions == nullptr) return fail(word, unavailable("scripted actions are starting"));
  actions->invoke(word, topic, payload, [this, word](Result<std::optional<std::string>> reply) {
    if (!reply.is_ok()) return fail(word, reply.status());
    // As the seed: the script's text is the answer, as it is; nothing: none.
    if (!reply->has_value()) return;
    counters_.replies.fetch_add(1);
    publisher_.publish(word, std::move(**reply), options_.qos, false);
  });
}

std::vector<std::pair<std::string, double>> ActionTable::metrics() const {
  std::vector<std::pair<std::string, double>> out;
  counters_.received.append_to(out, "gatehouse_mqtt_actions_received_total", "word",
                               action_word_name);
  counters_.dropped.append_to(out, "gatehouse_mqtt_actions_dropped_total", "reason",
                              action_drop_name);
  out.emplace_back("gatehouse_mqtt_actions_replies_total",
                   static_cast<double>(counters_.replies.load()));
  out.emplace_back("gatehouse_mqtt_actions_errors_total",
                   static_cast<double>(counters_.errors.load()));
  out.emplace_back("gatehouse_mqtt_actions_refused_total{reason=\"unprovisioned\"}",
                   static_cast<double>(counters_.unprovisioned.load()));
  return out;
}

std::optional<std::string> ActionTable::decode_base64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t buffer = 0;
  int bits = 0, padding = 0;
  size_t symbols = 0;
  for (char c : text) {
    if (blank(c)) continue;
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int v = value(c);
    if (v < 0) return std::nullopt;
    ++symbols;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2) return std::nullopt;
  if (padding > 0 && symbols % 4 != 0) return std::nullopt;
  if ((symbols - static_cast<size_t>(padding)) % 4 == 1) return std::nullopt;  // a lone symbol
  return out;
}

}  // namespace gh::mqtt_adapter
