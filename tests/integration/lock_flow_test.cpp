// The whole server (App: store, journal, actors, MQTT, HTTP, a private mosquitto) against a
// plain paho client playing the door and an HTTP client playing the caller.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
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

  // /metrics counts the outcome and the door heard from since the start.
  auto metrics = http_->Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const char* line :
       {"gatehouse_device_command_outcomes_total{result=\"confirmed\"} 1\n",
        "gatehouse_device_command_outcomes_total{result=\"timed_out\"} 0\n",
        "gatehouse_doors{presence=\"online\"} 1\n", "gatehouse_doors{presence=\"unknown\"} 0\n"})
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line << metrics->body;
}

// With legacy on, the seed's Flask routes answer GET as the seed did -- still only with a
// token: without one nothing moves.
TEST_F(LockFlow, LegacyGetRoutesLockWithATokenOnly) {
  stop();
  configure = [](Config& c) { c.legacy = "on"; };
  start_with_device();
  hello();
  auto refused = http_->Get("/lock?device=door1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401) << refused->body;
  EXPECT_FALSE(device_->wait_for("gatehouse/devices/door1/command", lock_command,
                                 std::chrono::milliseconds(300)))
      << "a request without a token sends nothing";

  auto locked = http_->Get("/lock?device=door1", auth());
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 202) << locked->body;
  auto command = device_->wait_for("gatehouse/devices/door1/command", lock_command);
  ASSERT_TRUE(command);
  EXPECT_EQ(command->payload, "LOCK");

  auto unlocked = http_->Get("/unlock?device=door1", auth());
  ASSERT_TRUE(unlocked);
  EXPECT_EQ(unlocked->status, 202) << unlocked->body;
  command = device_->wait_for("gatehouse/devices/door1/command",
                              [](const Message& m) { return m.payload == "UNLOCK"; });
  ASSERT_TRUE(command);

  // The seed's /test: ?action= says which.
  auto tested = http_->Get("/test?device=door1", auth());
  ASSERT_TRUE(tested);
  EXPECT_EQ(tested->status, 400) << "neither lock nor unlock";
  auto with_action = http_->Get("/test?device=door1&action=lock", auth());
  ASSERT_TRUE(with_action);
  EXPECT_EQ(with_action->status, 202) << with_action->body;
  command = device_->wait_for("gatehouse/devices/door1/command",
                              [](const Message& m) { return m.payload == "LOCK"; });
  ASSERT_TRUE(command);
}

TEST_F(LockFlow, LegacyGetRoutesAreOffWithoutLegacy) {
  auto res = http_->Get("/lock?device=door1", auth());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
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
  const double written = events_written();
  const double denied = metric(R"(gatehouse_broker_denied_total{access="publish"})");
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
  EXPECT_EQ(events_written(), written) << "an anonymous client's fake wrote an event";
  EXPECT_TRUE(mqtt_test::eventually([&] {
    return metric(R"(gatehouse_broker_denied_total{access="publish"})") >= denied + 5;
  })) << "the five refused publishes are counted";

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

// The rest of the spoofing matrix through the whole server (issue 9): a logged-in chat
// client subscribing to `#`, to another client's inbox or to a door's topics, or publishing
// for a door; the same client once its session ended; an API token revoked with gatehousectl
// reconnecting. Every attempt is refused by the broker and counted on /metrics, nothing
// reaches door1 and no event is written.
TEST_F(LockFlow, ChatClientsAndEndedCredentialsReachNothingAndWriteNothing) {
  hello();
  ASSERT_EQ(
      call("POST", "/api/users", {}, {{"name", "mallory"}, {"password", "correct horse"}}).status,
      201);
  auto login =
      call("POST", "/api/sessions", {}, {{"name", "mallory"}, {"password", "correct horse"}});
  ASSERT_EQ(login.status, 201) << login.body.dump();
  const std::string session = login.body.value("token", "");
  const auto door1_before = get("/devices/door1")["device"];
  const double written = events_written();
  const double subscribes_denied = metric(R"(gatehouse_broker_denied_total{access="subscribe"})");
  const double publishes_denied = metric(R"(gatehouse_broker_denied_total{access="publish"})");
  const double connects_refused = metric("gatehouse_broker_connects_refused_total");

  TestClient chat(app_->info().broker_url, "mallory-phone-5d1e");
  ASSERT_TRUE(mqtt_test::eventually([&] { return chat.connect("mallory", session); }));
  ASSERT_TRUE(chat.subscribe_granted("gatehouse/inbox/mallory-phone-5d1e/#"));
  EXPECT_FALSE(chat.subscribe_granted("#"));
  EXPECT_FALSE(chat.subscribe_granted("gatehouse/inbox/door1-test/#"));
  EXPECT_FALSE(chat.subscribe_granted("gatehouse/inbox/+/#"));
  EXPECT_FALSE(chat.subscribe_granted("gatehouse/devices/door1/command"));
  EXPECT_FALSE(chat.subscribe_granted("gatehouse/chat/login"));  // others' passwords
  chat.publish("gatehouse/devices/door1/state", "UNLOCKED");
  chat.publish("gatehouse/devices/door1/command", "UNLOCK");
  chat.publish("gatehouse/alerts/stranger", "{}");
  // gatehouse answers a malformed request in the sender's inbox: the broker handles one
  // client's messages in order, so every refused message before it is gone for good.
  ASSERT_TRUE(
      chat.publish("gatehouse/chat/login",
                   R"({"id":1,"reply_to":"gatehouse/inbox/mallory-phone-5d1e/r","name":7})"));
  ASSERT_TRUE(chat.wait_for("gatehouse/inbox/mallory-phone-5d1e/r"));
  for (const auto& m : device_->messages_on("gatehouse/devices/door1/command"))
    EXPECT_FALSE(lock_command(m)) << m.payload;  // only gatehouse's GET
  EXPECT_TRUE(chat.messages_on("gatehouse/devices/door1/command").empty());
  EXPECT_EQ(get("/devices/door1")["device"]["version"], door1_before["version"]);
  EXPECT_EQ(events_written(), written) << "a refused message wrote an event";
  // Counted (the broker reports its counters every few seconds).
  EXPECT_TRUE(mqtt_test::eventually([&] {
    return metric(R"(gatehouse_broker_denied_total{access="subscribe"})") >=
               subscribes_denied + 5 &&
           metric(R"(gatehouse_broker_denied_total{access="publish"})") >= publishes_denied + 3;
  })) << metric(R"(gatehouse_broker_denied_total{access="subscribe"})");

  // The session ends: the client is disconnected at once and cannot come back with it.
  ASSERT_EQ(call("DELETE", "/api/sessions/current", bearer(session)).status, 200);
  EXPECT_TRUE(mqtt_test::eventually([&] { return !chat.connected(); }));
  EXPECT_FALSE(TestClient(app_->info().broker_url, "mallory-again").connect("mallory", session));
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_broker_connects_refused_total") >= connects_refused + 1; }));

  // An API token revoked with gatehousectl (gatehouse stopped) cannot reconnect either.
  stop();
  ASSERT_EQ(gatehousectl("token create ha"), 0);
  std::string token;
  std::getline(std::ifstream(dir_ / "ctl.out"), token);
  start_with_device();
  {
    TestClient ha(app_->info().broker_url, "ha-1");
    ASSERT_TRUE(mqtt_test::eventually([&] { return ha.connect("ha", token); }));
    EXPECT_TRUE(ha.subscribe_granted("gatehouse/devices/+/status"));
    EXPECT_FALSE(ha.subscribe_granted("gatehouse/devices/+/command"));
  }
  stop();
  ASSERT_EQ(gatehousectl("token revoke ha"), 0);
  start_with_device();
  const double written_after_restart = events_written();
  EXPECT_FALSE(TestClient(app_->info().broker_url, "ha-2").connect("ha", token));
  EXPECT_EQ(events_written(), written_after_restart);
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_broker_connects_refused_total") >= 1; }));
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
  // http.port=0: the link carries the port actually bound.
  EXPECT_EQ(
      url.rfind("http://127.0.0.1:" + std::to_string(app_->info().http_port) + "/pictures/", 0), 0u)
      << url;
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
