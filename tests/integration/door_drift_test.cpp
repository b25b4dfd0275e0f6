// Drift (docs/protocol.md "Drift") through the whole server and a real mosquitto: a door told
// to LOCK that never reports LOCKED is, once the command timeout has passed, a DoorDrifted
// event on its stream, an alert on PREFIX/alerts/drift, a `drift` frame on the console's event
// stream, a drifting door in /metrics and in the device JSON; when it finally reports LOCKED
// the drift ends the same four ways.
#include "tests/http/chat_fixture.h"
#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using nlohmann::json;

class DoorDriftTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    configure = [](Config& c) { c.command_timeout_ms = 1500; };
    start();
  }
  nlohmann::json device(const std::string& id) {
    return call("GET", "/devices/" + id, bearer(kApiToken)).body["device"];
  }
};

TEST_F(DoorDriftTest, ADoorThatNeverReportsTheDesiredStateDriftsUntilItDoes) {
  ASSERT_EQ(call("POST", "/devices", bearer(kApiToken), {{"id", "door1"}}).status, 201);
  auto issued = call("POST", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_EQ(issued.status, 200) << issued.body.dump();
  mqtt_test::TestClient door(app_->info().broker_url, "door1");
  ASSERT_TRUE(door.connect("door1", issued.body["credential"].value("secret", "")));
  ASSERT_TRUE(door.subscribe("gatehouse/devices/door1/command"));
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/availability", "online"));
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/state", "UNLOCKED"));
  ASSERT_TRUE(mqtt_test::eventually([&] { return device("door1")["reported"] == "UNLOCKED"; }));

  mqtt_test::TestClient watcher(app_->info().broker_url, "ops-watcher");
  ASSERT_TRUE(watcher.connect("ops", kApiToken));
  ASSERT_TRUE(watcher.subscribe_granted("gatehouse/alerts/drift"));
  http::testing::SseClient stream(app_->info().http_port, "/api/devices/events", bearer(kApiToken));
  ASSERT_TRUE(stream.wait_for("event: ready\n")) << stream.text();
  EXPECT_EQ(metric("gatehouse_doors_drifting"), 0);
  EXPECT_EQ(metric("gatehouse_device_drift_alerts_total"), 0);

  // The door receives LOCK and never does it.
  auto locked = call("POST", "/devices/door1/lock", bearer(kApiToken));
  ASSERT_TRUE(locked.status == 200 || locked.status == 202) << locked.body.dump();
  ASSERT_TRUE(door.wait_for("gatehouse/devices/door1/command",
                            [](const mqtt_test::Message& m) { return m.payload == "LOCK"; }));

  auto alert = watcher.wait_for("gatehouse/alerts/drift");
  ASSERT_TRUE(alert) << "a drift alert on MQTT";
  auto body = json::parse(alert->payload);
  EXPECT_EQ(body["device"], "door1");
  EXPECT_EQ(body["drifting"], true);
  EXPECT_EQ(body["desired"], "LOCKED");
  EXPECT_EQ(body["reported"], "UNLOCKED");
  EXPECT_EQ(body["timeout_ms"], 1500);
  EXPECT_FALSE(body["since"].is_null());

  ASSERT_TRUE(stream.wait_for("event: drift\n")) << stream.text();
  EXPECT_EQ(stream.frame_data("drift")["device"], "door1");
  EXPECT_EQ(stream.frame_data("drift")["drifting"], true);

  auto drifting = device("door1");
  EXPECT_EQ(drifting["drifting"], true);
  EXPECT_EQ(drifting["drift_since"], body["since"]);
  EXPECT_EQ(metric("gatehouse_doors_drifting"), 1);
  EXPECT_EQ(metric("gatehouse_device_drift_alerts_total"), 1);
  auto timeline = call("GET", "/devices/door1/timeline", bearer(kApiToken)).body["timeline"];
  ASSERT_TRUE(timeline.is_array());
  bool recorded = false;
  for (const auto& entry : timeline) recorded |= entry["event"] == "DoorDrifted";
  EXPECT_TRUE(recorded) << timeline.dump();

  // It catches up: the drift ends, and the console is told to clear the highlight.
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/state", "LOCKED"));
  auto ended = watcher.wait_for("gatehouse/alerts/drift", [](const mqtt_test::Message& m) {
    return json::parse(m.payload, nullptr, false).value("drifting", true) == false;
  });
  ASSERT_TRUE(ended) << "the end of the drift on MQTT";
  EXPECT_EQ(json::parse(ended->payload)["reported"], "LOCKED");
  ASSERT_TRUE(stream.wait_for("\"drifting\":false")) << stream.text();
  EXPECT_TRUE(mqtt_test::eventually([&] { return device("door1")["drifting"] == false; }));
  EXPECT_TRUE(device("door1")["drift_since"].is_null());
  EXPECT_EQ(metric("gatehouse_doors_drifting"), 0);
  EXPECT_EQ(metric("gatehouse_device_drift_alerts_total"), 1);
}

}  // namespace
}  // namespace gh::server
