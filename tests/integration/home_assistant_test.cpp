// Home Assistant through the whole server and a real mosquitto (docs/protocol.md "Home
// Assistant"): a client that behaves as Home Assistant's MQTT lock does finds every door from
// discovery alone, reads its state and availability, locks one and sees LOCKING then LOCKED
// once the door confirms; the door's history names that client's API token as the cause. No
// one else may command a door on the set topic or forge the name the broker attaches to it
// (docs/security.md "Who commands a door over MQTT"), and Home Assistant's birth message
// brings the discovery again.
#include <algorithm>
#include <fstream>

#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using mqtt_test::Message;
using mqtt_test::TestClient;
using nlohmann::json;

class HomeAssistantTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    configure = [](Config& c) { c.ha_discovery = "on"; };
    start();
  }
  // A door provisioned by an operator with `name`, and its broker credential.
  std::string provision(const std::string& id, const std::string& name) {
    auto answer = call("POST", "/devices", bearer(kApiToken), {{"id", id}, {"name", name}});
    EXPECT_EQ(answer.status, 201) << answer.body.dump();
    auto issued = call("POST", "/devices/" + id + "/credential", bearer(kApiToken));
    EXPECT_EQ(issued.status, 200) << issued.body.dump();
    return issued.body["credential"].value("secret", "");
  }
  // The door plays its part: connects, says online, answers gatehouse's GET with `state`.
  std::unique_ptr<TestClient> door_comes(const std::string& id, const std::string& secret,
                                         const std::string& state) {
    auto door = std::make_unique<TestClient>(app_->info().broker_url, id);
    EXPECT_TRUE(door->connect(id, secret));
    const std::string command = "gatehouse/devices/" + id + "/command";
    EXPECT_TRUE(door->subscribe(command));
    EXPECT_TRUE(door->publish("gatehouse/devices/" + id + "/availability", "online"));
    EXPECT_TRUE(door->wait_for(command, [](const Message& m) { return m.payload == "GET"; }));
    EXPECT_TRUE(door->publish("gatehouse/devices/" + id + "/state", state));
    return door;
  }
  // Home Assistant: an API token's name and secret as its MQTT user name and password.
  std::unique_ptr<TestClient> home_assistant(const std::string& client_id = "homeassistant") {
    auto ha = std::make_unique<TestClient>(app_->info().broker_url, client_id);
    EXPECT_TRUE(ha->connect("ops", kApiToken));
    return ha;
  }
  // The discovery configuration of `id`'s lock as Home Assistant receives it.
  json lock_config(TestClient& ha, const std::string& id) {
    auto config = ha.wait_for("homeassistant/lock/gatehouse_" + id + "/config",
                              [](const Message& m) { return !m.payload.empty(); });
    if (!config) return nullptr;
    return json::parse(config->payload, nullptr, false);
  }
  json history(const std::string& id) {
    return call("GET", "/devices/" + id + "/history", bearer(kApiToken)).body["history"];
  }
  // The payloads received on `topic`, in order.
  static std::vector<std::string> payloads(TestClient& client, const std::string& topic) {
    std::vector<std::string> out;
    for (const auto& m : client.messages_on(topic)) out.push_back(m.payload);
    return out;
  }
  std::string ctl_first_line(const std::string& args) {
    EXPECT_EQ(gatehousectl(args), 0) << args;
    std::ifstream file(dir_ / "ctl.out");
    std::string line;
    std::getline(file, line);
    return line;
  }
};

TEST_F(HomeAssistantTest, FindsEveryDoorFromDiscoveryAndLocksOneInItsName) {
  auto front = provision("door1", "Front door");
  provision("door2", "Back door");
  auto door = door_comes("door1", front, "UNLOCKED");

  // Home Assistant subscribes to its discovery prefix and reads the retained configurations.
  auto ha = home_assistant();
  ASSERT_TRUE(ha->subscribe("homeassistant/#"));
  auto config = lock_config(*ha, "door1");
  ASSERT_TRUE(config.is_object());
  EXPECT_EQ(config["name"], "Front door");
  EXPECT_EQ(config["unique_id"], "gatehouse_door1");
  EXPECT_EQ(config["device"]["identifiers"], json::array({"gatehouse_door1"}));
  EXPECT_EQ(config["command_topic"], "gatehouse/devices/door1/set");
  EXPECT_EQ(config["payload_lock"], "LOCK");
  EXPECT_EQ(config["payload_available"], "online");
  EXPECT_EQ(lock_config(*ha, "door2")["name"], "Back door") << "every door is discovered";
  auto image = ha->wait_for("homeassistant/image/gatehouse_door1/config");
  ASSERT_TRUE(image);
  EXPECT_EQ(json::parse(image->payload)["url_topic"], "gatehouse/devices/door1/ha/picture");

  // It subscribes to the topics the configuration names, and reads them with its defaults.
  const std::string state = config["state_topic"], availability = config["availability_topic"];
  ASSERT_TRUE(ha->subscribe(state));
  ASSERT_TRUE(ha->subscribe(availability));
  ASSERT_TRUE(ha->wait_for(availability, [](const Message& m) { return m.payload == "online"; }));
  ASSERT_TRUE(ha->wait_for(state, [](const Message& m) { return m.payload == "UNLOCKED"; }));

  // The user presses Lock: the door gets LOCK, Home Assistant sees LOCKING, then LOCKED.
  ASSERT_TRUE(ha->publish(config["command_topic"], config["payload_lock"]));
  ASSERT_TRUE(door->wait_for("gatehouse/devices/door1/command",
                             [](const Message& m) { return m.payload == "LOCK"; }));
  ASSERT_TRUE(ha->wait_for(state, [](const Message& m) { return m.payload == "LOCKING"; }));
  ASSERT_TRUE(door->publish("gatehouse/devices/door1/state", "LOCKED"));
  ASSERT_TRUE(ha->wait_for(state, [](const Message& m) { return m.payload == "LOCKED"; }));
  auto seen = payloads(*ha, state);
  auto locking = std::find(seen.begin(), seen.end(), "LOCKING");
  EXPECT_NE(std::find(locking, seen.end(), "LOCKED"), seen.end()) << "LOCKING comes first";

  // The door's history names Home Assistant's token, and the channel it came through.
  auto entries = history("door1");
  ASSERT_EQ(entries.size(), 1u) << entries.dump();
  EXPECT_EQ(entries[0]["requested_by"],
            json({{"kind", "api_token"}, {"name", "ops"}, {"channel", "mqtt"}}));
  EXPECT_EQ(entries[0]["status"], "confirmed");
}

TEST_F(HomeAssistantTest, NobodyButAnApiTokenCommandsADoorOrForgesWhoDid) {
  auto secret = provision("door1", "Front door");
  auto door = door_comes("door1", secret, "UNLOCKED");
  ASSERT_TRUE(mqtt_test::eventually([&] {
    return call("GET", "/devices/door1", bearer(kApiToken)).body["device"]["reported"] ==
           "UNLOCKED";
  }));
  // Everyone who will try, connected first: a chat user with a session (no operator role
  // needed to try), a client without credentials (let in from this machine), Home Assistant's
  // real token, and a token that will be revoked.
  ASSERT_EQ(
      call("POST", "/api/users", {}, {{"name", "mallory"}, {"password", "correct horse"}}).status,
      201);
  auto login =
      call("POST", "/api/sessions", {}, {{"name", "mallory"}, {"password", "correct horse"}});
  const std::string session = login.body.value("token", "");
  TestClient chat(app_->info().broker_url, "mallory-phone");
  ASSERT_TRUE(mqtt_test::eventually([&] { return chat.connect("mallory", session); }));
  TestClient anonymous(app_->info().broker_url, "anon");
  ASSERT_TRUE(anonymous.connect());
  auto ha = home_assistant();
  auto revoked_secret = ctl_first_line("token create old-ha");
  TestClient revoked(app_->info().broker_url, "old-ha");
  ASSERT_TRUE(revoked.connect("old-ha", revoked_secret));
  const double before = events_written();

  // The door itself with its own credential, the chat user, the anonymous client: refused.
  const std::string set = "gatehouse/devices/door1/set";
  EXPECT_TRUE(door->publish(set, "UNLOCK"));
  EXPECT_TRUE(chat.publish(set, "UNLOCK"));
  EXPECT_TRUE(anonymous.publish(set, "UNLOCK"));
  // Forging the broker's attribution, as each of them and as a real token: refused.
  const std::string forged = "gatehouse/by/token/ops/devices/door1/set";
  EXPECT_TRUE(door->publish(forged, "UNLOCK"));
  EXPECT_TRUE(chat.publish(forged, "UNLOCK"));
  EXPECT_TRUE(anonymous.publish(forged, "UNLOCK"));
  EXPECT_TRUE(ha->publish("gatehouse/by/token/someone-else/devices/door1/set", "UNLOCK"));
  // A revoked token: its connection ends at once and it cannot come back.
  ASSERT_EQ(gatehousectl("token revoke old-ha"), 0);
  ASSERT_TRUE(mqtt_test::eventually([&] { return !revoked.connected(); }));
  EXPECT_FALSE(revoked.publish(set, "UNLOCK"));
  TestClient again(app_->info().broker_url, "old-ha-again");
  EXPECT_FALSE(again.connect("old-ha", revoked_secret));

  // After all of them, a bad command from the real token is answered: gatehouse has handled
  // everything the broker passed on before it.
  ASSERT_TRUE(ha->subscribe("gatehouse/devices/door1/ha/error"));
  ASSERT_TRUE(ha->publish("gatehouse/devices/door1/set", "OPEN"));
  auto error = ha->wait_for("gatehouse/devices/door1/ha/error");
  ASSERT_TRUE(error);
  EXPECT_EQ(json::parse(error->payload)["error"]["code"], "invalid_argument") << error->payload;
  EXPECT_EQ(ha->messages_on("gatehouse/devices/door1/ha/error").size(), 1u)
      << "nothing else reached gatehouse's set handler";

  // The revocation is the only event written; the door was never commanded.
  EXPECT_EQ(events_written(), before + 1) << "only the token's revocation";
  EXPECT_TRUE(history("door1").empty());
  EXPECT_TRUE(door->messages_on("gatehouse/devices/door1/command").size() == 1u)
      << "only gatehouse's GET reached the door";
  const std::string denied = "gatehouse_broker_denied_total{access=\"publish\"}";
  EXPECT_TRUE(mqtt_test::eventually([&] { return metric(denied) >= 7; })) << metric(denied);
}

TEST_F(HomeAssistantTest, HomeAssistantsBirthMessageBringsTheDiscoveryAgain) {
  provision("door1", "Front door");
  auto ha = home_assistant();
  const std::string topic = "homeassistant/lock/gatehouse_door1/config";
  ASSERT_TRUE(ha->subscribe(topic));
  ASSERT_TRUE(ha->wait_for(topic, [](const Message& m) { return m.retained; }));
  EXPECT_TRUE(ha->messages_on(topic).size() == 1u);

  // Home Assistant restarts and says so: every door's configuration comes again, live.
  ASSERT_TRUE(ha->publish("homeassistant/status", "online"));
  auto again = ha->wait_for(topic, [](const Message& m) { return !m.retained; });
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->payload)["name"], "Front door");
  // A door still cannot publish Home Assistant's birth message, nor read its topics.
  auto secret = provision("door2", "Back door");
  TestClient door(app_->info().broker_url, "door2");
  ASSERT_TRUE(door.connect("door2", secret));
  EXPECT_FALSE(door.subscribe_granted("homeassistant/#"));
}

// An operator removes a door: Home Assistant's entities for it go away (empty retained
// configurations), the other door's stay, and a new Home Assistant no longer discovers it.
TEST_F(HomeAssistantTest, ARemovedDoorLeavesHomeAssistant) {
  provision("door1", "Front door");
  provision("door2", "Back door");
  auto ha = home_assistant();
  ASSERT_TRUE(ha->subscribe("homeassistant/#"));
  ASSERT_TRUE(lock_config(*ha, "door1").is_object());
  ASSERT_TRUE(lock_config(*ha, "door2").is_object());

  ASSERT_EQ(call("DELETE", "/devices/door1", bearer(kApiToken)).status, 200);
  const std::string door1 = "homeassistant/lock/gatehouse_door1/config";
  ASSERT_TRUE(ha->wait_for(door1, [](const Message& m) { return m.payload.empty(); }));
  ASSERT_TRUE(ha->wait_for("homeassistant/image/gatehouse_door1/config",
                           [](const Message& m) { return m.payload.empty(); }));

  // A Home Assistant started afterwards finds door2 only.
  auto later = home_assistant("homeassistant-2");
  ASSERT_TRUE(later->subscribe("homeassistant/#"));
  ASSERT_TRUE(lock_config(*later, "door2").is_object());
  for (const auto& m : later->messages_on(door1)) EXPECT_TRUE(m.payload.empty()) << m.payload;
}

}  // namespace
}  // namespace gh::server
