// The power-loss campaign one layer up (docs/reliability.md): doors driven through their
// pure model (decide, then append with the expected version, then apply) on the real
// journal, with snapshots written through the server's own DeviceStorage, on a file system
// that loses every unsynced write at a power cut (tests/events/power_loss_fs.h). After each
// cut the store is reopened and every door is loaded the way the server loads it (latest
// usable snapshot + tail):
//   - it loads (no kDataLoss), and equals the replay of its whole log (snapshot + tail is
//     never wrong, even with snapshots, which are not synced, torn or lost);
//   - its log holds every acknowledged change: the log up to the last acknowledged version
//     replays to exactly the state the writer had when that append was acknowledged.
// Cycles: GH_POWER_CUTS (default 25), as tests/events/power_loss_test.cpp.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "actors/device/device_model.h"
#include "actors/device/device_snapshot.h"
#include "actors/device/device_storage.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "events/stream_name.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "tests/events/power_loss_fs.h"
#include "tests/events/temp_store.h"

namespace gh::device {
namespace {

constexpr int kWriters = 2;
constexpr int kDoorsPerWriter = 3;

int cycles_from_environment() {
  const char* text = std::getenv("GH_POWER_CUTS");
  const int n = text ? std::atoi(text) : 0;
  return n > 0 ? n : 25;
}

bool same_state(const State& a, const State& b) {
  return google::protobuf::util::MessageDifferencer::Equals(to_snapshot(a, 0), to_snapshot(b, 0));
}

// Per door: the last acknowledged version and the state the writer held right after it.
class DoorLedger {
 public:
  void acked(const State& state) {
    std::lock_guard lock(mu_);
    doors_[state.id] = state;
  }
  std::map<std::string, State> doors() const {
    std::lock_guard lock(mu_);
    return doors_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, State> doors_;
};

struct Tally {
  uint64_t cycles = 0, acked = 0, snapshots = 0, in_flight = 0;
  uint64_t lost = 0, wrong_recovery = 0, unloadable = 0, from_snapshot = 0;
};

Command random_command(std::mt19937_64& rng, uint64_t n) {
  switch (rng() % 5) {
    case 0:
      return Hello{
          {"door", "Door " + std::to_string(n % 7), "1." + std::to_string(n % 3)}, true, {}};
    case 1:
      return SetAvailability{rng() % 2 == 0, {}};
    case 2:
      return ReportState{rng() % 2 ? events::LOCKED : events::UNLOCKED, {}};
    default:
      return RequestLock{rng() % 2 ? events::LOCK : events::UNLOCK, "cmd-" + std::to_string(n),
                         10000};
  }
}

void drive_doors(int writer, Journal& journal, DeviceStorage& storage,
                 testing::PowerLossFileSystem& fs, DoorLedger& ledger, Tally& tally,
                 std::mutex& tally_mu, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<State> doors;
  for (int d = 0; d < kDoorsPerWriter; ++d) {
    const std::string id = "door" + std::to_string(writer) + "-" + std::to_string(d);
    auto loaded = storage.load(id);
    if (!loaded) return;  // counted by the check before
    doors.push_back(*loaded);
  }
  int64_t now = 1'800'000'000'000 + static_cast<int64_t>(seed);
  for (uint64_t n = 0; fs.powered(); ++n) {
    State& door = doors[rng() % doors.size()];
    auto decided = decide(door, random_command(rng, n), ++now);
    if (!decided || decided->empty()) continue;
    AppendRequest request;
    request.stream = device_stream(door.id);
    request.expected_version = door.version;
    request.command_id = "s" + std::to_string(seed) + "-" + std::to_string(n);
    request.events = std::move(*decided);
    request.time_unix_ms = now;
    auto result = journal.append_and_wait(std::move(request));
    if (!result || !fs.powered()) {  // an answer after the cut never reached anyone
      std::lock_guard lock(tally_mu);
      ++tally.in_flight;
      return;
    }
    for (const auto& e : result->events) apply(door, e);
    ledger.acked(door);
    std::lock_guard lock(tally_mu);
    ++tally.acked;
    if (n % 5 == 0) {
      storage.save_snapshot(door);
      ++tally.snapshots;
    }
  }
}

void check_doors(const Journal& journal, DeviceStorage& storage, const DoorLedger& ledger,
                 Tally& tally) {
  for (const auto& [id, acked] : ledger.doors()) {
    auto loaded = storage.load(id);
    auto log = journal.read_stream(device_stream(id), 1);
    if (!loaded || !log) {
      ++tally.unloadable;
      ADD_FAILURE() << id << ": " << (loaded ? log.status() : loaded.status()).to_string();
      continue;
    }
    if (!same_state(*loaded, replay(id, *log))) {
      ++tally.wrong_recovery;
      ADD_FAILURE() << id << ": snapshot + tail differs from the replay of the log";
    }
    if (log->size() < acked.version) {
      ++tally.lost;
      ADD_FAILURE() << id << ": acknowledged version " << acked.version << ", log ends at "
                    << log->size();
      continue;
    }
    std::vector<Envelope> upto(log->begin(), log->begin() + static_cast<long>(acked.version));
    if (!same_state(replay(id, upto), acked)) {
      ++tally.lost;
      ADD_FAILURE() << id << ": the log up to version " << acked.version
                    << " is not what was acknowledged";
    }
  }
}

TEST(DevicePowerLossTest, DoorsKeepEveryAcknowledgedChangeAndRecoverExactly) {
  testing::TempDir dir;
  const std::string path = dir.sub("store");
  auto fs = std::make_shared<testing::PowerLossFileSystem>();
  auto env = rocksdb::NewCompositeEnv(fs);
  std::mt19937_64 rng(56);
  DoorLedger ledger;
  Tally tally;
  std::mutex tally_mu;
  const int cycles = cycles_from_environment();
  for (int cycle = 0; cycle <= cycles; ++cycle) {
    {
      auto database = Database::open(path, OpenMode::kReadWrite, env.get());
      ASSERT_TRUE(database.is_ok()) << "cycle " << cycle << ": " << database.status().to_string();
      RocksdbJournal journal(database->get());
      RocksdbSnapshotStore store(database->get());
      auto storage = snapshot_storage(journal, store, [] { return int64_t{0}; });
      check_doors(journal, storage, ledger, tally);
      if (cycle == cycles) break;  // the last reopen only checks

      fs->cut_power_after(1 + rng() % 1500);
      std::vector<std::thread> writers;
      for (int w = 0; w < kWriters; ++w)
        writers.emplace_back(drive_doors, w, std::ref(journal), std::ref(storage), std::ref(*fs),
                             std::ref(ledger), std::ref(tally), std::ref(tally_mu),
                             rng() % 1000000);
      for (auto& t : writers) t.join();
      fs->cut_power();  // when the writers stopped first (every door refused), cut anyway
      journal.shutdown();
    }
    const auto how =
        cycle % 2 ? testing::PowerCut::kTornAtRandomByte : testing::PowerCut::kDropWhole;
    (void)fs->lose_unsynced(how, rng);
    ++tally.cycles;
  }
  std::printf(
      "door power-loss campaign: %llu power cuts, %llu appends acknowledged, %llu snapshots "
      "written, %llu in flight at the cut; lost %llu, wrong recoveries %llu, unloadable %llu\n",
      (unsigned long long)tally.cycles, (unsigned long long)tally.acked,
      (unsigned long long)tally.snapshots, (unsigned long long)tally.in_flight,
      (unsigned long long)tally.lost, (unsigned long long)tally.wrong_recovery,
      (unsigned long long)tally.unloadable);
  EXPECT_EQ(tally.cycles, static_cast<uint64_t>(cycles));
  EXPECT_GT(tally.acked, tally.cycles);
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_EQ(tally.wrong_recovery, 0u);
  EXPECT_EQ(tally.unloadable, 0u);
}

}  // namespace
}  // namespace gh::device
