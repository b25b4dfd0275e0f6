// What Home Assistant reads of a door (docs/protocol.md "Home Assistant"): the topic names, the
// MQTT discovery configurations of its lock and of its last stranger picture, and the lock
// state in Home Assistant's own vocabulary, so that its MQTT lock and image integrations work
// with their defaults (no value_template).
//
// Pure: no I/O, no clock. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "actors/device/device_model.h"

namespace gh::mqtt_adapter {

// P is gatehouse's topic prefix (mqtt.prefix), D Home Assistant's discovery prefix
// (ha.discovery-prefix).
struct HaTopicNames {
  std::string prefix = "gatehouse";
  std::string discovery_prefix = "homeassistant";

  // gatehouse_{id}: the discovery's object id and the lock's unique id.
  static std::string object_id(std::string_view id);
  // D/lock/gatehouse_{id}/config and D/image/gatehouse_{id}/config.
  std::string lock_config(std::string_view id) const;
  std::string image_config(std::string_view id) const;
  // P/devices/{id}/ha/state (LOCKED, ...), .../ha/availability (online | offline),
  // .../ha/picture (the signed URL of the last stranger picture), .../ha/error (refusals of
  // the set topic).
  std::string state(std::string_view id) const;
  std::string availability(std::string_view id) const;
  std::string picture(std::string_view id) const;
  std::string error(std::string_view id) const;
  // P/devices/{id}/set: where Home Assistant sends LOCK and UNLOCK.
  std::string command(std::string_view id) const;
  // P/by/+/+/devices/+/set: the same commands as the broker delivers them, naming who sent
  // them (broker_plugin/access_rules.h "Attribution").
  std::string attributed_commands() const;
  // D/status (Home Assistant's birth and will) and D/+/+/config (what the broker retains).
  std::string birth() const;
  std::string configs() const;
};

// A command as the broker delivered it on P/by/{kind}/{name}/devices/{id}/set.
struct AttributedCommand {
  std::string kind;  // "token", ... (access_rules.h kind_name)
  std::string name;
  std::string device_id;
};

// The parts of an attributed command topic; nullopt when `topic` is not one (or its id or name
// is not a valid id).
std::optional<AttributedCommand> parse_attributed(const HaTopicNames& names,
                                                  std::string_view topic);

// The door id of a discovery configuration topic D/{component}/gatehouse_{id}/config;
// nullopt for any other topic (other integrations' configurations included).
std::optional<std::string> door_of_config(const HaTopicNames& names, std::string_view topic);

// The door's lock as Home Assistant's MQTT lock reads it: JAMMED when the door says so;
// LOCKING or UNLOCKING while a command is in flight; else the reported LOCKED, UNLOCKED,
// LOCKING or UNLOCKING; "None" (Home Assistant's payload_reset: unknown) before any report.
std::string_view ha_lock_state(const device::State& state);

// "online" when the door's presence is online; "offline" when it is offline or unknown
// (Home Assistant has no "unknown" availability).
std::string_view ha_availability(const device::State& state);

// The name Home Assistant shows: the door's name, else its id.
std::string display_name(const device::State& state);

// The discovery configuration of the door's lock: name, unique_id, device block, state,
// command and availability topics and their payloads.
nlohmann::json lock_discovery(const HaTopicNames& names, const device::State& state);

// The discovery configuration of the door's last stranger picture: an MQTT image entity whose
// url_topic carries a signed picture URL.
nlohmann::json image_discovery(const HaTopicNames& names, const device::State& state);

}  // namespace gh::mqtt_adapter
