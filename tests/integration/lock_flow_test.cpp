// The whole server (App: store, journal, actors, MQTT, HTTP, a private mosquitto) against a
// plain paho client playing the door and an HTTP client playing the caller.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "actors/system/credential_registry.h"
#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using mqtt_test::Message;
using mqtt_test::TestClient;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kToken = kApiToken;

// A LOCK or UNLOCK on a command topic: not the GET gatehouse sends a door that says hello.
bool lock_command(const mqtt_test::Message& m) { return m.payload != "GET"; }

class LockFlow : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    start_with_device();
  }
  // The door connects with its own credential (issued once per store, kept across
  // restarts) and reads only its own topics; alerts are read by an integration's API token.
  void start_with_device() {
    start();
    if (secret_.empty()) {
      events::Cause cause;
      cause.set_kind(events::Cause::OPERATOR);
      cause.set_name("test");
      auto issued = app_->credentials().issue_door("door1", cause);
      ASSERT_TRUE(issued.is_ok()) << issued.status().to_string();
      secret_ = *issued;
    }
    device_ = std::make_unique<TestClient>(app_->info().broker_url, "door1-test");
    ASSERT_TRUE(mqtt_test::eventually([&] { return device_->connect("door1", secret_); }));
    for (const char* word : {"command", "status", "error"})
      ASSERT_TRUE(device_->subscribe_granted(std::string("gatehouse/devices/door1/") + word));
    watcher_ = std::make_unique<TestClient>(app_->info().broker_url, "ops-watcher");
    ASSERT_TRUE(watcher_->connect("ops", kApiToken));
    ASSERT_TRUE(watcher_->subscribe_granted("gatehouse/alerts/#"));
  }
  void stop() override {
    device_.reset();
    watcher_.reset();
    AppFixture::stop();
  }
  void restart() {
    stop();
    start_with_device();
  }

  httplib::Headers auth(const std::string& token = kToken) {
    return {{"Authorization", "Bearer " + token}};
  }
  json get(const std::string& path) {
    auto res = http_->Get(path.c_str(), auth());
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  json post(const std::string& path, int expected = 200) {
    auto res = http_->Post(path.c_str(), auth(), "", "text/plain");
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expected) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  void hello() {
    ASSERT_TRUE(device_->publish("gatehouse/devices/door1/hello", R"({"type":"lock"})"));
    ASSERT_TRUE(device_->wait_for("gatehouse/devices/door1/status", [](const Message& m) {
      return json::parse(m.payload, nullptr, false).value("online", false);
    }));
  }

  std::unique_ptr<TestClient> device_;
  std::unique_ptr<TestClient> watcher_;  // an API token's connection: reads the alerts
  std::string secret_;
};

TEST_F(LockFlow, HelloHttpLockDeviceConfirmsHistoryShowsIt) {
  hello();
  // ?wait holds the answer until the device confirms; the device answers from another
  // thread as soon as it receives LOCK.
  auto caller = std::async(std::launch::async, [&] { return post("/devices/door1/lock?wait=30"); });
  auto command = device_->wait_for("gatehouse/devices/door1/command", lock_command);
  ASSERT_TRUE(command);
  EXPECT_EQ(command->payload, "LOCK");
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/state", "LOCKED"));
  auto answer = caller.get();
  EXPECT_EQ(answer["command"]["status"], "confirmed") << answer.dump();

  auto history = get("/devices/door1/history");
  ASSERT_EQ(history["history"].size(), 1u) << history.dump();
  EXPECT_EQ(history["history"][0]["status"], "confirmed");
  EXPECT_EQ(history["history"][0]["requested_by"]["name"], "ops");
  EXPECT_EQ(history["history"][0]["requested_by"]["channel"], "http");
  EXPECT_EQ(get("/devices/door1")["device"]["reported"], "LOCKED");
}

// The spoofing matrix through the whole server (issue 9): an anonymous client and another
// door try to act as door1, send it a command, and read what is not theirs. Each attacker
// then sends a request that gatehouse answers in its own inbox: the broker handles one
// client's messages in order, so once that answer is in, every refused message is gone for
// good. Nothing reached door1, nothing was written.
TEST_F(LockFlow, NobodyButDoor1ActsAsDoor1AndNothingIsWritten) {
  hello();
  const auto before = get("/devices/door1")["device"];
  const std::string door2_secret = [&] {
    events::Cause cause;
    cause.set_kind(events::Cause::OPERATOR);
    cause.set_name("test");
    return *app_->credentials().issue_door("door2", cause);
  }();
  // gatehouse answers a malformed request in the sender's inbox: the end of the line.
  auto drained = [](TestClient& client, const std::string& inbox) {
    EXPECT_TRUE(client.publish("gatehouse/chat/login",
                               R"({"id":1,"reply_to":")" + inbox + R"(","name":7})"));
    EXPECT_TRUE(client.wait_for(inbox).has_value());
  };
  TestClient anonymous(app_->info().broker_url, "anon-7f3a9c2e41d0b5a6");
  ASSERT_TRUE(anonymous.connect());
  ASSERT_TRUE(anonymous.subscribe_granted("gatehouse/inbox/anon-7f3a9c2e41d0b5a6/#"));
  EXPECT_FALSE(anonymous.subscribe_granted("#"));
  EXPECT_FALSE(anonymous.subscribe_granted("gatehouse/devices/door1/command"));
  EXPECT_FALSE(anonymous.subscribe_granted("gatehouse/inbox/door1-test/#"));
  anonymous.publish("gatehouse/devices/door1/state", "UNLOCKED");
  anonymous.publish("gatehouse/devices/door1/hello", R"({"name":"fake"})");
  anonymous.publish("gatehouse/devices/door1/stranger", std::string("\xFF\xD8\xFF\xE0", 4));
  anonymous.publish("gatehouse/devices/door1/command", "UNLOCK");
  anonymous.publish("gatehouse/devices/door9/hello", "{}");
  drained(anonymous, "gatehouse/inbox/anon-7f3a9c2e41d0b5a6/r");

  TestClient door2(app_->info().broker_url, "door2-test");
  ASSERT_TRUE(mqtt_test::eventually([&] { return door2.connect("door2", door2_secret); }));
  EXPECT_FALSE(door2.subscribe_granted("gatehouse/devices/door1/command"));
  door2.publish("gatehouse/devices/door1/state", "UNLOCKED");
  door2.publish("gatehouse/devices/door2/state", "UNLOCKED", /*retain=*/true);
  door2.publish("gatehouse/devices/door1/command", "UNLOCK");
  door2.publish("gatehouse/devices/door2/hello", "{}");  // allowed: door2's own
  ASSERT_TRUE(
      mqtt_test::eventually([&] { return http_->Get("/devices/door2", auth())->status == 200; }));

  // Nor may anyone take gatehouse's client id.
  EXPECT_FALSE(TestClient(app_->info().broker_url, "gatehouse").connect());
  EXPECT_FALSE(TestClient(app_->info().broker_url, "gh").connect("gatehouse", "guess"));

  const auto after = get("/devices/door1")["device"];
  EXPECT_EQ(after["version"], before["version"]) << after.dump();
  EXPECT_EQ(after["reported"], before["reported"]);
  EXPECT_EQ(after["name"], before["name"]);
  for (const auto& m : device_->messages_on("gatehouse/devices/door1/command"))
    EXPECT_FALSE(lock_command(m)) << m.payload;
  EXPECT_EQ(get("/devices?limit=10")["devices"].size(), 2u);  // no door9
  // A revoked door is disconnected at once and cannot come back.
  events::Cause cause;
  cause.set_kind(events::Cause::OPERATOR);
  cause.set_name("test");
  ASSERT_TRUE(app_->credentials().revoke_door("door2", cause).is_ok());
  EXPECT_TRUE(mqtt_test::eventually([&] { return !door2.connected(); }));
  EXPECT_FALSE(TestClient(app_->info().broker_url, "door2-again").connect("door2", door2_secret));
}

TEST_F(LockFlow, CommandForOfflineDeviceIsDeliveredWhenItReturns) {
  hello();
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/availability", "offline"));
  ASSERT_TRUE(device_->wait_for("gatehouse/devices/door1/status", [](const Message& m) {
    auto j = json::parse(m.payload, nullptr, false);
    return j.is_object() && !j.value("online", true);
  }));
  auto queued = post("/devices/door1/unlock", 202);  // accepted, not yet done
  EXPECT_EQ(queued["command"]["status"], "requested") << queued.dump();
  EXPECT_FALSE(device_->wait_for("gatehouse/devices/door1/command", lock_command,
                                 std::chrono::milliseconds(300)))
      << "nothing is sent to an offline device";
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/availability", "online"));
  auto command = device_->wait_for("gatehouse/devices/door1/command", lock_command);
  ASSERT_TRUE(command);
  EXPECT_EQ(command->payload, "UNLOCK");
}

TEST_F(LockFlow, StrangerPictureRoundTripsByteForByte) {
  hello();
  std::string picture("\xFF\xD8\xFF\xE0", 4);
  for (int i = 0; i < 5000; ++i) picture.push_back(static_cast<char>(i * 7919 % 256));
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/stranger", picture));
  auto alert = watcher_->wait_for("gatehouse/alerts/stranger");
  ASSERT_TRUE(alert);
  auto body = json::parse(alert->payload, nullptr, false);
  ASSERT_TRUE(body.is_object()) << alert->payload;
  EXPECT_EQ(body["device"], "door1");
  std::string url = body["url"];
  auto path = url.substr(url.find("/pictures/"));
  // The signed link opens without a token, as a phone would open it.
  auto res = http_->Get(path.c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(res->body, picture);
  // The same picture through the seed's route, with a token.
  auto seed = http_->Get(("/get_pic?id=" + body["picture_id"].get<std::string>()).c_str(), auth());
  ASSERT_TRUE(seed);
  EXPECT_EQ(seed->body, picture);
}

TEST_F(LockFlow, RestartKeepsAllState) {
  hello();
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/state", "UNLOCKED"));
  ASSERT_TRUE(device_->wait_for("gatehouse/devices/door1/status", [](const Message& m) {
    return json::parse(m.payload, nullptr, false).value("reported", "") == "UNLOCKED";
  }));
  auto before = get("/devices/door1")["device"];
  restart();
  auto after = get("/devices/door1")["device"];
  EXPECT_EQ(after["reported"], "UNLOCKED");
  EXPECT_EQ(after["version"], before["version"]);
  EXPECT_EQ(after["registered_at"], before["registered_at"]);
}

TEST_F(LockFlow, MissingOrWrongTokensAreRefusedAndWriteNothing) {
  hello();
  auto version_before = get("/devices/door1")["device"]["version"];
  for (auto headers : {httplib::Headers{}, auth("wrong-token")}) {
    auto res = http_->Post("/devices/door1/lock", headers, "", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_FALSE(res->get_header_value("WWW-Authenticate").empty());
    auto seed = http_->Post("/lock", headers, "", "text/plain");
    ASSERT_TRUE(seed);
    EXPECT_EQ(seed->status, 401);
  }
  EXPECT_EQ(get("/devices/door1")["device"]["version"], version_before);
  EXPECT_FALSE(device_->wait_for("gatehouse/devices/door1/command", lock_command,
                                 std::chrono::milliseconds(300)));
}

TEST_F(LockFlow, BadDeviceInputGetsAnErrorAndChangesNothing) {
  hello();
  auto version_before = get("/devices/door1")["device"]["version"];
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/state", "OPEN_SESAME"));
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/stranger", "not a picture"));
  ASSERT_TRUE(device_->publish("gatehouse/devices/door1/hello", "{not json"));
  ASSERT_TRUE(mqtt_test::eventually(
      [&] { return device_->messages_on("gatehouse/devices/door1/error").size() >= 3; }));
  for (const auto& error : device_->messages_on("gatehouse/devices/door1/error")) {
    auto body = json::parse(error.payload, nullptr, false);
    EXPECT_EQ(body["ok"], false) << error.payload;
    EXPECT_TRUE(body["error"]["code"].is_string()) << error.payload;
  }
  EXPECT_EQ(get("/devices/door1")["device"]["version"], version_before);
}

}  // namespace
}  // namespace gh::server
