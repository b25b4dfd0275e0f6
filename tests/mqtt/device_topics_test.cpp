// The device topics end to end: a device (plain paho client) talks through a real mosquitto
// to our MqttConnection + DeviceTopics, backed by the real DeviceSystem on a real RocksDB
// journal in a temporary directory (mqtt_test::DeviceStack).
#include "adapters/mqtt/device_topics.h"

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/device/device_system.h"
#include "adapters/codec/picture_id.h"
#include "adapters/mqtt/mqtt_adapter.h"
#include "adapters/mqtt/mqtt_metrics.h"
#include "tests/mqtt/device_stack.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using device::wait_for;
using mqtt_test::kWait;
using mqtt_test::Message;
using nlohmann::json;

const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(1000, 'j');
const std::string kPng = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(500, 'p');

json parse(const std::string& text) { return json::parse(text, nullptr, false); }

class DeviceTopicsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(stack_.start_broker("mqtt-devices")); }

  // Starts the server side; tests may change options first.
  void start(device::DeviceSystemOptions system_options = {}) {
    ASSERT_NO_FATAL_FAILURE(stack_.open_store());
    auto options = stack_.adapter_options();
    options.devices = topic_options_;
    options.devices.picture_url = [](const std::string& id) {
      return "http://127.0.0.1:8080/pictures/" + id + "?sig=test";
    };
    ASSERT_NO_FATAL_FAILURE(stack_.create_adapter(std::move(options)));
    topics_ = &stack_.adapter->devices();
    ASSERT_NO_FATAL_FAILURE(stack_.start_devices(std::move(system_options)));
    journal_ = stack_.journal.get();
    devices_ = stack_.devices.get();

    device_ = std::make_unique<mqtt_test::TestClient>(stack_.broker->url(), "door-client");
    ASSERT_TRUE(device_->connect());
    ASSERT_TRUE(device_->subscribe("gatehouse/#"));
  }

  void TearDown() override {
    stack_.stop();
    device_.reset();
  }

  std::string topic(const std::string& id, const std::string& word) {
    return "gatehouse/devices/" + id + "/" + word;
  }

  // The first retained-or-live status of `id` whose JSON satisfies `pred`.
  std::optional<json> wait_status(const std::string& id,
                                  const std::function<bool(const json&)>& pred) {
    auto m = device_->wait_for(topic(id, "status"),
                               [&](const Message& m) { return pred(parse(m.payload)); });
    if (!m) return std::nullopt;
    return parse(m->payload);
  }

  // Registers `id` through its own hello and waits for its status.
  void hello(const std::string& id) {
    ASSERT_TRUE(device_->publish(topic(id, "hello"), R"({"type":"lock","name":"Front door"})"));
    ASSERT_TRUE(wait_status(id, [](const json& j) { return j.value("registered", false); }));
  }

  // Publishes `payload` on `word` of `id`, waits for the n-th error of `id`, and checks that
  // nothing was written to the journal.
  json expect_error(const std::string& id, const std::string& word, const std::string& payload,
                    const std::string& code, const std::string& reason) {
    auto before = journal_->last_position();
    size_t n = device_->messages_on(topic(id, "error")).size();
    EXPECT_TRUE(device_->publish(topic(id, word), payload));
    std::optional<json> error;
    EXPECT_TRUE(mqtt_test::eventually([&] {
      auto errors = device_->messages_on(topic(id, "error"));
      if (errors.size() <= n) return false;
      error = parse(errors[n].payload);
      return true;
    })) << word;
    if (!error) return json();
    EXPECT_EQ((*error)["ok"], false);
    EXPECT_EQ((*error)["error"]["code"], code) << error->dump();
    EXPECT_EQ((*error)["reason"], reason) << error->dump();
    EXPECT_EQ((*error)["topic"], topic(id, word));
    EXPECT_FALSE((*error)["error"]["message"].get<std::string>().empty());
    EXPECT_EQ(journal_->last_position(), before) << "a rejected message wrote an event";
    return *error;
  }

  mqtt_test::DeviceStack stack_;
  RocksdbJournal* journal_ = nullptr;
  device::DeviceSystem* devices_ = nullptr;
  DeviceTopicsOptions topic_options_;
  DeviceTopics* topics_ = nullptr;
  std::unique_ptr<mqtt_test::TestClient> device_;
};

TEST_F(DeviceTopicsTest, HelloRegistersAndPublishesRetainedStatus) {
  start();
  ASSERT_TRUE(device_->publish(topic("door1", "hello"),
                               R"({"type":"lock","name":"Front door","firmware":"1.0"})"));
  auto status = wait_status("door1", [](const json& j) { return j.value("registered", false); });
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["id"], "door1");
  EXPECT_EQ((*status)["name"], "Front door");
  EXPECT_EQ((*status)["firmware"], "1.0");
  EXPECT_EQ((*status)["provisioned"], false);
  EXPECT_GE(topics_->counters().received_of(DeviceTopic::kHello), 1u);

  auto state = wait_for<device::State>([&](auto done) { devices_->get("door1", done); });
  ASSERT_TRUE(state.is_ok());
  EXPECT_TRUE(state->registered);

  // Retained: a client arriving later gets the latest status at once.
  mqtt_test::TestClient late(stack_.broker->url(), "late");
  ASSERT_TRUE(late.connect());
  ASSERT_TRUE(late.subscribe(topic("door1", "status")));
  auto retained = late.wait_for(topic("door1", "status"));
  ASSERT_TRUE(retained);
  EXPECT_TRUE(retained->retained);
  EXPECT_EQ(parse(retained->payload)["id"], "door1");
}

TEST_F(DeviceTopicsTest, EmptyHelloIsEnough) {
  start();
  ASSERT_TRUE(device_->publish(topic("door2", "hello"), ""));
  EXPECT_TRUE(wait_status("door2", [](const json& j) { return j.value("registered", false); }));
}

TEST_F(DeviceTopicsTest, StateReportsUpdateTheStatus) {
  start();
  hello("door1");
  ASSERT_TRUE(device_->publish(topic("door1", "state"), "LOCKED"));
  EXPECT_TRUE(wait_status("door1", [](const json& j) { return j["reported"] == "LOCKED"; }));
  ASSERT_TRUE(device_->publish(topic("door1", "state"), R"({"state":"UNLOCKED"})"));
  EXPECT_TRUE(wait_status("door1", [](const json& j) { return j["reported"] == "UNLOCKED"; }));
  ASSERT_TRUE(device_->publish(topic("door1", "availability"), "offline"));
  EXPECT_TRUE(wait_status("door1", [](const json& j) { return j["online"] == false; }));
  ASSERT_TRUE(device_->publish(topic("door1", "availability"), "online"));
  EXPECT_TRUE(wait_status(
      "door1", [](const json& j) { return j["online"] == true && j["reported"] == "UNLOCKED"; }));
}

TEST_F(DeviceTopicsTest, LockCommandGoesToTheDeviceAndIsConfirmed) {
  start();
  hello("door1");
  // A door that says hello is asked for its state first (docs/protocol.md "Presence").
  auto asked = device_->wait_for(topic("door1", "command"));
  ASSERT_TRUE(asked);
  EXPECT_EQ(asked->payload, "GET");
  EXPECT_FALSE(asked->retained);
  events::Cause cause;
  cause.set_kind(events::Cause::API_TOKEN);
  cause.set_name("ops");
  cause.set_channel("http");
  auto command = wait_for<device::CommandRecord>(
      [&](auto done) { devices_->request_lock("door1", events::LOCK, "", cause, done); });
  ASSERT_TRUE(command.is_ok()) << command.status().to_string();
  auto sent = device_->wait_for(topic("door1", "command"),
                                [](const mqtt_test::Message& m) { return m.payload != "GET"; });
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->payload, "LOCK");
  EXPECT_FALSE(sent->retained);

  ASSERT_TRUE(device_->publish(topic("door1", "state"), "LOCKED"));
  auto outcome = wait_for<device::CommandRecord>([&](auto done) {
    devices_->request_lock_and_wait("door1", events::LOCK, command->id, cause, kWait, done);
  });
  ASSERT_TRUE(outcome.is_ok());
  EXPECT_EQ(outcome->status, device::CommandStatus::kConfirmed);
  EXPECT_TRUE(wait_status(
      "door1", [](const json& j) { return j["reported"] == "LOCKED" && j["pending"].is_null(); }));
}

TEST_F(DeviceTopicsTest, StrangerPictureRaisesAnAlertWithTheUrl) {
  start();
  hello("door1");
  ASSERT_TRUE(device_->publish(topic("door1", "stranger"), kJpeg));
  auto alert = device_->wait_for("gatehouse/alerts/stranger");
  ASSERT_TRUE(alert);
  json j = parse(alert->payload);
  std::string id = codec::picture_id(kJpeg);
  EXPECT_EQ(j["device"], "door1");
  EXPECT_EQ(j["picture_id"], id);
  EXPECT_EQ(j["content_type"], "image/jpeg");
  EXPECT_EQ(j["url"], "http://127.0.0.1:8080/pictures/" + id + "?sig=test");
  EXPECT_FALSE(j["alert_id"].get<std::string>().empty());
  EXPECT_TRUE(j["time"].is_string());

  auto bytes = devices_->picture(id);
  ASSERT_TRUE(bytes.is_ok()) << bytes.status().to_string();
  EXPECT_EQ(*bytes, kJpeg);
  EXPECT_TRUE(wait_status("door1", [](const json& s) { return s["strangers_seen"] == 1; }));

  ASSERT_TRUE(device_->publish(topic("door1", "stranger"), kPng));
  EXPECT_TRUE(device_->wait_for("gatehouse/alerts/stranger", [](const Message& m) {
    return parse(m.payload)["content_type"] == "image/png";
  }));
}

// A live retained publish reaches current subscribers as a normal message; the retained
// flag marks the copies the broker replays on (re)subscribe. Planted before gatehouse
// connects, they are exactly what every reconnect of gatehouse would see again: a retained
// "UNLOCKED" would overwrite the door's real report each time. Every input topic refuses
// them (issue 9 item 2).
TEST_F(DeviceTopicsTest, RetainedMessagesOnEveryDeviceTopicAreRefused) {
  {
    mqtt_test::TestClient fake(stack_.broker->url(), "fake-door");
    ASSERT_TRUE(fake.connect());
    ASSERT_TRUE(fake.publish(topic("door1", "hello"), "{}", /*retain=*/true));
    ASSERT_TRUE(fake.publish(topic("door1", "availability"), "online", /*retain=*/true));
    ASSERT_TRUE(fake.publish(topic("door1", "state"), "UNLOCKED", /*retain=*/true));
    ASSERT_TRUE(fake.publish(topic("door1", "stranger"), kJpeg, /*retain=*/true));
  }
  start();
  // The errors go out before our test device subscribes, so watch the counter.
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return topics_->counters().rejected_of(Rejection::kRetained) == 4; }));
  EXPECT_EQ(topics_->counters().errors_published.load(), 4u);
  EXPECT_EQ(journal_->last_position(), 0u) << "a retained message wrote an event";
  EXPECT_TRUE(device_->messages_on("gatehouse/alerts/stranger").empty());
  // The real door then speaks for itself; its retained fake stays refused.
  hello("door1");
  ASSERT_TRUE(device_->publish(topic("door1", "state"), "LOCKED"));
  EXPECT_TRUE(wait_status("door1", [](const json& j) { return j["reported"] == "LOCKED"; }));
  EXPECT_EQ(topics_->counters().rejected_of(Rejection::kRetained), 4u);
}

// Issue 9 item 4: a report no command explains is recorded, shown in the status and alerted.
TEST_F(DeviceTopicsTest, UnexplainedReportRaisesAnUnexpectedAlert) {
  start();
  hello("door1");
  events::Cause cause;
  cause.set_kind(events::Cause::API_TOKEN);
  cause.set_name("ops");
  cause.set_channel("http");
  auto command = wait_for<device::CommandRecord>(
      [&](auto done) { devices_->request_lock("door1", events::LOCK, "", cause, done); });
  ASSERT_TRUE(command.is_ok());
  ASSERT_TRUE(device_->publish(topic("door1", "state"), "LOCKED"));
  ASSERT_TRUE(wait_status(
      "door1", [](const json& j) { return j["reported"] == "LOCKED" && j["pending"].is_null(); }));

  ASSERT_TRUE(device_->publish(topic("door1", "state"), "UNLOCKED"));  // nobody asked
  auto alert = device_->wait_for("gatehouse/alerts/unexpected");
  ASSERT_TRUE(alert);
  EXPECT_FALSE(alert->retained);
  json j = parse(alert->payload);
  EXPECT_EQ(j["device"], "door1");
  EXPECT_EQ(j["reported"], "UNLOCKED");
  EXPECT_EQ(j["desired"], "LOCKED");
  EXPECT_TRUE(j["at"].is_string());
  auto status = wait_status("door1", [](const json& s) { return !s["unexpected"].is_null(); });
  ASSERT_TRUE(status);
  EXPECT_EQ((*status)["desired"], "LOCKED");
  EXPECT_EQ((*status)["reported"], "UNLOCKED");
  EXPECT_EQ((*status)["unexpected"]["reported"], "UNLOCKED");
  EXPECT_EQ(topics_->counters().unexpected_published.load(), 1u);

  // Back to the desired state: explained, the status clears it, no new alert.
  ASSERT_TRUE(device_->publish(topic("door1", "state"), "LOCKED"));
  EXPECT_TRUE(wait_status("door1", [](const json& s) {
    return s["reported"] == "LOCKED" && s["unexpected"].is_null();
  }));
  EXPECT_EQ(device_->messages_on("gatehouse/alerts/unexpected").size(), 1u);
}

TEST_F(DeviceTopicsTest, PicturesOverTheRateLimitAreAnsweredAndWriteNothing) {
  device::DeviceSystemOptions options;
  options.pictures.max_per_minute = 2;
  start(options);
  hello("door1");
  ASSERT_TRUE(device_->publish(topic("door1", "stranger"), kJpeg));
  ASSERT_TRUE(device_->publish(topic("door1", "stranger"), kPng));
  ASSERT_TRUE(mqtt_test::eventually(
      [&] { return device_->messages_on("gatehouse/alerts/stranger").size() == 2; }));
  expect_error("door1", "stranger", kJpeg + "x", "too_large", "rate_limited");
  EXPECT_EQ(topics_->counters().rejected_of(Rejection::kRateLimited), 1u);
  EXPECT_EQ(device_->messages_on("gatehouse/alerts/stranger").size(), 2u);
}

TEST_F(DeviceTopicsTest, BadInputIsAnsweredOnTheErrorTopicAndWritesNothing) {
  topic_options_.max_payload_bytes = 1024;
  topic_options_.max_picture_bytes = 4096;
  start();
  hello("door1");
  expect_error("door1", "hello", "{not json", "invalid_argument", "bad_json");
  expect_error("door1", "hello", "[1,2]", "invalid_argument", "bad_json");
  expect_error("door1", "hello", R"({"name":42})", "invalid_argument", "bad_value");
  expect_error("door1", "hello", R"({"name":")" + std::string(200, 'n') + "\"}", "invalid_argument",
               "bad_value");
  expect_error("door1", "state", "OPEN", "invalid_argument", "bad_value");
  expect_error("door1", "state", R"({"state":7})", "invalid_argument", "bad_json");
  expect_error("door1", "state", R"({"state":)", "invalid_argument", "bad_json");
  expect_error("door1", "state", std::string(2000, 'L'), "too_large", "too_large");
  expect_error("door1", "availability", "maybe", "invalid_argument", "bad_value");
  expect_error("door1", "stranger", "GIF89a not a jpeg", "invalid_argument", "bad_picture");
  expect_error("door1", "stranger", std::string("\xFF\xD8\xFF", 3) + std::string(5000, 'x'),
               "too_large", "too_large");
  EXPECT_EQ(topics_->counters().rejected_of(Rejection::kBadJson), 4u);
  EXPECT_EQ(topics_->counters().rejected_of(Rejection::kTooLarge), 2u);
  EXPECT_EQ(topics_->counters().rejected_of(Rejection::kBadPicture), 1u);
}

TEST_F(DeviceTopicsTest, UnregisteredDeviceIsRefusedByTheService) {
  device::DeviceSystemOptions options;
  options.auto_register = false;
  start(options);
  expect_error("ghost", "hello", "{}", "failed_precondition", "service_rejected");
  expect_error("ghost", "state", "LOCKED", "failed_precondition", "service_rejected");
  expect_error("ghost", "stranger", kJpeg, "failed_precondition", "service_rejected");
  EXPECT_EQ(journal_->last_position(), 0u);
}

TEST_F(DeviceTopicsTest, InvalidIdsAreCountedAndDropped) {
  start();
  auto before = journal_->last_position();
  ASSERT_TRUE(device_->publish("gatehouse/devices/bad id!/hello", "{}"));
  ASSERT_TRUE(device_->publish("gatehouse/devices/" + std::string(65, 'a') + "/state", "LOCKED"));
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return topics_->counters().rejected_of(Rejection::kInvalidId) == 2; }));
  EXPECT_EQ(topics_->counters().errors_published.load(), 0u);
  EXPECT_EQ(journal_->last_position(), before);
}

TEST_F(DeviceTopicsTest, UnknownSubTopicIsAnswered) {
  start();
  // We only subscribe to the four families, so feed the handler directly, as a broker
  // bridge with a wider filter would.
  topics_->on_message("gatehouse/devices/door9/bogus", "x");
  auto error = device_->wait_for(topic("door9", "error"));
  ASSERT_TRUE(error);
  EXPECT_EQ(parse(error->payload)["reason"], "unknown_topic");
  // Our own outbound topics are never answered (that could loop).
  topics_->on_message("gatehouse/devices/door9/error", "x");
  topics_->on_message("gatehouse/devices/door9/status", "x");
  EXPECT_EQ(topics_->counters().rejected_of(Rejection::kUnknownTopic), 3u);
  EXPECT_EQ(topics_->counters().errors_published.load(), 1u);
  EXPECT_EQ(journal_->last_position(), 0u);
}

TEST_F(DeviceTopicsTest, MetricsCountWhatHappened) {
  start();
  hello("door1");
  expect_error("door1", "state", "OPEN", "invalid_argument", "bad_value");
  auto metrics = stack_.adapter->metrics();
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : metrics) {
      if (n == name) return v;
    }
    return -1.0;
  };
  EXPECT_EQ(value("gatehouse_mqtt_connected"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_received_total{topic=\"hello\"}"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_received_total{topic=\"state\"}"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_rejected_total{reason=\"bad_value\"}"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_published_total{kind=\"error\"}"), 1);
  EXPECT_GE(value("gatehouse_mqtt_published_total{kind=\"status\"}"), 1);
  EXPECT_GE(value("gatehouse_mqtt_nodelay_sockets_total"), 1);
}

// Without a broker URL the adapter runs its own mosquitto.
TEST(MqttAdapterTest, StartsAPrivateBrokerWhenNoUrlIsGiven) {
  auto dir = mqtt_test::temp_dir("mqtt-private");
  {
    MqttAdapterOptions options;
    options.broker_dir = dir / "broker";
    options.connection.client_id = "gatehouse-private";
    auto adapter = MqttAdapter::create(std::move(options));
    ASSERT_TRUE(adapter.is_ok()) << adapter.status().to_string();
    ASSERT_NE((*adapter)->private_broker(), nullptr);
    EXPECT_EQ((*adapter)->broker_url(), (*adapter)->private_broker()->url());
    // No service yet: device messages are refused as unavailable, nothing crashes.
    ASSERT_TRUE((*adapter)->start(nullptr).is_ok());
    ASSERT_TRUE((*adapter)->connection().wait_connected(kWait));

    mqtt_test::TestClient device((*adapter)->broker_url(), "early-door");
    ASSERT_TRUE(device.connect());
    ASSERT_TRUE(device.subscribe("gatehouse/#"));
    EXPECT_TRUE(device.wait_for("gatehouse/server/status",
                                [](const Message& m) { return m.payload == "online"; }));
    ASSERT_TRUE(device.publish("gatehouse/devices/d1/hello", "{}"));
    auto error = device.wait_for("gatehouse/devices/d1/error");
    ASSERT_TRUE(error);
    EXPECT_EQ(parse(error->payload)["error"]["code"], "unavailable");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gh::mqtt_adapter

namespace gh::mqtt_adapter {
namespace {

// A device service that holds every state report's answer until told to give it, and a
// publisher that keeps what it is given: the pending bound without a broker or actors.
class HeldReports final : public device::DeviceService {
 public:
  std::vector<device::Callback<device::State>> held;
  void report_state(const std::string&, device::LockState,
                    device::Callback<device::State> done) override {
    held.push_back(std::move(done));
  }
  void hello(const std::string&, device::DeviceInfo, device::Callback<device::State> d) override {
    d(unavailable("not here"));
  }
  void set_availability(const std::string&, bool, device::Callback<device::State> d) override {
    d(unavailable("not here"));
  }
  void report_stranger(const std::string&, device::Picture,
                       device::Callback<device::Stranger> d) override {
    d(unavailable("not here"));
  }
  void provision(const std::string&, device::DeviceInfo, events::Cause,
                 device::Callback<device::State> d) override {
    d(unavailable("not here"));
  }
  void request_lock(const std::string&, device::LockAction, std::string, events::Cause,
                    device::Callback<device::CommandRecord> d) override {
    d(unavailable("not here"));
  }
  void request_lock_and_wait(const std::string&, device::LockAction, std::string, events::Cause,
                             std::chrono::milliseconds,
                             device::Callback<device::CommandRecord> d) override {
    d(unavailable("not here"));
  }
  void remove(const std::string&, events::Cause, device::Callback<device::State> d) override {
    d(unavailable("not here"));
  }
  void get(const std::string&, device::Callback<device::State> d) override {
    d(unavailable("not here"));
  }
  void review_alert(const std::string&, const std::string&, events::Cause,
                    device::Callback<device::State> d) override {
    d(unavailable("not here"));
  }
  void request_lock_all(device::LockAction, events::Cause,
                        device::Callback<std::vector<device::FanOut>> d) override {
    d(unavailable("not here"));
  }
  Result<std::vector<std::string>> list(const std::string&, size_t) override {
    return std::vector<std::string>{};
  }
  Result<std::vector<device::AuditEntry>> history(const std::string&) override {
    return std::vector<device::AuditEntry>{};
  }
  Result<std::vector<events::Envelope>> events(const std::string&) override {
    return std::vector<events::Envelope>{};
  }
  Result<device::State> state_at(const std::string&, uint64_t, int64_t) override {
    return device::State{};
  }
  Result<std::string> picture(const std::string&) override { return not_found("no picture"); }
};

class KeptMessages final : public Publisher {
 public:
  std::vector<std::pair<std::string, std::string>> sent;
  void publish(const std::string& topic, std::string payload, int, bool) override {
    sent.emplace_back(topic, std::move(payload));
  }
  void publish_response(const std::string& topic, std::string payload, int,
                        const std::optional<std::string>&) override {
    sent.emplace_back(topic, std::move(payload));
  }
};

// Issue 12's exhaustion campaign: a flood from one door queued in gatehouse's memory without
// limit. Past max_pending_per_door unanswered messages the door is answered `busy` and
// nothing reaches the service; other doors are not affected; once answered it is let in.
TEST(DeviceTopicsPending, ADoorPastItsPendingMessagesIsRefusedBusyAndOthersAreNot) {
  KeptMessages published;
  HeldReports service;
  DeviceTopicsOptions options;
  options.max_pending_per_door = 3;
  DeviceTopics topics(published, options);
  topics.set_service(&service);
  for (int i = 0; i < 5; ++i) topics.on_message("gatehouse/devices/door1/state", "LOCKED", false);
  EXPECT_EQ(service.held.size(), 3u) << "only max_pending_per_door reached the service";
  EXPECT_EQ(topics.counters().rejected_of(Rejection::kBusy), 2u);
  ASSERT_EQ(published.sent.size(), 2u);
  EXPECT_EQ(published.sent[0].first, "gatehouse/devices/door1/error");
  auto error = parse(published.sent[0].second);
  EXPECT_EQ(error["reason"], "busy") << error.dump();
  EXPECT_EQ(error["error"]["code"], "unavailable") << error.dump();

  topics.on_message("gatehouse/devices/door2/state", "LOCKED", false);
  EXPECT_EQ(service.held.size(), 4u) << "another door is not held back";

  service.held[0](device::State{});  // door1's first report is carried out
  topics.on_message("gatehouse/devices/door1/state", "UNLOCKED", false);
  EXPECT_EQ(service.held.size(), 5u) << "door1 is let in again once it caught up";
  EXPECT_EQ(topics.counters().rejected_of(Rejection::kBusy), 2u);
  topics.set_service(nullptr);
}

}  // namespace
}  // namespace gh::mqtt_adapter
