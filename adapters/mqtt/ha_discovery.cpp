#include "adapters/mqtt/ha_discovery.h"

#include "adapters/mqtt/topic_filter.h"
#include "events/stream_name.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

namespace {

constexpr std::string_view kObjectPrefix = "gatehouse_";

// The device block both entities share: Home Assistant groups them under one device.
json device_block(const device::State& state) {
  json device = {{"identifiers", json::array({HaTopicNames::object_id(state.id)})},
                 {"name", display_name(state)},
                 {"manufacturer", "gatehouse"}};
  if (!state.type.empty()) device["model"] = state.type;
  if (!state.firmware.empty()) device["sw_version"] = state.firmware;
  return device;
}

}  // namespace

std::string HaTopicNames::object_id(std::string_view id) {
  return std::string(kObjectPrefix) + std::string(id);
}
std::string HaTopicNames::lock_config(std::string_view id) const {
  return discovery_prefix + "/lock/" + object_id(id) + "/config";
}
std::string HaTopicNames::image_config(std::string_view id) const {
  return discovery_prefix + "/image/" + object_id(id) + "/config";
}
std::string HaTopicNames::state(std::string_view id) const {
  return prefix + "/devices/" + std::string(id) + "/ha/state";
}
std::string HaTopicNames::availability(std::string_view id) const {
  return prefix + "/devices/" + std::string(id) + "/ha/availability";
}
std::string HaTopicNames::picture(std::string_view id) const {
  return prefix + "/devices/" + std::string(id) + "/ha/picture";
}
std::string HaTopicNames::error(std::string_view id) const {
  return prefix + "/devices/" + std::string(id) + "/ha/error";
}
std::string HaTopicNames::command(std::string_view id) const {
  return prefix + "/devices/" + std::string(id) + "/set";
}
std::string HaTopicNames::attributed_commands() const { return prefix + "/by/+/+/devices/+/set"; }
std::string HaTopicNames::birth() const { return discovery_prefix + "/status"; }
std::string HaTopicNames::configs() const { return discovery_prefix + "/+/+/config"; }

std::optional<AttributedCommand> parse_attributed(const HaTopicNames& names,
                                                  std::string_view topic) {
  const std::string head = names.prefix + "/by/";
  if (!topic.starts_with(head)) return std::nullopt;
  auto levels = topic_levels(topic.substr(head.size()));
  if (levels.size() != 5 || levels[2] != "devices" || levels[4] != "set") return std::nullopt;
  if (!is_valid_id(levels[1]) || !is_valid_id(levels[3])) return std::nullopt;
  return AttributedCommand{std::string(levels[0]), std::string(levels[1]), std::string(levels[3])};
}

std::optional<std::string> door_of_config(const HaTopicNames& names, std::string_view topic) {
  const std::string head = names.discovery_prefix + "/";
  if (!topic.starts_with(head)) return std::nullopt;
  auto levels = topic_levels(topic.substr(head.size()));
  if (levels.size() != 3 || levels[2] != "config" || !levels[1].starts_with(kObjectPrefix)) {
    return std::nullopt;
  }
  auto id = levels[1].substr(kObjectPrefix.size());
  if (!is_valid_id(id)) return std::nullopt;
  return std::string(id);
}

std::string_view ha_lock_state(const device::State& state) {
  if (state.reported == events::JAMMED) return "JAMMED";
  if (state.pending && !state.pending->finished()) {
    return state.pending->action == events::LOCK ? "LOCKING" : "UNLOCKING";
  }
  switch (state.reported) {
    case events::LOCKED:
    case events::UNLOCKED:
    case events::LOCKING:
    case events::UNLOCKING:
      return device::lock_state_name(state.reported);  // HA's words are gatehouse's
    default:
      return "None";
  }
}

std::string_view ha_availability(const device::State& state) {
  return state.presence == device::Presence::kOnline ? "online" : "offline";
}

std::string display_name(const device::State& state) {
  return state.name.empty() ? state.id : state.name;
}

json lock_discovery(const HaTopicNames& names, const device::State& state) {
  return {{"name", display_name(state)},
          {"unique_id", HaTopicNames::object_id(state.id)},
          {"object_id", HaTopicNames::object_id(state.id)},
          {"device", device_block(state)},
          {"origin", {{"name", "gatehouse"}}},
          {"state_topic", names.state(state.id)},
          {"command_topic", names.command(state.id)},
          {"availability_topic", names.availability(state.id)},
          {"payload_available", "online"},
          {"payload_not_available", "offline"},
          {"payload_lock", "LOCK"},
          {"payload_unlock", "UNLOCK"},
          {"state_locked", "LOCKED"},
          {"state_unlocked", "UNLOCKED"},
          {"state_locking", "LOCKING"},
          {"state_unlocking", "UNLOCKING"},
          {"state_jammed", "JAMMED"},
          {"optimistic", false},
          {"qos", 1},
          {"retain", false}};
}

json image_discovery(const HaTopicNames& names, const device::State& state) {
  return {{"name", display_name(state) + " last stranger"},
          {"unique_id", HaTopicNames::object_id(state.id) + "_stranger"},
          {"object_id", HaTopicNames::object_id(state.id) + "_stranger"},
          {"device", device_block(state)},
          {"origin", {{"name", "gatehouse"}}},
          {"url_topic", names.picture(state.id)}};
}

}  // namespace gh::mqtt_adapter
