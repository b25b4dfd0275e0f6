// What the MQTT tests of door-facing topics stand on, all real: a private mosquitto on a free
// port, a RocksDB journal in a temporary directory, gatehouse's MqttAdapter and the
// DeviceSystem behind it. Each step is its own call, so a test can put its own pieces in
// between (an action table, Home Assistant) and take them down in the right order: `stop()`
// first (no handler and no actor runs after it), then the test's pieces, then the stack's
// destructor (the adapter, the store, the broker, the directory).
//
// Steps that can fail use gtest's ASSERT_*, which returns from the step only: wrap them in
// ASSERT_NO_FATAL_FAILURE.
#pragma once

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "actors/device/device_storage.h"
#include "actors/device/device_system.h"
#include "adapters/mqtt/mqtt_adapter.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_test {

class DeviceStack {
 public:
  DeviceStack() = default;
  DeviceStack(const DeviceStack&) = delete;
  DeviceStack& operator=(const DeviceStack&) = delete;

  ~DeviceStack() {
    stop();
    adapter.reset();
    journal.reset();
    database.reset();
    broker.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  // A temporary directory named after `what`, and mosquitto in it.
  void start_broker(const std::string& what) {
    dir = temp_dir(what);
    mqtt_adapter::BrokerProcessOptions options;
    options.work_dir = dir / "broker";
    auto started = mqtt_adapter::BrokerProcess::start(options);
    ASSERT_TRUE(started.is_ok()) << started.status().to_string();
    broker = std::move(started).value();
  }

  void open_store() {
    auto opened = Database::open((dir / "db").string(), OpenMode::kReadWrite);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    database = std::move(opened).value();
    journal = std::make_unique<RocksdbJournal>(database.get());
  }

  // gatehouse's connection to the broker started above, under a test client id.
  mqtt_adapter::MqttAdapterOptions adapter_options() const {
    mqtt_adapter::MqttAdapterOptions options;
    options.broker_url = broker->url();
    options.connection.client_id = "gatehouse-test";
    return options;
  }

  void create_adapter(mqtt_adapter::MqttAdapterOptions options) {
    auto created = mqtt_adapter::MqttAdapter::create(std::move(options));
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    adapter = std::move(created).value();
  }

  // The actor system and the DeviceSystem on the journal, publishing through `effects` (the
  // adapter's when null). With an adapter, runs `before_start` (what must know the devices
  // before the first connect), starts it and waits until it is connected.
  void start_devices(device::DeviceSystemOptions options = {},
                     device::DeviceEffects* effects = nullptr,
                     const std::function<void()>& before_start = {}) {
    config = std::make_unique<caf::actor_system_config>();
    system = std::make_unique<caf::actor_system>(*config);
    if (effects == nullptr && adapter) effects = adapter->effects();
    devices = std::make_unique<device::DeviceSystem>(
        *system, *journal, device::replay_only_storage(*journal), effects, std::move(options));
    if (!adapter) return;
    if (before_start) before_start();
    ASSERT_TRUE(adapter->start(devices.get()).is_ok());
    ASSERT_TRUE(adapter->connection().wait_connected(kWait));
  }

  // No MQTT handler runs after this, and no actor: the devices' effects may still publish
  // into the stopped connection until they are gone.
  void stop() {
    if (adapter) adapter->stop();
    devices.reset();
    system.reset();
    config.reset();
  }

  std::filesystem::path dir;
  std::unique_ptr<mqtt_adapter::BrokerProcess> broker;
  std::unique_ptr<Database> database;
  std::unique_ptr<RocksdbJournal> journal;
  std::unique_ptr<mqtt_adapter::MqttAdapter> adapter;
  std::unique_ptr<caf::actor_system_config> config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<device::DeviceSystem> devices;
};

}  // namespace gh::mqtt_test
