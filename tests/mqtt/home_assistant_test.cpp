// Home Assistant's topics (adapters/mqtt/home_assistant.h, ha_discovery.h): the pure parts
// (lock state in Home Assistant's words, topic parsing), and discovery as a sync of the doors
// that exist against what the broker holds, through a real mosquitto and the real DeviceSystem
// on a real RocksDB journal.
#include "adapters/mqtt/home_assistant.h"

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/device/device_system.h"
#include "adapters/mqtt/mqtt_adapter.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::kWait;
using mqtt_test::Message;
using nlohmann::json;

TEST(HaDiscoveryTest, TheLockStateIsHomeAssistantsOwnWord) {
  device::State s;
  EXPECT_EQ(ha_lock_state(s), "None") << "Home Assistant's payload_reset: unknown";
  s.reported = events::UNLOCKED;
  EXPECT_EQ(ha_lock_state(s), "UNLOCKED");
  device::CommandRecord lock;
  lock.action = events::LOCK;
  lock.status = device::CommandStatus::kSent;
  s.pending = lock;
  EXPECT_EQ(ha_lock_state(s), "LOCKING") << "a command in flight";
  s.pending->action = events::UNLOCK;
  EXPECT_EQ(ha_lock_state(s), "UNLOCKING");
  s.pending->status = device::CommandStatus::kConfirmed;
  s.reported = events::LOCKED;
  EXPECT_EQ(ha_lock_state(s), "LOCKED") << "a finished command is not in flight";
  s.reported = events::JAMMED;
  s.pending->status = device::CommandStatus::kSent;
  EXPECT_EQ(ha_lock_state(s), "JAMMED") << "a jam wins over a command in flight";
  EXPECT_EQ(ha_availability(s), "offline") << "unknown presence is offline";
  s.presence = device::Presence::kOnline;
  EXPECT_EQ(ha_availability(s), "online");
}

TEST(HaDiscoveryTest, OnlyWellFormedAttributedCommandsAndOurConfigsAreRecognised) {
  HaTopicNames n;
  auto c = parse_attributed(n, "gatehouse/by/token/ha/devices/door1/set");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, "token");
  EXPECT_EQ(c->name, "ha");
  EXPECT_EQ(c->device_id, "door1");
  for (const char* bad :
       {"gatehouse/devices/door1/set", "gatehouse/by/token/ha/devices/door1",
        "gatehouse/by/token/-/devices/door1/set/x", "other/by/token/a/devices/d/set",
        "gatehouse/by/token/h a/devices/door1/set"}) {
    EXPECT_FALSE(parse_attributed(n, bad)) << bad;
  }
  EXPECT_EQ(door_of_config(n, "homeassistant/lock/gatehouse_door1/config"), "door1");
  EXPECT_EQ(door_of_config(n, "homeassistant/image/gatehouse_door1/config"), "door1");
  EXPECT_FALSE(door_of_config(n, "homeassistant/lock/garage/config")) << "not ours";
  EXPECT_FALSE(door_of_config(n, "homeassistant/lock/gatehouse_door1/state"));
}

TEST(HaDiscoveryTest, TheLockConfigNamesTheDoorAndItsTopics) {
  HaTopicNames n{"gh", "ha"};
  device::State s;
  s.id = "door1";
  EXPECT_EQ(lock_discovery(n, s)["name"], "door1") << "a door without a name shows its id";
  s.name = "Front door";
  s.type = "lock";
  auto config = lock_discovery(n, s);
  EXPECT_EQ(config["name"], "Front door");
  EXPECT_EQ(config["unique_id"], "gatehouse_door1");
  EXPECT_EQ(config["state_topic"], "gh/devices/door1/ha/state");
  EXPECT_EQ(config["command_topic"], "gh/devices/door1/set");
  EXPECT_EQ(config["availability_topic"], "gh/devices/door1/ha/availability");
  EXPECT_EQ(config["device"]["model"], "lock");
  EXPECT_EQ(n.lock_config("door1"), "ha/lock/gatehouse_door1/config");
  EXPECT_EQ(image_discovery(n, s)["url_topic"], "gh/devices/door1/ha/picture");
}

class HomeAssistantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mqtt_test::temp_dir("mqtt-ha");
    BrokerProcessOptions broker_options;
    broker_options.work_dir = dir_ / "broker";
    auto broker = BrokerProcess::start(broker_options);
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    broker_ = std::move(broker).value();
    ha_client_ = std::make_unique<mqtt_test::TestClient>(broker_->url(), "homeassistant");
    ASSERT_TRUE(ha_client_->connect());
  }

  void start() {
    auto database = Database::open((dir_ / "db").string(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(database).value();
    journal_ = std::make_unique<RocksdbJournal>(database_.get());
    MqttAdapterOptions options;
    options.broker_url = broker_->url();
    options.connection.client_id = "gatehouse-test";
    auto adapter = MqttAdapter::create(std::move(options));
    ASSERT_TRUE(adapter.is_ok()) << adapter.status().to_string();
    adapter_ = std::move(adapter).value();
    HomeAssistantOptions ha;
    ha.picture_url = [](const std::string& id) { return "http://gh.test/pictures/" + id; };
    ha_ = std::make_unique<HomeAssistant>(adapter_->connection(), ha);
    ASSERT_TRUE(ha_->install(adapter_->connection()).is_ok());
    adapter_->devices().set_follower(ha_.get());
    config_ = std::make_unique<caf::actor_system_config>();
    system_ = std::make_unique<caf::actor_system>(*config_);
    devices_ = std::make_unique<device::DeviceSystem>(
        *system_, *journal_, device::replay_only_storage(*journal_), adapter_->effects(),
        device::DeviceSystemOptions{});
    ha_->set_service(devices_.get());
    ASSERT_TRUE(adapter_->start(devices_.get()).is_ok());
    ASSERT_TRUE(adapter_->connection().wait_connected(kWait));
    door_ = std::make_unique<mqtt_test::TestClient>(broker_->url(), "door-client");
    ASSERT_TRUE(door_->connect());
  }

  void TearDown() override {
    if (adapter_) adapter_->stop();
    if (ha_) ha_->set_service(nullptr);
    devices_.reset();
    system_.reset();
    config_.reset();
    ha_.reset();
    adapter_.reset();
    door_.reset();
    ha_client_.reset();
    journal_.reset();
    database_.reset();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool seen(const std::string& topic, const std::function<bool(const std::string&)>& pred) {
    return ha_client_->wait_for(topic, [&](const Message& m) { return pred(m.payload); })
        .has_value();
  }
  static std::function<bool(const std::string&)> named(const std::string& name) {
    return [name](const std::string& p) {
      return !p.empty() && json::parse(p, nullptr, false).value("name", "") == name;
    };
  }

  std::filesystem::path dir_;
  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> journal_;
  std::unique_ptr<MqttAdapter> adapter_;
  std::unique_ptr<HomeAssistant> ha_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<device::DeviceSystem> devices_;
  std::unique_ptr<mqtt_test::TestClient> door_, ha_client_;
};

TEST_F(HomeAssistantTest, DiscoveryFollowsTheDoorsThatExistAndRetractsTheRest) {
  // What a broker that outlived gatehouse still holds: a door that is gone, and another
  // integration's lock (a broker without gatehouse's plugin lets the test publish these).
  const std::string ghost = "homeassistant/lock/gatehouse_ghost/config";
  const std::string other = "homeassistant/lock/garage/config";
  ASSERT_TRUE(ha_client_->publish(ghost, R"({"name":"Gone"})", true));
  ASSERT_TRUE(ha_client_->publish(other, R"({"name":"Garage"})", true));
  ASSERT_TRUE(ha_client_->subscribe("homeassistant/#"));
  ASSERT_TRUE(ha_client_->subscribe("gatehouse/devices/+/ha/#"));
  start();

  // The gone door's entities are removed (empty retained configuration); the other stays.
  EXPECT_TRUE(seen(ghost, [](const std::string& p) { return p.empty(); }));
  // A door registers by its hello: discovered with its name, online, its lock state.
  ASSERT_TRUE(door_->publish("gatehouse/devices/door1/hello", R"({"name":"Front door"})"));
  const std::string lock = "homeassistant/lock/gatehouse_door1/config";
  EXPECT_TRUE(seen(lock, named("Front door")));
  EXPECT_TRUE(seen("gatehouse/devices/door1/ha/availability",
                   [](const std::string& p) { return p == "online"; }));
  ASSERT_TRUE(door_->publish("gatehouse/devices/door1/state", "LOCKED"));
  EXPECT_TRUE(
      seen("gatehouse/devices/door1/ha/state", [](const std::string& p) { return p == "LOCKED"; }));
  // Renamed: the configuration follows.
  ASSERT_TRUE(door_->publish("gatehouse/devices/door1/hello", R"({"name":"Main door"})"));
  EXPECT_TRUE(seen(lock, named("Main door")));
  // A full sync publishes every door again; the other integration's lock was never touched.
  const size_t before = ha_client_->messages_on(lock).size();
  ha_->sync_discovery();
  EXPECT_TRUE(mqtt_test::eventually([&] { return ha_client_->messages_on(lock).size() > before; }));
  for (const auto& m : ha_client_->messages_on(other)) EXPECT_FALSE(m.payload.empty());
  EXPECT_GE(ha_->counters().doors_retracted.load(), 1u);
}

}  // namespace
}  // namespace gh::mqtt_adapter
