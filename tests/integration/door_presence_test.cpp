// Doors that tell the truth (docs/protocol.md "Presence"), through the whole server and a real
// mosquitto: after a restart (gatehouse and its private broker) or a restore from backup no
// door shows online until it is heard from again; gatehouse asks a door that (re)connects
// for its state with GET on its command topic, and the answer makes it online again.
#include <filesystem>

#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

class DoorPresenceTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    start();
  }
  // The door's credential, issued by the running server.
  std::string provision(const std::string& id) {
    auto answer = call("POST", "/devices", bearer(kApiToken), {{"id", id}});
    EXPECT_EQ(answer.status, 201) << answer.body.dump();
    auto issued = call("POST", "/devices/" + id + "/credential", bearer(kApiToken));
    EXPECT_EQ(issued.status, 200) << issued.body.dump();
    return issued.body["credential"].value("secret", "");
  }
  // A door that connects, says `online`, and answers gatehouse's GET with `state`.
  std::unique_ptr<mqtt_test::TestClient> door_comes(const std::string& id,
                                                    const std::string& secret,
                                                    const std::string& state) {
    auto door = std::make_unique<mqtt_test::TestClient>(app_->info().broker_url, id);
    EXPECT_TRUE(door->connect(id, secret));
    const std::string command = "gatehouse/devices/" + id + "/command";
    EXPECT_TRUE(door->subscribe(command));
    EXPECT_TRUE(door->publish("gatehouse/devices/" + id + "/availability", "online"));
    auto asked =
        door->wait_for(command, [](const mqtt_test::Message& m) { return m.payload == "GET"; });
    EXPECT_TRUE(asked) << "gatehouse asks a door that connects for its state";
    EXPECT_TRUE(door->publish("gatehouse/devices/" + id + "/state", state));
    return door;
  }
  nlohmann::json device(const std::string& id) {
    return call("GET", "/devices/" + id, bearer(kApiToken)).body["device"];
  }
  bool shows(const std::string& id, const std::string& presence, const std::string& reported) {
    return mqtt_test::eventually([&] {
      auto d = device(id);
      return d["presence"] == presence && d["reported"] == reported;
    });
  }
};

TEST_F(DoorPresenceTest, AfterARestartADoorIsUnknownUntilItAnswers) {
  auto secret = provision("door1");
  EXPECT_EQ(device("door1")["presence"], "unknown") << "never heard from";
  auto door = door_comes("door1", secret, "LOCKED");
  ASSERT_TRUE(shows("door1", "online", "LOCKED"));
  EXPECT_EQ(device("door1")["online"], true);

  door.reset();
  restart();  // gatehouse and its private broker: the door's connection is gone
  auto after = device("door1");
  EXPECT_EQ(after["presence"], "unknown");
  EXPECT_EQ(after["online"], false);
  EXPECT_FALSE(after["last_seen"].is_null()) << "last_seen is kept";
  EXPECT_EQ(after["reported"], "LOCKED") << "the last report is history, not presence";

  // It comes back having been unlocked by hand meanwhile: GET brings the truth.
  door = door_comes("door1", secret, "UNLOCKED");
  ASSERT_TRUE(shows("door1", "online", "UNLOCKED"));
}

TEST_F(DoorPresenceTest, ARestoredBackupShowsNoPresenceFromThePast) {
  auto secret = provision("door1");
  auto door = door_comes("door1", secret, "LOCKED");
  ASSERT_TRUE(shows("door1", "online", "LOCKED"));
  const auto backup = dir_ / "backup";
  ASSERT_EQ(gatehousectl("backup " + backup.string()), 0);

  door.reset();
  stop();
  std::filesystem::rename(dir_ / "store", dir_ / "store.old");
  std::filesystem::copy(backup, dir_ / "store", std::filesystem::copy_options::recursive);
  start();
  EXPECT_EQ(device("door1")["presence"], "unknown");
  EXPECT_EQ(device("door1")["online"], false);
}

TEST_F(DoorPresenceTest, ADoorThatSaysOfflineIsOfflineWithItsLastSeenKept) {
  auto secret = provision("door1");
  auto door = door_comes("door1", secret, "LOCKED");
  ASSERT_TRUE(shows("door1", "online", "LOCKED"));
  ASSERT_TRUE(door->publish("gatehouse/devices/door1/availability", "offline"));
  ASSERT_TRUE(shows("door1", "offline", "LOCKED"));
  EXPECT_FALSE(device("door1")["last_seen"].is_null());
}

}  // namespace
}  // namespace gh::server
