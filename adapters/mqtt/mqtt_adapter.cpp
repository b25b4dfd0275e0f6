#include "adapters/mqtt/mqtt_adapter.h"

#include "adapters/mqtt/mqtt_metrics.h"

namespace gh::mqtt_adapter {

Result<std::unique_ptr<MqttAdapter>> MqttAdapter::create(MqttAdapterOptions options) {
  std::unique_ptr<MqttAdapter> adapter(new MqttAdapter());
  if (options.broker_url.empty()) {
    BrokerProcessOptions broker_options;
    broker_options.work_dir = options.broker_dir;
    auto broker = BrokerProcess::start(std::move(broker_options));
    if (!broker) return broker.status();
    adapter->broker_ = std::move(broker).value();
    adapter->url_ = adapter->broker_->url();
  } else {
    adapter->url_ = options.broker_url;
  }
  options.connection.url = adapter->url_;
  if (options.connection.status_topic.empty()) {
    options.connection.status_topic = options.devices.prefix + "/server/status";
  }
  auto connection = MqttConnection::create(std::move(options.connection));
  if (!connection) return connection.status();
  adapter->connection_ = std::move(connection).value();
  adapter->devices_ = std::make_unique<DeviceTopics>(*adapter->connection_, options.devices);
  DeviceTopics* devices = adapter->devices_.get();
  GH_RETURN_IF_ERROR(adapter->connection_->add_handler(
      devices->subscriptions(), options.devices.qos,
      [devices](const std::string& topic, const std::string& payload, bool retained) {
        devices->on_message(topic, payload, retained);
      }));
  adapter->initial_connect_wait_ = options.initial_connect_wait;
  return adapter;
}

MqttAdapter::~MqttAdapter() { stop(); }

Status MqttAdapter::add_handler(std::vector<std::string> filters, int qos, MessageHandler handler) {
  return connection_->add_handler(std::move(filters), qos, std::move(handler));
}

Status MqttAdapter::start(device::DeviceService* service) {
  devices_->set_service(service);
  GH_RETURN_IF_ERROR(connection_->start());
  // Not connecting in time is not fatal: the broker may come later and we keep trying.
  if (initial_connect_wait_.count() > 0) (void)connection_->wait_connected(initial_connect_wait_);
  return Status::ok();
}

void MqttAdapter::stop() {
  if (connection_) connection_->stop();
}

std::vector<std::pair<std::string, double>> MqttAdapter::metrics() const {
  return mqtt_metrics(connection_->counters(), devices_->counters());
}

}  // namespace gh::mqtt_adapter
