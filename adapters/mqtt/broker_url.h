// Where the MQTT broker is: "tcp://host:port" (also "mqtt://", or a bare "host:port").
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace gh::mqtt_adapter {

inline constexpr uint16_t kDefaultMqttPort = 1883;

struct BrokerAddress {
  std::string host;
  uint16_t port = kDefaultMqttPort;
};

// The host and port of `url`; the port defaults to 1883. kInvalidArgument for other schemes
// (ssl://, ws://: not supported), an empty host or a port outside 1..65535.
Result<BrokerAddress> parse_broker_url(std::string_view url);

// "tcp://host:port", the form paho expects.
std::string broker_url(const BrokerAddress& address);

// The URLs of a comma-separated list ("tcp://a:1883,tcp://b:1883", the MQTT listeners of one
// NATS cluster), each in paho's form, in the order given. kInvalidArgument naming the first
// that parse_broker_url() refuses, or for an empty list or entry.
Result<std::vector<std::string>> parse_broker_urls(std::string_view list);

}  // namespace gh::mqtt_adapter
