// The runbooks of docs/operations.md ("Runbooks"), command by command, against a running
// server and its real broker: the same gatehousectl invocations (and shell commands) an
// operator types, and the checks the runbook tells them to make.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

class OperationsRunbookTest : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    start();
  }
  std::string ctl_output() {
    std::ifstream file(dir_ / "ctl.out");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }
  std::string first_line(const std::string& args) {
    EXPECT_EQ(gatehousectl(args), 0) << args << ": " << ctl_output();
    auto out = ctl_output();
    return out.substr(0, out.find('\n'));
  }
  bool gone(mqtt_test::TestClient& client) {
    return mqtt_test::eventually([&] { return !client.connected(); });
  }
  std::string store() const { return (dir_ / "store").string(); }
  int shell(const std::string& command) {
    int rc = std::system((command + " > " + (dir_ / "sh.out").string() + " 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
};

TEST_F(OperationsRunbookTest, ATokenIsCompromised) {
  auto secret = first_line("token create ci-bot");
  auto made = call("POST", "/devices", bearer(secret), {{"id", "door7"}});
  ASSERT_EQ(made.status, 201) << made.body.dump();
  mqtt_test::TestClient client(app_->info().broker_url, "ci-bot-client");
  ASSERT_TRUE(client.connect("ci-bot", secret));

  // 1. Revoke it.
  ASSERT_EQ(gatehousectl("token revoke ci-bot"), 0) << ctl_output();
  EXPECT_EQ(call("GET", "/devices", bearer(secret)).status, 401);
  EXPECT_TRUE(gone(client));
  // 2. Its replacement.
  auto replacement = first_line("token create ci-bot-2");
  EXPECT_EQ(call("GET", "/devices", bearer(replacement)).status, 200);
  // 3. What it did, and who revoked it.
  ASSERT_EQ(gatehousectl("events --all"), 0);
  EXPECT_NE(ctl_output().find("device/door7 v1"), std::string::npos);
  EXPECT_NE(ctl_output().find("by=api_token:ci-bot/http device_registered"), std::string::npos)
      << ctl_output();
  ASSERT_EQ(gatehousectl("events system/tokens"), 0);
  EXPECT_NE(ctl_output().find("/admin api_token_revoked { name: \"ci-bot\" }"), std::string::npos)
      << ctl_output();
}

TEST_F(OperationsRunbookTest, ADoorIsLostOrStolen) {
  auto lost_secret = first_line("device add door1");
  auto other_secret = first_line("device add door2");
  mqtt_test::TestClient lost(app_->info().broker_url, "door1");
  mqtt_test::TestClient other(app_->info().broker_url, "door2");
  ASSERT_TRUE(lost.connect("door1", lost_secret));
  ASSERT_TRUE(other.connect("door2", other_secret));

  // 1. Cut it off.
  ASSERT_EQ(gatehousectl("device revoke door1"), 0) << ctl_output();
  EXPECT_TRUE(gone(lost));
  mqtt_test::TestClient thief(app_->info().broker_url, "door1-again");
  EXPECT_FALSE(thief.connect("door1", lost_secret));
  // 2. Check.
  ASSERT_EQ(gatehousectl("device credentials"), 0);
  EXPECT_EQ(ctl_output().find("door1 "), std::string::npos) << ctl_output();
  EXPECT_NE(ctl_output().find("door2 "), std::string::npos) << ctl_output();
  auto door = call("GET", "/devices/door1", bearer(kApiToken)).body["device"];
  EXPECT_TRUE(door["credential"].is_null()) << door.dump();
  EXPECT_NE(door["presence"], "online");
  // 3. Replacement hardware.
  auto new_secret = first_line("device rotate door1");
  mqtt_test::TestClient replacement(app_->info().broker_url, "door1-new");
  EXPECT_TRUE(replacement.connect("door1", new_secret));
  EXPECT_TRUE(other.connected()) << "the other doors keep their connections";
  // 5. A door that is gone for good (not replaced) is removed: cut off, and out of the list.
  ASSERT_EQ(gatehousectl("device remove door2"), 0) << ctl_output();
  EXPECT_TRUE(gone(other));
  auto listed = call("GET", "/devices", bearer(kApiToken)).body["devices"];
  EXPECT_EQ(listed, nlohmann::json::array({"door1"})) << listed.dump();
  ASSERT_EQ(gatehousectl("events device/door2"), 0);
  EXPECT_NE(ctl_output().find("/admin device_removed"), std::string::npos) << ctl_output();
  EXPECT_TRUE(replacement.connected());
}

TEST_F(OperationsRunbookTest, TheDiskIsFull) {
  // 1. What takes the space (the commands run; a full disk is not simulated here).
  EXPECT_EQ(shell("df -h " + store()), 0);
  EXPECT_EQ(shell("du -sh " + store()), 0);
  // 3. A backup onto another disk while it runs, checked.
  const auto backup = (dir_ / "other-disk" / "gatehouse-backup").string();
  std::filesystem::create_directories(dir_ / "other-disk");
  ASSERT_EQ(gatehousectl("backup " + backup), 0) << ctl_output();
  EXPECT_NE(ctl_output().find("gatehouse was running"), std::string::npos) << ctl_output();
  // 4. The checks.
  ASSERT_EQ(gatehousectl("verify"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find(": ok"), std::string::npos) << ctl_output();
  EXPECT_EQ(call("GET", "/healthz", {}).status, 200);
}

TEST_F(OperationsRunbookTest, RestoreFromBackup) {
  auto secret = first_line("device add door1");
  const auto backup = (dir_ / "gatehouse-backup").string();
  ASSERT_EQ(gatehousectl("backup " + backup), 0) << ctl_output();
  ASSERT_EQ(gatehousectl("token create after-the-backup"), 0);
  stop();
  ASSERT_EQ(shell("mv " + store() + " " + store() + ".damaged"), 0);
  ASSERT_EQ(shell("cp -a " + backup + " " + store()), 0);
  ASSERT_EQ(gatehousectl("verify"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find(": ok"), std::string::npos) << ctl_output();
  start();
  auto door = call("GET", "/devices/door1", bearer(kApiToken)).body["device"];
  EXPECT_EQ(door["registered"], true);
  EXPECT_EQ(door["presence"], "unknown");
  ASSERT_EQ(gatehousectl("token list"), 0);
  EXPECT_EQ(ctl_output().find("after-the-backup"), std::string::npos)
      << "what came after the backup is gone";
  mqtt_test::TestClient client(app_->info().broker_url, "door1");
  EXPECT_TRUE(client.connect("door1", secret)) << "the door's credential is in the backup";
}

}  // namespace
}  // namespace gh::server
