// Live administration (docs/operations.md "How gatehousectl reaches a running server"): the
// real gatehousectl, given only --store, hands its write verbs to the running App over the
// store's admin socket; each change is an event naming the operator and counts from the very
// next request on HTTP and MQTT, with no restart and no door dropped.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "server/admin_socket.h"
#include "tests/http/chat_fixture.h"
#include "tests/integration/app_fixture.h"

extern char** environ;

namespace gh::server {
namespace {

class LiveAdminTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    start();
  }
  // gatehousectl's output (stdout then stderr, as printed) of the last run.
  std::string ctl_output() {
    std::ifstream file(dir_ / "ctl.out");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }
  // Runs gatehousectl and returns the first line it printed (a secret, for create verbs).
  std::string ctl_secret(const std::string& args) {
    EXPECT_EQ(gatehousectl(args), 0) << args << ": " << ctl_output();
    auto out = ctl_output();
    return out.substr(0, out.find('\n'));
  }
  bool gone(mqtt_test::TestClient& client) {
    for (int i = 0; i < 500 && client.connected(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return !client.connected();
  }
  // A door connected with the credential the operator just issued, to show that no
  // operator task drops it.
  std::unique_ptr<mqtt_test::TestClient> connected_door(const std::string& id) {
    auto secret = ctl_secret("device add " + id);
    auto door = std::make_unique<mqtt_test::TestClient>(app_->info().broker_url, id);
    EXPECT_TRUE(door->connect(id, secret));
    return door;
  }
  // Registers chat user `name` over HTTP and returns the token of a session it opened.
  std::string signed_up_session(const std::string& name) {
    auto user = call("POST", "/api/users", {}, {{"name", name}, {"password", "correct horse"}});
    EXPECT_EQ(user.status, 201) << user.body.dump();
    auto login = call("POST", "/api/sessions", {}, {{"name", name}, {"password", "correct horse"}});
    EXPECT_EQ(login.status, 201) << login.body.dump();
    return login.body.value("token", "");
  }
};

TEST_F(LiveAdminTest, ARevokedTokenIsRefusedOnItsNextRequestOverHttpAndMqtt) {
  auto door = connected_door("door1");
  auto secret = ctl_secret("token create ci");
  ASSERT_EQ(secret.size(), 32u) << ctl_output();
  EXPECT_NE(ctl_output().find("In effect now"), std::string::npos) << ctl_output();
  EXPECT_EQ(call("GET", "/devices", bearer(secret)).status, 200);
  mqtt_test::TestClient client(app_->info().broker_url, "ci-client");
  ASSERT_TRUE(client.connect("ci", secret));

  ASSERT_EQ(gatehousectl("token revoke ci"), 0) << ctl_output();
  EXPECT_EQ(call("GET", "/devices", bearer(secret)).status, 401);
  EXPECT_TRUE(gone(client)) << "the broker ends the revoked token's connection";
  mqtt_test::TestClient again(app_->info().broker_url, "ci-again");
  EXPECT_FALSE(again.connect("ci", secret));

  // The change is an event naming the operator (the socket's peer) and the admin channel.
  ASSERT_EQ(gatehousectl("events system/tokens"), 0);
  EXPECT_NE(ctl_output().find("/admin api_token_revoked"), std::string::npos) << ctl_output();
  EXPECT_TRUE(door->connected()) << "no door is dropped by an operator task";
  EXPECT_EQ(call("GET", "/devices", bearer(kApiToken)).status, 200);
}

TEST_F(LiveAdminTest, RolesAndErasureCountFromTheNextRequestAndEndTheSessions) {
  auto door = connected_door("door1");
  const std::string session = signed_up_session("alice");
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(call("POST", "/devices/door1/lock", bearer(session)).status, 403);

  ASSERT_EQ(gatehousectl("user grant alice operator --as olga"), 0) << ctl_output();
  auto locked = call("POST", "/devices/door1/lock", bearer(session));
  EXPECT_TRUE(locked.status == 200 || locked.status == 202) << locked.body.dump();
  ASSERT_EQ(gatehousectl("user revoke alice operator"), 0) << ctl_output();
  EXPECT_EQ(call("POST", "/devices/door1/lock", bearer(session)).status, 403);

  mqtt_test::TestClient chat(app_->info().broker_url, "alice-chat");
  ASSERT_TRUE(chat.connect("alice", session));
  EXPECT_EQ(call("GET", "/api/me", bearer(session)).status, 200);
  ASSERT_EQ(gatehousectl("user erase alice --yes"), 0) << ctl_output();
  EXPECT_EQ(call("GET", "/api/me", bearer(session)).status, 401);
  EXPECT_TRUE(gone(chat)) << "the broker ends the erased user's session";
  mqtt_test::TestClient again(app_->info().broker_url, "alice-again");
  EXPECT_FALSE(again.connect("alice", session));

  ASSERT_EQ(gatehousectl("events user/alice"), 0);
  EXPECT_NE(ctl_output().find("by=operator:olga/admin user_role_granted"), std::string::npos)
      << ctl_output();
  EXPECT_TRUE(door->connected());
}

TEST_F(LiveAdminTest, EveryWriteVerbWorksWhileTheServerRuns) {
  auto door = connected_door("door1");
  EXPECT_FALSE(ctl_secret("device rotate door1").empty());
  EXPECT_FALSE(ctl_secret("provisioning-key create batch1").empty());
  EXPECT_EQ(gatehousectl("provisioning-key revoke batch1"), 0) << ctl_output();
  auto script = dir_ / "greet.lua";
  std::ofstream(script) << "function handle(msg)\n  return 'hi'\nend\n";
  EXPECT_EQ(gatehousectl("action install greet " + script.string()), 0) << ctl_output();
  EXPECT_EQ(
      call("GET", "/api/actions", bearer(kApiToken)).body.dump().find("greet") != std::string::npos,
      true);
  EXPECT_EQ(gatehousectl("action disable greet"), 0) << ctl_output();
  EXPECT_EQ(gatehousectl("snapshot --all"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find("written"), std::string::npos);
  EXPECT_EQ(gatehousectl("device add door1"), 1) << "bad input gets an error: " << ctl_output();
  EXPECT_NE(ctl_output().find("already"), std::string::npos) << ctl_output();
  // The door rotated above is cut off (its old secret), but a new door added live connects.
  auto door2 = connected_door("door2");
  EXPECT_TRUE(door2->connected());
  EXPECT_EQ(call("GET", "/devices/door2", bearer(kApiToken)).status, 200);
}

TEST_F(LiveAdminTest, EventsFollowStreamsEachNewEvent) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  const std::string tool = std::string(GH_BINARY_DIR) + "/tools/gatehousectl";
  const std::string store = (dir_ / "store").string();
  std::vector<std::string> argv_text = {tool, "--store", store, "events", "--all", "--follow"};
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ), 0);
  ::close(out[1]);
  ASSERT_EQ(gatehousectl("token create follow-me"), 0) << ctl_output();
  // Read until the new event arrives (the tool would wait forever otherwise: the test's
  // own timeout is the bound).
  std::string seen;
  char buffer[4096];
  while (seen.find("name: \"follow-me\"") == std::string::npos) {
    ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<size_t>(n));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out[0]);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_NE(seen.find("api_token_created { name: \"follow-me\""), std::string::npos) << seen;
}

TEST_F(LiveAdminTest, OnlyTheServersOwnUserCanUseTheAdminSocket) {
  struct stat st {};
  ASSERT_EQ(::stat(app_->info().admin_socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "only the owner may connect";
  EXPECT_TRUE(admin_peer_allowed(::geteuid(), ::geteuid()));
  EXPECT_FALSE(admin_peer_allowed(::geteuid() + 1000, ::geteuid() == 0 ? 1 : ::geteuid()));
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the tool as another user";
  // Another user: the socket refuses them, and the store is not theirs to open either.
  auto command = "setpriv --reuid=65534 --regid=65534 --clear-groups " +
                 std::string(GH_BINARY_DIR) + "/tools/gatehousectl --store " +
                 (dir_ / "store").string() + " token create intruder > " +
                 (dir_ / "ctl.out").string() + " 2>&1";
  int rc = std::system(command.c_str());
  EXPECT_NE(WEXITSTATUS(rc), 0) << ctl_output();
  ASSERT_EQ(gatehousectl("token list"), 0);
  EXPECT_EQ(ctl_output().find("intruder"), std::string::npos) << ctl_output();
}

// docs/operations.md "A lost door": removal revokes the credential (the broker ends the door's
// connection), records DeviceRemoved naming the operator, and drops the door from GET
// /devices; its log stays. Live over the admin socket, and over HTTP for operators only.
TEST_F(LiveAdminTest, ARemovedDoorIsCutOffAndLeavesTheListingsButKeepsItsLog) {
  auto door = connected_door("door1");
  auto other = connected_door("door2");
  mqtt_test::TestClient watcher(app_->info().broker_url, "ops-watcher");
  ASSERT_TRUE(watcher.connect("ops", kApiToken));
  ASSERT_TRUE(watcher.subscribe_granted("gatehouse/devices/+/status"));
  ASSERT_TRUE(door->publish("gatehouse/devices/door1/availability", "online"));
  ASSERT_TRUE(watcher.wait_for("gatehouse/devices/door1/status"));
  http::testing::SseClient stream(app_->info().http_port, "/api/devices/events", bearer(kApiToken));
  ASSERT_TRUE(stream.wait_for("event: ready\n")) << stream.text();

  ASSERT_EQ(gatehousectl("device remove door1 --as olga"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find("device door1 removed; its credential is revoked"), std::string::npos)
      << ctl_output();
  EXPECT_NE(ctl_output().find("In effect now"), std::string::npos) << ctl_output();
  EXPECT_TRUE(gone(*door)) << "the broker ends the removed door's connection";
  mqtt_test::TestClient again(app_->info().broker_url, "door1-again");
  EXPECT_FALSE(again.connect("door1", "anything"));
  auto listed = call("GET", "/devices", bearer(kApiToken));
  EXPECT_EQ(listed.body["devices"], nlohmann::json::array({"door2"})) << listed.body.dump();
  auto removed = call("GET", "/devices/door1", bearer(kApiToken));
  EXPECT_EQ(removed.status, 404);
  EXPECT_NE(removed.body.dump().find("was removed"), std::string::npos) << removed.body.dump();
  EXPECT_EQ(call("POST", "/devices/door1/lock", bearer(kApiToken)).status, 409);
  ASSERT_TRUE(stream.wait_for("event: removed\n")) << stream.text();
  EXPECT_EQ(stream.frame_data("removed")["id"], "door1");
  auto cleared = watcher.wait_for("gatehouse/devices/door1/status",
                                  [](const mqtt_test::Message& m) { return m.payload.empty(); });
  EXPECT_TRUE(cleared) << "the retained status is cleared";

  // The log stays, naming the operator.
  ASSERT_EQ(gatehousectl("events device/door1"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find("olga/admin device_removed"), std::string::npos) << ctl_output();
  EXPECT_EQ(call("GET", "/devices/door1/timeline", bearer(kApiToken)).status, 200);
  EXPECT_NE(gatehousectl("device remove door1"), 0) << "removed already: " << ctl_output();
  EXPECT_TRUE(other->connected()) << "no other door is dropped";
}

TEST_F(LiveAdminTest, OnlyOperatorsRemoveDoorsOverHttp) {
  auto door = connected_door("door1");
  EXPECT_EQ(call("DELETE", "/devices/door1", {}).status, 401);
  EXPECT_EQ(call("DELETE", "/devices/door1", bearer("not-a-token")).status, 401);
  const std::string session = signed_up_session("alice");
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(call("DELETE", "/devices/door1", bearer(session)).status, 403);
  EXPECT_TRUE(door->connected()) << "refused callers change nothing";
  EXPECT_EQ(call("GET", "/devices", bearer(kApiToken)).body["devices"],
            nlohmann::json::array({"door1"}));

  auto removed = call("DELETE", "/devices/door1", bearer(kApiToken));
  ASSERT_EQ(removed.status, 200) << removed.body.dump();
  EXPECT_EQ(removed.body["credential_revoked"], true);
  EXPECT_EQ(removed.body["device"]["removed"], true);
  EXPECT_TRUE(gone(*door));
  EXPECT_EQ(call("GET", "/devices", bearer(kApiToken)).body["devices"], nlohmann::json::array());
  EXPECT_EQ(call("DELETE", "/devices/door1", bearer(kApiToken)).status, 404);
}

// The same verb on a stopped server's store, with the same output but for when it counts.
TEST_F(LiveAdminTest, DeviceRemoveWorksOnTheStoppedStoreToo) {
  ASSERT_FALSE(ctl_secret("device add door1").empty());
  stop();
  ASSERT_EQ(gatehousectl("device remove door1 --as olga"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find("device door1 removed; its credential is revoked"), std::string::npos)
      << ctl_output();
  start();
  EXPECT_EQ(call("GET", "/devices", bearer(kApiToken)).body["devices"], nlohmann::json::array());
  EXPECT_EQ(call("GET", "/devices/door1", bearer(kApiToken)).status, 404);
  EXPECT_EQ(call("GET", "/devices/door1/timeline", bearer(kApiToken)).status, 200);
}

}  // namespace
}  // namespace gh::server
