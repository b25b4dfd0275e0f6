// The runbooks of docs/operations.md ("Runbooks"), command by command, against a running
// server and its real broker: the same gatehousectl invocations (and shell commands) an
// operator types, and the checks the runbook tells them to make.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

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
  bool mounted_ = false;
  std::string store() const { return (dir_ / "store").string(); }
  void TearDown() override {
    stop();
    if (mounted_) {
      EXPECT_EQ(shell("umount " + store()), 0) << sh_output();
    }
    AppFixture::TearDown();
  }
  // Appends to `path` until the file system it is on has no byte left (ENOSPC).
  static void fill(const std::filesystem::path& path) {
    std::FILE* file = std::fopen(path.c_str(), "ab");
    ASSERT_NE(file, nullptr) << path;
    std::setvbuf(file, nullptr, _IONBF, 0);
    std::string chunk(1 << 20, 'x');
    for (size_t size = chunk.size(); size > 0; size /= 2) {
      while (std::fwrite(chunk.data(), 1, size, file) == size) {
      }
    }
    std::fclose(file);
  }
  // The store on a real file system of `size` (tmpfs), filled to the last byte by another
  // file, and appends until one is refused. Registers door1 and more on the way.
  void fill_a_small_disk_until_refused(const std::string& size) {
    stop();
    std::filesystem::remove_all(store());
    std::filesystem::create_directories(store());
    ASSERT_EQ(shell("mount -t tmpfs -o size=" + size + " tmpfs " + store()), 0)
        << "this test mounts a small tmpfs for the store, which needs root (CAP_SYS_ADMIN): "
        << sh_output();
    mounted_ = true;
    // Nearly full before gatehouse starts, so that RocksDB cannot preallocate its write-ahead
    // log (70 MiB that later appends would fill without touching the file system).
    ASSERT_NO_FATAL_FAILURE(fill(filler()));
    std::filesystem::resize_file(filler(), std::filesystem::file_size(filler()) - (8 << 20));
    start();
    ASSERT_EQ(register_door("door1").status, 201);
    ASSERT_NO_FATAL_FAILURE(fill(filler()));
    ASSERT_EQ(shell("df " + store() + " | grep -q ' 100% '"), 0) << "the file system is full";

    // Symptoms: appends get an error answer once the WAL's last allocated page is used up
    // (the few before that still fit, and are acknowledged), /healthz names the journal,
    // reads keep working.
    Answer refused;
    for (int i = 0; i < 1000 && refused.status != 503; ++i)
      refused = register_door("x" + std::to_string(i));
    ASSERT_EQ(refused.status, 503) << refused.body.dump();
    EXPECT_NE(refused.body.dump().find("No space left on device"), std::string::npos)
        << refused.body.dump();
    auto next = register_door("door2");  // and every one after it
    EXPECT_EQ(next.status, 503) << next.body.dump();
    EXPECT_NE(next.body.dump().find("stopped writing"), std::string::npos) << next.body.dump();
    auto health = call("GET", "/healthz", {});
    EXPECT_EQ(health.status, 503) << health.body.dump();
    EXPECT_EQ(health.body["checks"]["journal_reachable"], false) << health.body.dump();
    auto listed = call("GET", "/devices", bearer(kApiToken));
    ASSERT_EQ(listed.status, 200);
    EXPECT_EQ(listed.body["devices"].size(), acknowledged_.size()) << listed.body.dump();
  }
  std::filesystem::path filler() const { return dir_ / "store" / "filler"; }
  // POST /devices; remembers the device when the answer acknowledges it. A device is
  // registered before its credential is issued: an error answer that says so acknowledges
  // the registration.
  Answer register_door(const std::string& id) {
    auto made = call("POST", "/devices", bearer(kApiToken), {{"id", id}});
    const bool said_registered = made.body.dump().find(" was registered but") != std::string::npos;
    if (made.status == 201 || said_registered) acknowledged_.push_back(id);
    return made;
  }
  // After a restart: every acknowledged device is there, and nothing refused is; verify ok.
  void nothing_acknowledged_is_lost() {
    restart();
    std::sort(acknowledged_.begin(), acknowledged_.end());
    auto listed = call("GET", "/devices", bearer(kApiToken));
    EXPECT_EQ(listed.body["devices"], nlohmann::json(acknowledged_)) << listed.body.dump();
    ASSERT_EQ(gatehousectl("verify"), 0) << ctl_output();
    EXPECT_NE(ctl_output().find(": ok"), std::string::npos) << ctl_output();
  }
  std::vector<std::string> acknowledged_;
  std::string sh_output() {
    std::ifstream file(dir_ / "sh.out");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }
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
  // 96 MiB: RocksDB resumes by itself once 64 MiB (its write buffer) are free again.
  ASSERT_NO_FATAL_FAILURE(fill_a_small_disk_until_refused("96m"));
  // 1. What takes the space.
  ASSERT_EQ(shell("df -h " + store()), 0);
  EXPECT_NE(sh_output().find("100%"), std::string::npos) << sh_output();
  ASSERT_EQ(shell("du -sh " + store()), 0);
  // 2. Free space (here: remove what filled it) without stopping gatehouse.
  std::filesystem::remove(filler());
  // 3. A backup onto another disk while it runs, checked.
  const auto backup = (dir_ / "other-disk" / "gatehouse-backup").string();
  std::filesystem::create_directories(dir_ / "other-disk");
  ASSERT_EQ(gatehousectl("backup " + backup), 0) << ctl_output();
  EXPECT_NE(ctl_output().find("gatehouse was running"), std::string::npos) << ctl_output();
  // 4. The checks: the journal writes again by itself (RocksDB looks for free space every
  // 5 s), no restart.
  ASSERT_EQ(gatehousectl("verify"), 0) << ctl_output();
  EXPECT_NE(ctl_output().find(": ok"), std::string::npos) << ctl_output();
  EXPECT_TRUE(mqtt_test::eventually([&] { return call("GET", "/healthz", {}).status == 200; },
                                    std::chrono::seconds(30)))
      << "the journal resumes once space is back";
  auto again = register_door("door2");
  EXPECT_EQ(again.status, 201) << again.body.dump();
  nothing_acknowledged_is_lost();
}

TEST_F(OperationsRunbookTest, TheDiskIsFullAndLessThan64MiBCanBeFreed) {
  ASSERT_NO_FATAL_FAILURE(fill_a_small_disk_until_refused("16m"));
  std::filesystem::remove(filler());  // 12 MiB free: not enough for RocksDB to resume
  auto refused = register_door("door2");
  EXPECT_EQ(refused.status, 503) << refused.body.dump();
  // 4. ... restart gatehouse once some space is free.
  restart();
  EXPECT_EQ(call("GET", "/healthz", {}).status, 200);
  auto again = register_door("door2");
  EXPECT_EQ(again.status, 201) << again.body.dump();
  nothing_acknowledged_is_lost();
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
