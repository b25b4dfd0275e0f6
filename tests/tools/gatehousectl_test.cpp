// gatehousectl's verbs through run(), against real stores in temporary directories: what an
// operator types and what they read back.
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "actors/device/device_model.h"
#include "actors/device/device_snapshot.h"
#include "events/keys.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "snapshots/snapshot_store.h"
#include "tests/events/temp_store.h"
#include "tools/ctl/admin_wire.h"
#include "tools/ctl/cli.h"
#include "tools/ctl/verify.h"

namespace gh::ctl {
namespace {

using gh::testing::TempDir;
using gh::testing::TempStore;

constexpr int64_t kT0 = 1763884800000;  // 2025-11-23T08:00:00Z

struct Outcome {
  int code;
  std::string out, err;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class GatehousectlTest : public ::testing::Test {
 protected:
  Outcome ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", store_->path()});
    std::ostringstream out, err;
    int code = run(args, out, err);
    return {code, out.str(), err.str()};
  }

  void append(const std::string& stream, std::vector<Envelope> list, int64_t time) {
    AppendRequest request;
    request.stream = stream;
    request.expected_version = *store_->journal().stream_version(stream);
    request.cause.set_kind(events::Cause::DEVICE);
    request.cause.set_name("d1");
    request.cause.set_channel("mqtt");
    request.events = std::move(list);
    request.time_unix_ms = time;
    auto result = store_->journal().append_and_wait(std::move(request));
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  }

  // device/d1: registered and online at T0+1s, LOCKED at T0+2s, UNLOCKED at T0+3s.
  // device/d2: registered at T0+4s.
  void add_history() {
    Envelope registered, online, locked, unlocked;
    registered.mutable_device_registered()->set_type("lock");
    registered.mutable_device_registered()->set_name("Front door");
    online.mutable_device_came_online();
    locked.mutable_lock_state_reported()->set_state(events::LOCKED);
    unlocked.mutable_lock_state_reported()->set_state(events::UNLOCKED);
    append("device/d1", {registered, online}, kT0 + 1000);
    append("device/d1", {locked}, kT0 + 2000);
    append("device/d1", {unlocked}, kT0 + 3000);
    append("device/d2", {registered}, kT0 + 4000);
  }

  // Closes the test's own handle so that gatehousectl can open the store read-write.
  void stop_server() { store_->close(); }

  std::unique_ptr<TempStore> store_ = std::make_unique<TempStore>();
};

TEST_F(GatehousectlTest, StreamsListsNamesAndLastVersionsByPrefix) {
  add_history();
  auto all = ctl({"streams"});
  EXPECT_EQ(all.code, kExitOk) << all.err;
  EXPECT_EQ(all.out, "device/d1 4\ndevice/d2 1\n");
  EXPECT_EQ(ctl({"streams", "device/d2"}).out, "device/d2 1\n");
  EXPECT_EQ(ctl({"streams", "user/"}).out, "");
}

TEST_F(GatehousectlTest, EventsOfAStreamAsLinesOrJsonFromAVersion) {
  add_history();
  auto events = ctl({"events", "device/d1"});
  ASSERT_EQ(events.code, kExitOk) << events.err;
  EXPECT_EQ(events.out,
            "p1 device/d1 v1 2025-11-23T08:00:01.000Z by=device:d1/mqtt device_registered { "
            "type: \"lock\" name: \"Front door\" }\n"
            "p2 device/d1 v2 2025-11-23T08:00:01.000Z by=device:d1/mqtt device_came_online { }\n"
            "p3 device/d1 v3 2025-11-23T08:00:02.000Z by=device:d1/mqtt lock_state_reported { "
            "state: LOCKED }\n"
            "p4 device/d1 v4 2025-11-23T08:00:03.000Z by=device:d1/mqtt lock_state_reported { "
            "state: UNLOCKED }\n");
  auto from = ctl({"events", "device/d1", "--from", "4", "--json"});
  ASSERT_EQ(from.code, kExitOk);
  EXPECT_TRUE(has(from.out, "\"version\":\"4\"")) << from.out;
  EXPECT_TRUE(has(from.out, "\"state\":\"UNLOCKED\"")) << from.out;
  EXPECT_EQ(std::count(from.out.begin(), from.out.end(), '\n'), 1);
}

TEST_F(GatehousectlTest, EventsOfTheWholeLogInPositionOrder) {
  add_history();
  auto all = ctl({"events", "--all", "--from-position", "4"});
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_TRUE(all.out.starts_with("p4 device/d1 v4 ")) << all.out;
  EXPECT_TRUE(has(all.out, "\np5 device/d2 v1 ")) << all.out;
  EXPECT_EQ(ctl({"events"}).code, kExitUsage);
  EXPECT_EQ(ctl({"events", "device/d1", "--all"}).code, kExitUsage);
  EXPECT_EQ(ctl({"events", "device/d1", "--from", "x"}).code, kExitUsage);
}

TEST_F(GatehousectlTest, EventsOfALongStreamArePrintedCompletelyInOrder) {
  Envelope locked;
  locked.mutable_lock_state_reported()->set_state(events::LOCKED);
  for (int batch = 0; batch < 5; ++batch)
    append("device/long", std::vector<Envelope>(500, locked), kT0 + batch);
  auto all = ctl({"events", "device/long"});
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 2500);
  EXPECT_TRUE(has(all.out, " v1000 ") && has(all.out, " v1001 ") && has(all.out, " v2500 "));
  auto tail = ctl({"events", "device/long", "--from", "1001"});
  EXPECT_EQ(std::count(tail.out.begin(), tail.out.end(), '\n'), 1500);
  EXPECT_TRUE(tail.out.starts_with("p1001 device/long v1001 ")) << tail.out.substr(0, 80);
}

TEST_F(GatehousectlTest, StateAtVersionAndAtTime) {
  add_history();
  auto now = ctl({"state", "device/d1"});
  ASSERT_EQ(now.code, kExitOk) << now.err;
  EXPECT_TRUE(has(now.out, "version: 4\n")) << now.out;
  EXPECT_TRUE(has(now.out, "reported: UNLOCKED\n")) << now.out;
  EXPECT_TRUE(has(now.out, "name: Front door\n")) << now.out;
  EXPECT_TRUE(has(now.out, "online: yes\n")) << now.out;

  auto v3 = ctl({"state", "device/d1", "--at-version", "3"});
  ASSERT_EQ(v3.code, kExitOk) << v3.err;
  EXPECT_TRUE(has(v3.out, "version: 3\n")) << v3.out;
  EXPECT_TRUE(has(v3.out, "reported: LOCKED\n")) << v3.out;

  auto iso = ctl({"state", "device/d1", "--at-time", "2025-11-23T08:00:02.500Z"});
  ASSERT_EQ(iso.code, kExitOk) << iso.err;
  EXPECT_TRUE(has(iso.out, "reported: LOCKED\n")) << iso.out;
  auto ms = ctl({"state", "device/d1", "--at-time", std::to_string(kT0 + 1000)});
  EXPECT_TRUE(has(ms.out, "version: 2\n")) << ms.out;
  EXPECT_TRUE(has(ms.out, "reported: UNKNOWN\n")) << ms.out;

  auto before = ctl({"state", "device/d1", "--at-time", "2025-11-23T07:00:00Z"});
  EXPECT_EQ(before.code, kExitFailed);
  EXPECT_TRUE(has(before.err, "not_found")) << before.err;
  EXPECT_EQ(ctl({"state", "device/d1", "--at-time", "noon"}).code, kExitUsage);
  EXPECT_EQ(ctl({"state", "device/d1", "--at-version", "1", "--at-time", "1"}).code, kExitUsage);
  auto other = ctl({"state", "system/actions"});
  EXPECT_EQ(other.code, kExitFailed);
  EXPECT_TRUE(has(other.err, "no model")) << other.err;
}

TEST_F(GatehousectlTest, ReadVerbsWorkWhileTheServerHoldsTheStore) {
  add_history();  // store_ stays open read-write, as the server would hold it
  EXPECT_EQ(ctl({"streams"}).code, kExitOk);
  EXPECT_EQ(ctl({"events", "--all"}).code, kExitOk);
  EXPECT_EQ(ctl({"state", "device/d1"}).code, kExitOk);
  EXPECT_EQ(ctl({"verify"}).code, kExitOk);
  EXPECT_EQ(ctl({"token", "list"}).code, kExitOk);
}

TEST_F(GatehousectlTest, WriteVerbsSayToStopTheServerWhenTheStoreIsLocked) {
  add_history();
  for (auto args : std::vector<std::vector<std::string>>{
           {"snapshot", "--all"}, {"token", "create", "ci"}, {"token", "revoke", "ci"}}) {
    auto refused = ctl(args);
    EXPECT_EQ(refused.code, kExitFailed) << args[0];
    EXPECT_TRUE(has(refused.err, "stop the server")) << refused.err;
  }
}

TEST_F(GatehousectlTest, MissingStoreIsNotCreated) {
  std::ostringstream out, err;
  TempDir dir;
  EXPECT_EQ(run({"--store", dir.sub("nope"), "token", "create", "x"}, out, err), kExitFailed);
  EXPECT_TRUE(has(err.str(), "no gatehouse store")) << err.str();
  EXPECT_FALSE(std::filesystem::exists(dir.sub("nope")));
}

TEST_F(GatehousectlTest, SnapshotAllThenVerifyIsClean) {
  add_history();
  stop_server();
  auto snapshot = ctl({"snapshot", "--all"});
  ASSERT_EQ(snapshot.code, kExitOk) << snapshot.err;
  EXPECT_TRUE(has(snapshot.out, "snapshot: 2 written")) << snapshot.out;
  auto verify = ctl({"verify"});
  EXPECT_EQ(verify.code, kExitOk) << verify.out << verify.err;
  EXPECT_EQ(verify.out, "verify: 5 events in 2 streams, 5 positions, 2 snapshots checked: ok\n");
  EXPECT_TRUE(has(verify.err, "verify: checking")) << verify.err;  // progress on stderr
  // The snapshot is what the model's own snapshot of a replay would be.
  store_->open();
  RocksdbSnapshotStore snapshots(&store_->database());
  auto listing = snapshots.list("device/d1");
  ASSERT_TRUE(listing.is_ok());
  ASSERT_EQ(listing->valid.size(), 1u);
  EXPECT_EQ(listing->valid[0].version(), 4u);
  auto state = device::from_snapshot(listing->valid[0]);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->reported, events::UNLOCKED);
}

TEST_F(GatehousectlTest, VerifyNamesEveryProblemWithStreamAndVersion) {
  add_history();
  Envelope locked;
  locked.mutable_lock_state_reported()->set_state(events::LOCKED);
  for (int i = 0; i < 4; ++i) append("device/d3", {locked}, kT0 + 5000 + i);
  auto& database = store_->database();
  auto* db = database.db();
  rocksdb::WriteOptions write;
  // (1) an event overwritten with garbage, (2) a gap, (3) a snapshot that does not match a
  // replay, (4) a snapshot that does not decode.
  ASSERT_TRUE(
      db->Put(write, database.events(), keys::versioned("device/d1", 3), std::string("\x0a\x7f", 2))
          .ok());
  ASSERT_TRUE(db->Delete(write, database.events(), keys::versioned("device/d3", 2)).ok());
  ASSERT_TRUE(db->Put(write, database.commands(), keys::command("device/d2", "c9"),
                      keys::be64(1) + keys::be64(7) + keys::be64(9))
                  .ok());
  RocksdbSnapshotStore snapshots(&database);
  device::State wrong = device::replay("d2", *store_->journal().read_stream("device/d2", 1));
  wrong.name = "Tampered";
  ASSERT_TRUE(snapshots.write(device::to_snapshot(wrong, kT0)).is_ok());
  ASSERT_TRUE(db->Put(write, database.snapshots(), keys::versioned("device/d1", 2),
                      std::string("\x0a\x7f", 2))
                  .ok());

  auto verify = ctl({"verify"});
  EXPECT_EQ(verify.code, kExitFailed);
  EXPECT_TRUE(has(verify.out, "PROBLEM device/d1 version 3: event does not decode\n"))
      << verify.out;
  EXPECT_TRUE(has(verify.out, "PROBLEM device/d3 version 2: missing")) << verify.out;
  EXPECT_TRUE(has(verify.out, "PROBLEM device/d3 version 2: indexed at position")) << verify.out;
  EXPECT_TRUE(has(verify.out, "PROBLEM device/d2 version 1: snapshot differs")) << verify.out;
  EXPECT_TRUE(has(verify.out, "Tampered")) << verify.out;
  EXPECT_TRUE(has(verify.out, "PROBLEM device/d1 version 2: snapshot does not decode"))
      << verify.out;
  EXPECT_TRUE(has(verify.out,
                  "PROBLEM device/d2 version 7: command c9 records versions up to 7 "
                  "but the stream ends at 1"))
      << verify.out;
  EXPECT_TRUE(has(verify.out, ": 6 problems\n")) << verify.out;

  // The refused stream, as an operator sees it.
  auto events = ctl({"events", "device/d1"});
  EXPECT_EQ(events.code, kExitFailed);
  EXPECT_TRUE(has(events.err, "data_loss: device/d1 version 3")) << events.err;
  EXPECT_TRUE(events.out.starts_with("p1 device/d1 v1 ")) << events.out;  // what precedes
  EXPECT_EQ(std::count(events.out.begin(), events.out.end(), '\n'), 2) << events.out;
  auto state = ctl({"state", "device/d1"});
  EXPECT_EQ(state.code, kExitFailed);
  EXPECT_TRUE(has(state.err, "data_loss: device/d1 version 3")) << state.err;
}

TEST_F(GatehousectlTest, VerifyReportsAFlippedByteInATableFile) {
  add_history();
  auto& database = store_->database();
  ASSERT_TRUE(database.db()->Flush(rocksdb::FlushOptions(), database.events()).ok());
  std::vector<rocksdb::LiveFileMetaData> files;
  database.db()->GetLiveFilesMetaData(&files);
  std::string table;
  for (const auto& f : files)
    if (f.column_family_name == "events") table = f.db_path + "/" + f.name;
  ASSERT_FALSE(table.empty());
  stop_server();
  {
    std::fstream file(table, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(20);
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(20);
    byte = static_cast<char>(byte ^ 0x5a);
    file.write(&byte, 1);
  }
  auto verify = ctl({"verify"});
  EXPECT_EQ(verify.code, kExitFailed);
  // Either the open refuses the damaged file or the scan reports the block checksum.
  EXPECT_TRUE(has(verify.out + verify.err, "orruption")) << verify.out << verify.err;
  // The position index still works and names the events the damaged block hides.
  if (!verify.out.empty()) {
    EXPECT_TRUE(has(verify.out, "PROBLEM device/d1 version 1: unreadable: Corruption"))
        << verify.out;
  } else {
    EXPECT_TRUE(has(verify.err, "data_loss")) << verify.err;
  }
}

TEST_F(GatehousectlTest, BackupIsACheckpointWhenStoppedAndALogicalCopyWhileRunning) {
  add_history();
  TempDir backups;
  // Server running: the store is locked, the copy goes through a read-only open.
  auto live = ctl({"backup", backups.sub("live")});
  ASSERT_EQ(live.code, kExitOk) << live.err;
  EXPECT_TRUE(has(live.out, "logical copy")) << live.out;
  EXPECT_TRUE(has(live.out, "last position 5")) << live.out;
  stop_server();
  auto stopped = ctl({"backup", backups.sub("stopped")});
  ASSERT_EQ(stopped.code, kExitOk) << stopped.err;
  EXPECT_TRUE(has(stopped.out, "checkpoint")) << stopped.out;
  auto again = ctl({"backup", backups.sub("stopped")});
  EXPECT_EQ(again.code, kExitFailed);
  EXPECT_TRUE(has(again.err, "exists")) << again.err;

  const auto original = ctl({"events", "--all"}).out;
  for (const char* name : {"live", "stopped"}) {
    std::ostringstream out, err;
    ASSERT_EQ(run({"--store", backups.sub(name), "events", "--all"}, out, err), kExitOk)
        << err.str();
    EXPECT_EQ(out.str(), original) << name;
    std::ostringstream vout, verr;
    EXPECT_EQ(run({"--store", backups.sub(name), "verify"}, vout, verr), kExitOk) << vout.str();
  }
}

TEST_F(GatehousectlTest, TokensCreateListRevokeStoringOnlyTheHash) {
  stop_server();
  auto created = ctl({"token", "create", "ci-bot"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  ASSERT_EQ(created.out.size(), 33u) << created.out;  // 32 hex + newline
  const std::string secret = created.out.substr(0, 32);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos) << secret;
  EXPECT_TRUE(has(created.err, "shown only once"));
  auto duplicate = ctl({"token", "create", "ci-bot"});
  EXPECT_EQ(duplicate.code, kExitFailed);
  EXPECT_TRUE(has(duplicate.err, "already_exists")) << duplicate.err;
  ASSERT_EQ(ctl({"token", "create", "panel"}).code, kExitOk);

  auto list = ctl({"token", "list"});
  EXPECT_TRUE(list.out.starts_with("ci-bot created ")) << list.out;
  EXPECT_TRUE(has(list.out, "\npanel created ")) << list.out;
  EXPECT_FALSE(has(list.out, secret));

  // The log holds SHA-256 of the secret text, never the secret.
  auto events = ctl({"events", "system/tokens", "--json"});
  EXPECT_FALSE(has(events.out, secret));
  store_->open(OpenMode::kReadOnly);
  auto stored = store_->journal().read_stream("system/tokens", 1);
  ASSERT_TRUE(stored.is_ok());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  EXPECT_EQ((*stored)[0].api_token_created().sha256(),
            std::string(reinterpret_cast<char*>(digest), sizeof digest));
  EXPECT_EQ((*stored)[0].cause().kind(), events::Cause::OPERATOR);
  store_->close();

  EXPECT_EQ(ctl({"token", "revoke", "ci-bot"}).code, kExitOk);
  EXPECT_EQ(ctl({"token", "list"}).out.find("ci-bot"), std::string::npos);
  auto unknown = ctl({"token", "revoke", "ci-bot"});
  EXPECT_EQ(unknown.code, kExitFailed);
  EXPECT_TRUE(has(unknown.err, "not_found")) << unknown.err;
  EXPECT_EQ(ctl({"token", "create", "bad name"}).code, kExitUsage);
  auto state = ctl({"state", "system/tokens"});
  EXPECT_TRUE(has(state.out, "token: panel ")) << state.out;
}

TEST_F(GatehousectlTest, EveryVerbHasHelpAndBadInputIsAUsageError) {
  std::ostringstream out, err;
  EXPECT_EQ(run({"--help"}, out, err), kExitOk);
  EXPECT_TRUE(has(out.str(), "usage: gatehousectl"));
  for (const char* verb : {"streams", "events", "state", "verify", "snapshot", "backup", "token"}) {
    auto help = ctl({verb, "--help"});
    EXPECT_EQ(help.code, kExitOk) << verb;
    EXPECT_TRUE(has(help.out, std::string("usage: gatehousectl ") + verb)) << help.out;
  }
  EXPECT_EQ(ctl({}).code, kExitUsage);
  EXPECT_EQ(ctl({"frobnicate"}).code, kExitUsage);
  EXPECT_EQ(ctl({"streams", "a", "b"}).code, kExitUsage);
  EXPECT_EQ(ctl({"verify", "extra"}).code, kExitUsage);
  std::ostringstream o2, e2;
  EXPECT_EQ(run({"--bogus"}, o2, e2), kExitUsage);
}

// Cluster mode's ways in (docs/operations.md, "gatehousectl on a cluster node"), where no
// node or database answers: each says what is wrong, and nothing falls back to ./var/store.
TEST_F(GatehousectlTest, SocketAndPostgresOptionsSayWhatIsMissing) {
  const std::string socket = store_->path() + "/nobody-listens.sock";
  std::ostringstream out, err;
  EXPECT_EQ(run({"--socket", socket, "token", "create", "x"}, out, err), kExitFailed);
  EXPECT_TRUE(has(err.str(), "no gatehouse answers on " + socket)) << err.str();
  std::ostringstream o2, e2;
  EXPECT_EQ(run({"--socket", socket, "streams"}, o2, e2), kExitFailed);
  EXPECT_TRUE(has(e2.str(), "no gatehouse answers on " + socket)) << e2.str();
  std::ostringstream o3, e3;
  EXPECT_EQ(run({"--postgres", "host=127.0.0.1 port", "streams"}, o3, e3), kExitFailed);
  EXPECT_TRUE(has(e3.str(), "not a libpq connection string")) << e3.str();
  std::ostringstream o4, e4;
  EXPECT_EQ(run({"--postgres", "host=127.0.0.1 port=1 dbname=x", "token", "create", "x"}, o4, e4),
            kExitFailed);
  EXPECT_TRUE(has(e4.str(), "--postgres opens the store for reading only")) << e4.str();
  std::ostringstream o5, e5;
  EXPECT_EQ(run({"--postgres"}, o5, e5), kExitUsage);
  EXPECT_EQ(ctl({"token", "list"}).out, "") << "the store given by --store is untouched";
}

// A server that refuses the peer (server/admin_socket.cpp: another uid) answers and hangs up
// before reading the request; a request too large for the socket's buffer then fails to
// send, and the tool must still show the server's answer rather than "Broken pipe".
TEST_F(GatehousectlTest, ARefusalSentBeforeTheRequestWasReadIsShown) {
  const std::string path = store_->path() + "/refusing.sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  std::thread refuser([listener] {
    int peer = ::accept(listener, nullptr, nullptr);
    if (peer < 0) return;
    (void)write_all(peer, encode_frame({FrameKind::kErr, "gatehousectl: refused here\n"}) +
                              encode_frame({FrameKind::kExit, "1"}));
    ::close(peer);
  });
  const std::string script = store_->path() + "/large.lua";
  std::ofstream(script) << std::string(8 << 20, '-');
  std::ostringstream out, err;
  EXPECT_EQ(run({"--socket", path, "action", "install", "large", script}, out, err), kExitFailed);
  refuser.join();
  ::close(listener);
  EXPECT_EQ(err.str(), "gatehousectl: refused here\n");
}

}  // namespace
}  // namespace gh::ctl
