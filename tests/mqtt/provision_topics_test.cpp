// Door provisioning over MQTT end to end: a door (plain paho client) publishes on
// gatehouse/provision/<key>/<id> through a real mosquitto to our MqttConnection +
// ProvisionTopics, backed by the real CredentialRegistry and DeviceSystem on a real RocksDB
// journal in a temporary directory. Every refusal is answered on the reply topic and writes
// nothing; a provisioning key never takes over an existing door.
#include "adapters/mqtt/provision_topics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "actors/system/secret.h"
#include "tests/mqtt/device_stack.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::kWait;
using mqtt_test::Message;
using nlohmann::json;

json parse(const std::string& text) { return json::parse(text, nullptr, false); }

class NoEffects : public device::DeviceEffects {
 public:
  void send_command(const std::string&, events::LockAction, const std::string&) override {}
  void publish_status(const device::State&) override {}
  void stranger_alert(const std::string&, const device::Stranger&) override {}
};

events::Cause operator_cause() {
  events::Cause cause;
  cause.set_kind(events::Cause::OPERATOR);
  cause.set_name("root");
  cause.set_channel("tool");
  return cause;
}

class ProvisionTopicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(stack_.start_broker("mqtt-provision"));
    ASSERT_NO_FATAL_FAILURE(stack_.open_store());
    journal_ = stack_.journal.get();
    auto registry = credentials::CredentialRegistry::open(*journal_);
    ASSERT_TRUE(registry.is_ok()) << registry.status().to_string();
    registry_ = std::move(*registry);
    auto key = registry_->create_provisioning_key("factory-1", operator_cause());
    ASSERT_TRUE(key.is_ok());

    ASSERT_NO_FATAL_FAILURE(stack_.start_devices({}, &effects_));
    devices_ = stack_.devices.get();

    MqttConnectionOptions options;
    options.url = stack_.broker->url();
    options.client_id = "gatehouse-test";
    auto connection = MqttConnection::create(options);
    ASSERT_TRUE(connection.is_ok()) << connection.status().to_string();
    connection_ = std::move(connection).value();
    ProvisionTopicsOptions topic_options;
    topic_options.max_payload_bytes = 1024;
    topics_ = std::make_unique<ProvisionTopics>(*connection_, *registry_, topic_options);
    topics_->set_service(devices_);
    ASSERT_TRUE(topics_->install(*connection_).is_ok());
    ASSERT_TRUE(connection_->start().is_ok());
    ASSERT_TRUE(connection_->wait_connected(kWait));

    door_ = std::make_unique<mqtt_test::TestClient>(stack_.broker->url(), "door-client");
    ASSERT_TRUE(door_->connect());
    ASSERT_TRUE(door_->subscribe("gatehouse/provision/#"));
  }

  void TearDown() override {
    if (topics_) topics_->set_service(nullptr);
    if (connection_) connection_->stop();  // no handler runs after this
    stack_.stop();                         // no provision callback after this
    registry_.reset();                     // answers its queue
    topics_.reset();
    connection_.reset();
    door_.reset();
  }

  static std::string request_topic(const std::string& key, const std::string& id) {
    return "gatehouse/provision/" + key + "/" + id;
  }

  // Publishes `payload` for `key`/`id` and returns the next reply on its reply topic.
  json ask(const std::string& key, const std::string& id, const std::string& payload,
           bool retain = false) {
    const std::string reply = request_topic(key, id) + "/reply";
    const size_t seen = door_->messages_on(reply).size();
    EXPECT_TRUE(door_->publish(request_topic(key, id), payload, retain));
    std::optional<Message> answer;
    EXPECT_TRUE(mqtt_test::eventually([&] {
      auto replies = door_->messages_on(reply);
      if (replies.size() <= seen) return false;
      answer = replies[seen];
      return true;
    })) << "no reply on "
        << reply;
    if (!answer) return json();
    EXPECT_FALSE(answer->retained);
    return parse(answer->payload);
  }

  // Asks and expects a refusal with `code` and `reason` that wrote nothing.
  void expect_refused(const std::string& key, const std::string& id, const std::string& payload,
                      const std::string& code, const std::string& reason, bool retain = false) {
    const auto before = journal_->last_position();
    auto answer = ask(key, id, payload, retain);
    EXPECT_EQ(answer["ok"], false) << answer.dump();
    EXPECT_EQ(answer["error"]["code"], code) << answer.dump();
    EXPECT_EQ(answer["reason"], reason) << answer.dump();
    EXPECT_FALSE(answer["error"]["message"].get<std::string>().empty());
    EXPECT_FALSE(answer.contains("secret"));
    EXPECT_EQ(journal_->last_position(), before) << "a refused request wrote an event";
  }

  mqtt_test::DeviceStack stack_;
  RocksdbJournal* journal_ = nullptr;
  device::DeviceSystem* devices_ = nullptr;
  std::unique_ptr<credentials::CredentialRegistry> registry_;
  NoEffects effects_;
  std::unique_ptr<MqttConnection> connection_;
  std::unique_ptr<ProvisionTopics> topics_;
  std::unique_ptr<mqtt_test::TestClient> door_;
};

TEST_F(ProvisionTopicsTest, ANewDoorGetsItsCredentialOnce) {
  auto answer = ask("factory-1", "door7", R"({"type":"lock","name":"Side door","firmware":"1.2"})");
  ASSERT_EQ(answer["ok"], true) << answer.dump();
  EXPECT_EQ(answer["username"], "door7");
  const std::string secret = answer.value("secret", "");
  EXPECT_TRUE(secrets::is_secret_hex(secret)) << answer.dump();
  EXPECT_TRUE(registry_->door_secret_valid("door7", secret));

  auto door = registry_->door("door7");
  ASSERT_TRUE(door);
  EXPECT_EQ(door->issued_by.kind(), events::Cause::PROVISIONING_KEY);
  EXPECT_EQ(door->issued_by.name(), "factory-1");
  EXPECT_EQ(door->issued_by.channel(), "mqtt");
  auto state = devices_->state_at("door7", 0, 0);
  ASSERT_TRUE(state.is_ok()) << state.status().to_string();
  EXPECT_TRUE(state->registered);
  EXPECT_EQ(state->name, "Side door");
  EXPECT_EQ(state->firmware, "1.2");
  EXPECT_EQ(topics_->counters().provisioned.load(), 1u);

  // The same door asking again is refused: its credential stays.
  expect_refused("factory-1", "door7", "", "already_exists", "already_exists");
  EXPECT_TRUE(registry_->door_secret_valid("door7", secret));
}

TEST_F(ProvisionTopicsTest, AnEmptyPayloadProvisionsWithoutDetails) {
  auto answer = ask("factory-1", "door8", "");
  ASSERT_EQ(answer["ok"], true) << answer.dump();
  EXPECT_TRUE(registry_->has_door("door8"));
}

TEST_F(ProvisionTopicsTest, AKeyNeverTakesOverAnExistingDoor) {
  // A door with a credential, issued by an operator.
  auto secret = registry_->issue_door("front", operator_cause());
  ASSERT_TRUE(secret.is_ok());
  expect_refused("factory-1", "front", "", "already_exists", "already_exists");
  EXPECT_TRUE(registry_->door_secret_valid("front", *secret));
  // A registered door without one (it said hello before credentials existed).
  auto registered = device::wait_for<device::State>(
      [&](auto done) { devices_->provision("back", {}, operator_cause(), std::move(done)); });
  ASSERT_TRUE(registered.is_ok());
  expect_refused("factory-1", "back", "", "already_exists", "already_exists");
  EXPECT_FALSE(registry_->has_door("back"));
}

TEST_F(ProvisionTopicsTest, RefusalsAreAnsweredAndWriteNothing) {
  expect_refused("nope", "door1", "", "permission_denied", "unknown_key");
  ASSERT_TRUE(registry_->create_provisioning_key("old", operator_cause()).is_ok());
  ASSERT_TRUE(registry_->revoke_provisioning_key("old", operator_cause()).is_ok());
  expect_refused("old", "door1", "", "permission_denied", "unknown_key");
  expect_refused("factory-1", "door*1", "", "invalid_argument", "invalid_id");
  expect_refused("factory*1", "door1", "", "invalid_argument", "invalid_key");
  expect_refused("factory-1", "door1", "{not json", "invalid_argument", "bad_json");
  expect_refused("factory-1", "door1", "[1,2]", "invalid_argument", "bad_json");
  expect_refused("factory-1", "door1", R"({"type":5})", "invalid_argument", "bad_value");
  expect_refused("factory-1", "door1", R"({"name":")" + std::string(200, 'n') + R"("})",
                 "invalid_argument", "bad_value");
  expect_refused("factory-1", "door1", std::string(2000, ' '), "too_large", "too_large");
  EXPECT_FALSE(registry_->has_door("door1"));

  const auto& counters = topics_->counters();
  EXPECT_EQ(counters.refused_of(ProvisionRefusal::kUnknownKey), 2u);
  EXPECT_EQ(counters.refused_of(ProvisionRefusal::kBadJson), 2u);
  EXPECT_EQ(counters.refused_of(ProvisionRefusal::kBadValue), 2u);
  EXPECT_EQ(counters.provisioned.load(), 0u);
  bool named = false;
  for (const auto& [name, value] : topics_->metrics())
    if (name == "gatehouse_mqtt_provision_refused_total{reason=\"unknown_key\"}")
      named = value == 2;
  EXPECT_TRUE(named);
}

// A live retained publish reaches current subscribers as a normal message (here a bad one);
// the broker replays the retained copy, flagged, to every later subscriber: refused.
TEST_F(ProvisionTopicsTest, RetainedRequestsAreRefused) {
  expect_refused("factory-1", "door-r", "{not json", "invalid_argument", "bad_json",
                 /*retain=*/true);
  MqttConnectionOptions options;
  options.url = stack_.broker->url();
  options.client_id = "gatehouse-test-2";
  auto connection = MqttConnection::create(options);
  ASSERT_TRUE(connection.is_ok());
  ProvisionTopics second(**connection, *registry_, ProvisionTopicsOptions{});
  second.set_service(devices_);
  ASSERT_TRUE(second.install(**connection).is_ok());
  const auto before = journal_->last_position();
  ASSERT_TRUE((*connection)->start().is_ok());
  ASSERT_TRUE((*connection)->wait_connected(kWait));
  auto refused =
      door_->wait_for(request_topic("factory-1", "door-r") + "/reply",
                      [](const Message& m) { return parse(m.payload)["reason"] == "retained"; });
  ASSERT_TRUE(refused);
  EXPECT_EQ(parse(refused->payload)["error"]["code"], "invalid_argument");
  EXPECT_EQ(second.counters().refused_of(ProvisionRefusal::kRetained), 1u);
  (*connection)->stop();
  EXPECT_EQ(journal_->last_position(), before);
  EXPECT_FALSE(registry_->has_door("door-r"));
}

TEST_F(ProvisionTopicsTest, TwoRequestsForOneDoorIssueOneCredential) {
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(door_->publish(request_topic("factory-1", "twin"), ""));
  const std::string reply = request_topic("factory-1", "twin") + "/reply";
  ASSERT_TRUE(mqtt_test::eventually([&] { return door_->messages_on(reply).size() == 2; }));
  int ok = 0, exists = 0;
  for (const auto& m : door_->messages_on(reply)) {
    auto answer = parse(m.payload);
    if (answer["ok"] == true) ++ok;
    if (answer["ok"] == false && answer["error"]["code"] == "already_exists") ++exists;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(exists, 1);
  EXPECT_EQ(*journal_->stream_version(std::string(door_credentials::kStream)), 1u);
}

}  // namespace
}  // namespace gh::mqtt_adapter
