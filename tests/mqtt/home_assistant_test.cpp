// Home Assistant's topics (adapters/mqtt/home_assistant.h, ha_discovery.h): the pure parts
// (lock state in Home Assistant's words, topic parsing), and discovery as a sync of the doors
// that exist against what the broker holds, through a real mosquitto and the real DeviceSystem
// on a real RocksDB journal.
#include "adapters/mqtt/home_assistant.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/mqtt/device_stack.h"
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
    ASSERT_NO_FATAL_FAILURE(stack_.start_broker("mqtt-ha"));
    ha_client_ = std::make_unique<mqtt_test::TestClient>(stack_.broker->url(), "homeassistant");
    ASSERT_TRUE(ha_client_->connect());
  }

  void start() {
    ASSERT_NO_FATAL_FAILURE(stack_.open_store());
    ASSERT_NO_FATAL_FAILURE(stack_.create_adapter(stack_.adapter_options()));
    MqttConnection& connection = stack_.adapter->connection();
    HomeAssistantOptions ha;
    ha.picture_url = [](const std::string& id) { return "http://gh.test/pictures/" + id; };
    ha_ = std::make_unique<HomeAssistant>(connection, ha);
    ASSERT_TRUE(ha_->install(connection).is_ok());
    stack_.adapter->devices().set_follower(ha_.get());
    // The service is set before the adapter starts: discovery runs at its first connect.
    ASSERT_NO_FATAL_FAILURE(
        stack_.start_devices({}, nullptr, [this] { ha_->set_service(stack_.devices.get()); }));
    door_ = std::make_unique<mqtt_test::TestClient>(stack_.broker->url(), "door-client");
    ASSERT_TRUE(door_->connect());
  }

  void TearDown() override {
    if (stack_.adapter) stack_.adapter->stop();
    if (ha_) ha_->set_service(nullptr);
    stack_.stop();
    ha_.reset();
    door_.reset();
    ha_client_.reset();
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

  mqtt_test::DeviceStack stack_;
  std::unique_ptr<HomeAssistant> ha_;
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
