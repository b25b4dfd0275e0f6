// The MQTT side's series for GET /metrics, as (name, value) pairs in the form the HTTP
// adapter's MetricsSources::extra prints as given. Reads atomics only: cheap and
// thread-safe, callable from HTTP worker threads while messages flow.
//
//   gatehouse_mqtt_connected                       gauge 0/1
//   gatehouse_mqtt_connects_total / _reconnects_total / _connect_failures_total
//   gatehouse_mqtt_connection_lost_total
//   gatehouse_mqtt_received_total{topic="hello|availability|state|stranger|other"}
//   gatehouse_mqtt_rejected_total{reason="unknown_topic|invalid_id|too_large|..."}
//   gatehouse_mqtt_accepted_total                  messages the device service applied
//   gatehouse_mqtt_published_total{kind="command|status|alert|error"}
//   gatehouse_mqtt_publish_failures_total
//   gatehouse_mqtt_nodelay_sockets_total
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "adapters/mqtt/device_topics.h"
#include "adapters/mqtt/mqtt_connection.h"

namespace gh::mqtt_adapter {

std::vector<std::pair<std::string, double>> mqtt_metrics(const ConnectionCounters& connection,
                                                         const DeviceTopicsCounters& devices);

}  // namespace gh::mqtt_adapter
