// The power-loss campaign (docs/reliability.md): the real journal on RocksDB, on a file
// system that loses every write not yet synced when the power is cut (power_loss_fs.h).
// Writers append to their streams and keep a ledger of every append the journal
// acknowledged; at a random point the power goes, the store is closed, the unsynced bytes are
// dropped (whole, or torn at a random byte), and the store is reopened and checked against
// the ledger with the journal's own read paths:
//   lost acknowledged appends = 0, unexpected events (never sent) = 0, every append all or
//   nothing, versions 1..n without gaps, positions strictly increasing, every acknowledged
//   command id still answered from its record.
// Then the writers go on from what survived, and the next cut comes. Some cycles flush
// memtables while writing, so SST files and the MANIFEST are cut too.
//
// The negative control runs the same with JournalOptions::sync = false and must lose
// acknowledged appends: the campaign can fail.
//
// Cycles: GH_POWER_CUTS (default 25). The long campaign: GH_POWER_CUTS=200
// build/tests/events/events_test --gtest_filter='PowerLoss*'
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "tests/campaigns/write_ledger.h"
#include "tests/events/power_loss_fs.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

constexpr int kWriters = 4;
constexpr int kStreamsPerWriter = 2;

int cycles_from_environment() {
  const char* text = std::getenv("GH_POWER_CUTS");
  const int n = text ? std::atoi(text) : 0;
  return n > 0 ? n : 25;
}

// What every cycle checks and the campaign adds up.
struct Tally {
  uint64_t cycles = 0;
  uint64_t acked = 0;           // appends acknowledged, over all cycles
  uint64_t acked_events = 0;    // their events
  uint64_t in_flight = 0;       // appends answered with an error (power gone)
  uint64_t in_flight_kept = 0;  // ... whose events survived all the same (allowed)
  uint64_t lost = 0;            // acknowledged appends missing or changed after reopen
  uint64_t unexpected = 0;      // events present that no writer sent
  uint64_t partial = 0;         // appends with some but not all of their events present
  uint64_t gaps = 0;            // streams that fail to read back (gap, decode failure)
  uint64_t bytes_dropped = 0;
  uint64_t reopen_failures = 0;
};

// The value of an append in the ledger: its versions, "3,4,5".
std::string versions_text(uint64_t first, uint64_t last) {
  std::string text;
  for (uint64_t v = first; v <= last; ++v) text += (text.empty() ? "" : ",") + std::to_string(v);
  return text;
}

// The campaign's ledger (tests/campaigns/write_ledger.h: one write per append, named by its
// command id, valued by its versions) and the checks only a journal has: event contents,
// versions without gaps, positions, command records.
class Ledger {
 public:
  void acked(const std::string& stream, const std::string& command_id, uint64_t first,
             uint64_t last) {
    writes_.acked(stream, command_id, versions_text(first, last));
  }
  void attempted(const std::string& stream, const std::string& command_id, uint64_t first,
                 uint64_t count) {
    writes_.sent(stream, command_id, versions_text(first, first + count - 1));
  }
  // Checks the reopened journal, adds to `tally`; the in-flight appends that survived are
  // from now on as durable as acknowledged ones (the ledger adopts them).
  void check(const Journal& journal, Tally& tally) {
    for (const auto& stream : writes_.subjects()) {
      auto events = journal.read_stream(stream, 1);
      if (!events) {
        ++tally.gaps;
        ADD_FAILURE() << stream << ": " << events.status().to_string();
        continue;
      }
      std::map<std::string, std::vector<uint64_t>> versions_of;
      uint64_t expected_version = 1;
      for (const auto& e : *events) {
        if (e.version() != expected_version) ++tally.gaps;
        expected_version = e.version() + 1;
        versions_of[e.command_id()].push_back(e.version());
        const auto& name = e.device_info_changed().name();
        if (name != e.command_id() + "#" + std::to_string(e.version())) ++tally.unexpected;
      }
      std::vector<testing::ReadBack> present;
      for (const auto& [id, versions] : versions_of) {
        std::string text;
        for (auto v : versions) text += (text.empty() ? "" : ",") + std::to_string(v);
        present.push_back({id, text});
      }
      std::vector<std::string> problems;
      const auto count = writes_.check(stream, present, &problems);
      for (const auto& p : problems) ADD_FAILURE() << p;
      tally.lost += count.lost;
      tally.unexpected += count.unexpected + count.duplicates;
      tally.partial += count.changed;
      tally.in_flight_kept += count.adopted;
      writes_.forget_unknown(stream);
      // Every command record once, then a rotating fiftieth of them per reopen: the events
      // are all read every time, and lookups of every record would make a long campaign
      // quadratic.
      for (const auto& [id, versions] : writes_.acked_writes(stream)) {
        const uint64_t first = std::stoull(versions);
        if (records_checked_.count(stream + "/" + id) && (first + tally.cycles) % 50 != 0) continue;
        auto record = journal.find_command(stream, id);
        if (!record || record->first_version != first) {
          ++tally.lost;
          ADD_FAILURE() << stream << ": command record of " << id << " lost";
        }
        records_checked_.insert(stream + "/" + id);
      }
    }
    uint64_t previous = 0;
    auto all = journal.read_all(1, [&](const Envelope& e) {
      if (e.position() <= previous) ++tally.gaps;
      previous = e.position();
      return true;
    });
    if (!all.is_ok()) {
      ++tally.gaps;
      ADD_FAILURE() << "read_all: " << all.to_string();
    }
  }

 private:
  testing::WriteLedger writes_;
  std::set<std::string> records_checked_;  // touched only by check(), from one thread
};

// Appends 1-3 events per append to the writer's streams until the power is gone.
void write_until_power_cut(int writer, Journal& journal, testing::PowerLossFileSystem& fs,
                           Ledger& ledger, Tally& tally, std::mutex& tally_mu, uint64_t seed,
                           std::atomic<int>& done) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> streams;
  std::vector<uint64_t> versions;
  for (int s = 0; s < kStreamsPerWriter; ++s) {
    streams.push_back("device/w" + std::to_string(writer) + "-" + std::to_string(s));
    auto v = journal.stream_version(streams.back());
    versions.push_back(v ? *v : 0);
  }
  uint64_t n = 0;
  while (fs.powered()) {
    const size_t s = rng() % streams.size();
    const uint64_t count = 1 + rng() % 3;
    AppendRequest request;
    request.stream = streams[s];
    request.expected_version = versions[s];
    request.command_id = "c" + std::to_string(seed) + "-" + std::to_string(n++);
    for (uint64_t i = 0; i < count; ++i) {
      Envelope e;
      e.mutable_device_info_changed()->set_name(request.command_id + "#" +
                                                std::to_string(versions[s] + 1 + i));
      request.events.push_back(std::move(e));
    }
    ledger.attempted(request.stream, request.command_id, versions[s] + 1, count);
    const auto id = request.command_id;
    auto result = journal.append_and_wait(std::move(request));
    // An answer after the cut never reached the client: not acknowledged.
    if (result && fs.powered()) {
      ledger.acked(streams[s], id, result->first_version, result->last_version);
      versions[s] = result->last_version;
      std::lock_guard lock(tally_mu);
      ++tally.acked;
      tally.acked_events += count;
    } else {
      std::lock_guard lock(tally_mu);
      ++tally.in_flight;
      break;  // the journal is gone with the power
    }
  }
  done.fetch_add(1);
}

// Runs `cycles` power cuts on one store and returns what they came to.
Tally run_campaign(int cycles, bool sync, uint64_t seed) {
  testing::TempDir dir;
  const std::string path = dir.sub("store");
  auto fs = std::make_shared<testing::PowerLossFileSystem>();
  auto env = rocksdb::NewCompositeEnv(fs);
  std::mt19937_64 rng(seed);
  Ledger ledger;
  Tally tally;
  std::mutex tally_mu;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    {
      auto database = Database::open(path, OpenMode::kReadWrite, env.get());
      if (!database) {
        ++tally.reopen_failures;
        ADD_FAILURE() << "cycle " << cycle << ": " << database.status().to_string();
        break;
      }
      JournalOptions options;
      options.sync = sync;
      RocksdbJournal journal(database->get(), options);
      if (cycle > 0) ledger.check(journal, tally);

      // The cut comes at a random file operation of RocksDB's (so between a WAL write and
      // its sync, or inside an SST or MANIFEST write), and in every other cycle memtables are
      // flushed meanwhile, so SSTs and the MANIFEST are being written when it comes.
      fs->cut_power_after(1 + rng() % 2000);
      const bool flushing = cycle % 2 == 1;
      std::atomic<int> writers_done{0};
      std::vector<std::thread> threads;
      for (int w = 0; w < kWriters; ++w)
        threads.emplace_back(write_until_power_cut, w, std::ref(journal), std::ref(*fs),
                             std::ref(ledger), std::ref(tally), std::ref(tally_mu),
                             seed * 1000 + cycle * kWriters + w, std::ref(writers_done));
      std::thread flusher;
      if (flushing) {
        flusher = std::thread([&, db = database->get()] {
          std::mt19937_64 local(seed + cycle);
          while (fs->powered()) {
            auto* family = local() % 2 ? db->events() : db->commands();
            (void)db->db()->Flush(rocksdb::FlushOptions(), family);
            std::this_thread::sleep_for(std::chrono::milliseconds(local() % 5));
          }
        });
      }
      while (fs->powered() && writers_done.load() < kWriters)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      fs->cut_power();
      for (auto& t : threads) t.join();
      if (flusher.joinable()) flusher.join();
      journal.shutdown();
    }
    const auto how =
        cycle % 4 < 2 ? testing::PowerCut::kDropWhole : testing::PowerCut::kTornAtRandomByte;
    tally.bytes_dropped += fs->lose_unsynced(how, rng);
    ++tally.cycles;
  }
  auto database = Database::open(path, OpenMode::kReadWrite, env.get());
  if (database) {
    RocksdbJournal journal(database->get());
    ledger.check(journal, tally);
  } else {
    ++tally.reopen_failures;
  }
  return tally;
}

std::string describe(const Tally& t) {
  return std::to_string(t.cycles) + " power cuts, " + std::to_string(t.acked) +
         " appends acknowledged (" + std::to_string(t.acked_events) + " events), " +
         std::to_string(t.in_flight) + " in flight at the cut (" +
         std::to_string(t.in_flight_kept) + " kept), " + std::to_string(t.bytes_dropped) +
         " unsynced bytes dropped; lost " + std::to_string(t.lost) + ", unexpected " +
         std::to_string(t.unexpected) + ", partial " + std::to_string(t.partial) + ", gaps " +
         std::to_string(t.gaps) + ", reopen failures " + std::to_string(t.reopen_failures);
}

TEST(PowerLossTest, NothingAcknowledgedIsLostOverManyPowerCuts) {
  const auto tally = run_campaign(cycles_from_environment(), /*sync=*/true, 12);
  std::printf("power-loss campaign: %s\n", describe(tally).c_str());
  EXPECT_EQ(tally.lost, 0u);
  EXPECT_EQ(tally.unexpected, 0u);
  EXPECT_EQ(tally.partial, 0u);
  EXPECT_EQ(tally.gaps, 0u);
  EXPECT_EQ(tally.reopen_failures, 0u);
  // The campaign did what it says: many cuts, with acknowledged and in-flight appends.
  EXPECT_GE(tally.cycles, static_cast<uint64_t>(cycles_from_environment()));
  EXPECT_GT(tally.acked, tally.cycles);
  EXPECT_GT(tally.bytes_dropped, 0u);
}

// The negative control: without fsync the same campaign must lose acknowledged appends,
// or it could not tell a durable journal from one that is not.
TEST(PowerLossTest, ControlWithoutSyncLosesAcknowledgedAppends) {
  Tally tally;
  {
    // Its losses are expected: count them without failing the test on each one.
    ::testing::TestPartResultArray failures;
    ::testing::ScopedFakeTestPartResultReporter quiet(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    tally = run_campaign(10, /*sync=*/false, 34);
  }
  std::printf("negative control (sync=false): %s\n", describe(tally).c_str());
  EXPECT_GT(tally.lost, 0u) << "a journal that never syncs lost nothing: the campaign is blind";
}

}  // namespace
}  // namespace gh
