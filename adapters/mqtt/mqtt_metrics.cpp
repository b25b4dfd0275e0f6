#include "adapters/mqtt/mqtt_metrics.h"

namespace gh::mqtt_adapter {

std::vector<std::pair<std::string, double>> mqtt_metrics(const ConnectionCounters& connection,
                                                         const DeviceTopicsCounters& devices) {
  std::vector<std::pair<std::string, double>> out;
  auto add = [&out](std::string name, uint64_t value) {
    codec::add_series(out, std::move(name), value);
  };
  add("gatehouse_mqtt_connected", connection.connected.load() ? 1 : 0);
  add("gatehouse_mqtt_connects_total", connection.connects.load());
  add("gatehouse_mqtt_reconnects_total", connection.reconnects.load());
  add("gatehouse_mqtt_connect_failures_total", connection.connect_failures.load());
  add("gatehouse_mqtt_connection_lost_total", connection.connection_lost.load());
  devices.received.append_to(out, "gatehouse_mqtt_received_total", "topic", topic_family_name);
  devices.rejected.append_to(out, "gatehouse_mqtt_rejected_total", "reason", rejection_name);
  add("gatehouse_mqtt_accepted_total", devices.accepted.load());
  add("gatehouse_mqtt_published_total{kind=\"command\"}", devices.commands_sent.load());
  add("gatehouse_mqtt_published_total{kind=\"status\"}", devices.statuses_published.load());
  add("gatehouse_mqtt_published_total{kind=\"alert\"}", devices.alerts_published.load());
  add("gatehouse_mqtt_published_total{kind=\"error\"}", devices.errors_published.load());
  add("gatehouse_mqtt_publish_failures_total", connection.publish_failures.load());
  add("gatehouse_mqtt_nodelay_sockets_total", connection.nodelay_sockets.load());
  return out;
}

}  // namespace gh::mqtt_adapter
