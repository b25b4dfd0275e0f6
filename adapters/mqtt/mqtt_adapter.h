// The MQTT adapter as server/main wires it: an optional private mosquitto, the broker
// connection, and the device topics (which are also the DeviceEffects).
//
//   auto mqtt = MqttAdapter::create(options);              // broker up, nothing connected
//   DeviceSystem devices(sys, journal, storage, mqtt->effects(), device_options);
//   mqtt->start(&devices);                                 // subscribe + connect (background)
//   ...
//   mqtt->stop();            // no more messages in; effects may still publish (buffered)
//   devices.shutdown();      // then destroy devices, then the adapter (stops the broker)
//
// Other topic families (chat, legacy) register with add_handler() before start().
// Thread-safety: create/start/stop from one thread; everything else from any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/device/device_service.h"
#include "adapters/mqtt/broker_process.h"
#include "adapters/mqtt/device_topics.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

struct MqttAdapterOptions {
  // Empty: start a private mosquitto (broker_process.h) in `broker_dir`.
  std::string broker_url;
  std::filesystem::path broker_dir;
  // `url` is ignored (taken from broker_url or the private broker); `status_topic` empty
  // defaults to "<prefix>/server/status".
  MqttConnectionOptions connection;
  DeviceTopicsOptions devices;
  // How long start() waits for the first connection before returning anyway (the
  // connection keeps trying in the background); 0: do not wait.
  std::chrono::milliseconds initial_connect_wait{10000};
};

class MqttAdapter {
 public:
  // Starts the private broker if no URL is given; kInvalidArgument for bad options,
  // kUnavailable when the private broker cannot start.
  static Result<std::unique_ptr<MqttAdapter>> create(MqttAdapterOptions options);
  ~MqttAdapter();  // stop(), then the private broker

  // What the DeviceSystem publishes through. Valid as long as this object.
  device::DeviceEffects* effects() { return devices_.get(); }

  // More topic families on the same connection; before start().
  Status add_handler(std::vector<std::string> filters, int qos, MessageHandler handler);

  // Routes device messages to `service` and connects in the background. Returns ok once
  // connected, or ok after initial_connect_wait while still retrying (see connected());
  // kFailedPrecondition when started twice.
  Status start(device::DeviceService* service);
  // Stops receiving and disconnects; idempotent.
  void stop();

  bool connected() const { return connection_->connected(); }
  std::string broker_url() const { return url_; }
  // For MetricsSources::extra.
  std::vector<std::pair<std::string, double>> metrics() const;

  MqttConnection& connection() { return *connection_; }
  DeviceTopics& devices() { return *devices_; }
  BrokerProcess* private_broker() { return broker_.get(); }

 private:
  MqttAdapter() = default;

  std::unique_ptr<BrokerProcess> broker_;  // first: destroyed last
  std::string url_;
  std::unique_ptr<MqttConnection> connection_;
  std::unique_ptr<DeviceTopics> devices_;
  std::chrono::milliseconds initial_connect_wait_{0};
};

}  // namespace gh::mqtt_adapter
