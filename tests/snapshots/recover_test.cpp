// recover() = latest usable snapshot + tail, against a real journal and store.
#include "snapshots/recover.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "events/keys.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "snapshots/snapshot_policy.h"
#include "tests/events/temp_store.h"
#include "tests/snapshots/counter_state.h"

namespace gh {
namespace {

using testing::apply_counter;
using testing::Counter;
using testing::counter_snapshot;
using testing::decode_counter;
using testing::request_of;
using testing::TempStore;

Result<Recovered<Counter>> recover_counter(const Journal& journal, const SnapshotStore& store,
                                           const std::string& stream) {
  return recover<Counter>(journal, store, stream, decode_counter, apply_counter,
                          [] { return Counter{}; });
}

Counter full_replay(const Journal& journal, const std::string& stream) {
  Counter counter;
  auto events = journal.read_stream(stream, 0);
  EXPECT_TRUE(events.is_ok()) << events.status().to_string();
  for (const auto& e : *events) apply_counter(counter, e);
  return counter;
}

void corrupt_snapshot(Database& database, const std::string& stream, uint64_t version) {
  ASSERT_TRUE(database.db()
                  ->Put(rocksdb::WriteOptions(), database.snapshots(),
                        keys::versioned(stream, version), std::string("\x0a\x7f", 2))
                  .ok());
}

// Appends `count` events one append at a time, snapshotting per `policy` like an actor.
void append_with_policy(TempStore& temp, SnapshotStore& store, const std::string& stream,
                        size_t count, SnapshotPolicy policy, std::mt19937& random) {
  Counter state;
  uint64_t snapshot_version = 0;
  while (state.version < count) {
    size_t n = 1 + random() % 3;
    auto request = request_of(stream, state.version, n);
    for (auto& e : request.events)
      e.mutable_lock_state_reported()->set_state(events::LockState(random() % 6));
    auto result = temp.journal().append_and_wait(request);
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    auto tail = temp.journal().read_stream(stream, state.version + 1);
    ASSERT_TRUE(tail.is_ok()) << tail.status().to_string();
    for (const auto& e : *tail) apply_counter(state, e);
    if (policy.due(snapshot_version, state.version)) {
      ASSERT_TRUE(store.write(counter_snapshot(stream, state)).is_ok());
      snapshot_version = state.version;
    }
  }
}

TEST(RecoverTest, SnapshotPlusTailEqualsFullReplayOverGeneratedHistories) {
  TempStore temp;
  RocksdbSnapshotStore store(&temp.database());
  std::mt19937 random(20261123);
  for (int round = 0; round < 12; ++round) {
    const std::string stream = "device/r" + std::to_string(round);
    const size_t length = random() % 60;
    const SnapshotPolicy policy(random() % 12);  // includes 0: never
    append_with_policy(temp, store, stream, length, policy, random);
    auto recovered = recover_counter(temp.journal(), store, stream);
    ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
    const Counter expected = full_replay(temp.journal(), stream);
    EXPECT_EQ(recovered->state, expected) << stream;
    EXPECT_EQ(recovered->version, expected.version);
    EXPECT_TRUE(recovered->skipped.empty());
    auto listing = store.list(stream);
    const uint64_t newest = listing->valid.empty() ? 0 : listing->valid[0].version();
    EXPECT_EQ(recovered->snapshot_version, newest) << stream;
    EXPECT_EQ(recovered->replayed, expected.version - newest);
    if (policy.every_events() == 0) {
      EXPECT_EQ(recovered->snapshot_version, 0u);
    }
  }
}

class RecoverFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.journal().append_and_wait(request_of(kStream, 0, 30)).is_ok());
    Counter at10, at20;
    auto first20 = temp_.journal().read_stream(kStream, 1, 20);
    ASSERT_TRUE(first20.is_ok());
    for (const auto& e : *first20) {
      if (e.version() <= 10) apply_counter(at10, e);
      apply_counter(at20, e);
    }
    ASSERT_TRUE(store_.write(counter_snapshot(kStream, at10)).is_ok());
    ASSERT_TRUE(store_.write(counter_snapshot(kStream, at20)).is_ok());
    expected_ = full_replay(temp_.journal(), kStream);
  }

  static constexpr const char* kStream = "device/d1";
  TempStore temp_;
  RocksdbSnapshotStore store_{&temp_.database()};
  Counter expected_;
};

TEST_F(RecoverFallbackTest, UsesTheNewestSnapshot) {
  auto recovered = recover_counter(temp_.journal(), store_, kStream);
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 20u);
  EXPECT_EQ(recovered->replayed, 10u);
}

TEST_F(RecoverFallbackTest, CorruptNewestFallsBackToTheOlder) {
  corrupt_snapshot(temp_.database(), kStream, 20);
  auto recovered = recover_counter(temp_.journal(), store_, kStream);
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 10u);
  EXPECT_EQ(recovered->replayed, 20u);
  ASSERT_EQ(recovered->skipped.size(), 1u);
  EXPECT_NE(recovered->skipped[0].find("snapshot 20"), std::string::npos);
}

TEST_F(RecoverFallbackTest, BothCorruptMeansFullReplay) {
  corrupt_snapshot(temp_.database(), kStream, 20);
  corrupt_snapshot(temp_.database(), kStream, 10);
  auto recovered = recover_counter(temp_.journal(), store_, kStream);
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 0u);
  EXPECT_EQ(recovered->replayed, 30u);
  EXPECT_EQ(recovered->skipped.size(), 2u);
}

TEST_F(RecoverFallbackTest, SnapshotTheDecoderRejectsIsSkipped) {
  auto inconsistent = counter_snapshot(kStream, Counter{1, 2, 20});
  inconsistent.mutable_device()->set_version(19);  // state and snapshot disagree
  ASSERT_TRUE(store_.write(inconsistent).is_ok());
  auto recovered = recover_counter(temp_.journal(), store_, kStream);
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 10u);
}

TEST_F(RecoverFallbackTest, SnapshotBeyondTheLogIsIgnoredAndSaysEventsWereLost) {
  ASSERT_TRUE(store_.write(counter_snapshot(kStream, Counter{5, 40, 40})).is_ok());
  auto recovered = recover_counter(temp_.journal(), store_, kStream);
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 20u);
  ASSERT_EQ(recovered->skipped.size(), 1u);
  EXPECT_NE(recovered->skipped[0].find("events were lost"), std::string::npos);
}

TEST_F(RecoverFallbackTest, UnreadableSnapshotTableFallsBackToFullReplay) {
  auto& database = temp_.database();
  ASSERT_TRUE(database.db()->Flush(rocksdb::FlushOptions(), database.snapshots()).ok());
  std::vector<rocksdb::LiveFileMetaData> files;
  database.db()->GetLiveFilesMetaData(&files);
  std::string table;
  for (const auto& f : files)
    if (f.column_family_name == "snapshots") table = f.db_path + "/" + f.name;
  ASSERT_FALSE(table.empty());
  temp_.close();
  {
    std::fstream file(table, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(20);
    file.put('\x7e');
    file.seekp(21);
    file.put('\x7f');
  }
  auto reopened = Database::open(temp_.path(), OpenMode::kReadOnly);
  if (!reopened) GTEST_SKIP() << "RocksDB refused the damaged table at open";
  RocksdbJournal journal(reopened->get());
  RocksdbSnapshotStore store(reopened->get());
  auto recovered = recover_counter(journal, store, kStream);
  ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 0u);
  ASSERT_EQ(recovered->skipped.size(), 1u);
  EXPECT_NE(recovered->skipped[0].find("snapshots unreadable"), std::string::npos)
      << recovered->skipped[0];
}

TEST_F(RecoverFallbackTest, CorruptEventInTheTailRefusesTheStream) {
  ASSERT_TRUE(temp_.database()
                  .db()
                  ->Put(rocksdb::WriteOptions(), temp_.database().events(),
                        keys::versioned(kStream, 25), std::string("\x0a\x7f", 2))
                  .ok());
  auto recovered = recover_counter(temp_.journal(), store_, kStream);
  ASSERT_FALSE(recovered.is_ok());
  EXPECT_EQ(recovered.status().code(), Code::kDataLoss);
  EXPECT_NE(recovered.status().message().find("device/d1 version 25"), std::string::npos);
}

TEST_F(RecoverFallbackTest, EmptyStreamRecoversToTheEmptyState) {
  auto recovered = recover_counter(temp_.journal(), store_, "device/none");
  ASSERT_TRUE(recovered.is_ok());
  EXPECT_EQ(recovered->state, Counter{});
  EXPECT_EQ(recovered->version, 0u);
}

TEST_F(RecoverFallbackTest, WorksOnAReadOnlyStore) {
  temp_.reopen(OpenMode::kReadOnly);
  RocksdbSnapshotStore read_only(&temp_.database());
  auto recovered = recover_counter(temp_.journal(), read_only, kStream);
  ASSERT_TRUE(recovered.is_ok()) << recovered.status().to_string();
  EXPECT_EQ(recovered->state, expected_);
  EXPECT_EQ(recovered->snapshot_version, 20u);
}

}  // namespace
}  // namespace gh
