#include "snapshots/snapshot_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "events/keys.h"
#include "tests/events/temp_store.h"
#include "tests/snapshots/counter_state.h"

namespace gh {
namespace {

using testing::Counter;
using testing::counter_snapshot;
using testing::TempStore;

snapshots::Snapshot at(const std::string& stream, uint64_t version) {
  return counter_snapshot(stream, Counter{version * 10, version, version});
}

std::vector<uint64_t> versions_of(const SnapshotStore& store, const std::string& stream) {
  auto listing = store.list(stream);
  EXPECT_TRUE(listing.is_ok()) << listing.status().to_string();
  std::vector<uint64_t> out;
  for (const auto& s : listing->valid) out.push_back(s.version());
  return out;
}

TEST(SnapshotStoreTest, KeepsTheTwoNewestPerStreamNewestFirst) {
  TempStore temp;
  SnapshotStore store(&temp.database());
  EXPECT_TRUE(versions_of(store, "device/d1").empty());
  for (uint64_t v : {10, 20, 30, 40}) ASSERT_TRUE(store.write(at("device/d1", v)).is_ok());
  ASSERT_TRUE(store.write(at("device/d2", 5)).is_ok());
  EXPECT_EQ(versions_of(store, "device/d1"), (std::vector<uint64_t>{40, 30}));
  EXPECT_EQ(versions_of(store, "device/d2"), (std::vector<uint64_t>{5}));
  auto listing = store.list("device/d1");
  EXPECT_EQ(listing->valid[0].device().strangers_seen(), 400u);
  EXPECT_TRUE(listing->corrupt.empty());
  // A late writer's older snapshot does not displace newer ones.
  ASSERT_TRUE(store.write(at("device/d1", 15)).is_ok());
  EXPECT_EQ(versions_of(store, "device/d1"), (std::vector<uint64_t>{40, 30}));
  // Re-writing the same version replaces it.
  auto again = at("device/d1", 40);
  again.set_taken_at_unix_ms(99);
  ASSERT_TRUE(store.write(again).is_ok());
  EXPECT_EQ(store.list("device/d1")->valid[0].taken_at_unix_ms(), 99);
  EXPECT_EQ(versions_of(store, "device/d1"), (std::vector<uint64_t>{40, 30}));
}

TEST(SnapshotStoreTest, ConcurrentWritersStillLeaveOnlyTheTwoNewest) {
  TempStore temp;
  SnapshotStore store(&temp.database());
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t i = 1; i <= 25; ++i)
        EXPECT_TRUE(store.write(at("device/d1", i * 8 + t)).is_ok());
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(versions_of(store, "device/d1"), (std::vector<uint64_t>{207, 206}));
}

TEST(SnapshotStoreTest, NamesThatPrefixEachOtherStaySeparate) {
  TempStore temp;
  SnapshotStore store(&temp.database());
  for (uint64_t v : {1, 2, 3}) ASSERT_TRUE(store.write(at("device/a.b", v)).is_ok());
  ASSERT_TRUE(store.write(at("device/a", 7)).is_ok());
  ASSERT_TRUE(store.write(at("device/ab", 4)).is_ok());
  EXPECT_EQ(versions_of(store, "device/a"), (std::vector<uint64_t>{7}));
  EXPECT_EQ(versions_of(store, "device/a.b"), (std::vector<uint64_t>{3, 2}));
  std::vector<std::pair<std::string, uint64_t>> streams;
  ASSERT_TRUE(store
                  .list_streams("device/a",
                                [&](const std::string& s, uint64_t v) {
                                  streams.emplace_back(s, v);
                                  return true;
                                })
                  .is_ok());
  EXPECT_EQ(streams, (std::vector<std::pair<std::string, uint64_t>>{
                         {"device/a", 7}, {"device/a.b", 3}, {"device/ab", 4}}));
}

TEST(SnapshotStoreTest, UndecodableSnapshotsAreReportedNotHidden) {
  TempStore temp;
  SnapshotStore store(&temp.database());
  ASSERT_TRUE(store.write(at("device/d1", 10)).is_ok());
  ASSERT_TRUE(store.write(at("device/d1", 20)).is_ok());
  ASSERT_TRUE(temp.database()
                  .db()
                  ->Put(rocksdb::WriteOptions(), temp.database().snapshots(),
                        keys::versioned("device/d1", 20), std::string("\x0a\x7f", 2))
                  .ok());
  auto listing = store.list("device/d1");
  ASSERT_TRUE(listing.is_ok());
  ASSERT_EQ(listing->valid.size(), 1u);
  EXPECT_EQ(listing->valid[0].version(), 10u);
  ASSERT_EQ(listing->corrupt.size(), 1u);
  EXPECT_EQ(listing->corrupt[0].stream, "device/d1");
  EXPECT_EQ(listing->corrupt[0].version, 20u);
  // A snapshot stored under the wrong key is misplaced, hence corrupt too.
  ASSERT_TRUE(temp.database()
                  .db()
                  ->Put(rocksdb::WriteOptions(), temp.database().snapshots(),
                        keys::versioned("device/d1", 10), at("device/d1", 9).SerializeAsString())
                  .ok());
  listing = store.list("device/d1");
  EXPECT_TRUE(listing->valid.empty());
  EXPECT_EQ(listing->corrupt.size(), 2u);
}

TEST(SnapshotStoreTest, RefusesBadSnapshotsAndWritesOnReadOnlyStores) {
  TempStore temp;
  SnapshotStore store(&temp.database());
  EXPECT_EQ(store.write(at("nope/d1", 1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(store.write(at("device/d1", 0)).code(), Code::kInvalidArgument);
  auto stateless = at("device/d1", 2);
  stateless.clear_device();
  EXPECT_EQ(store.write(stateless).code(), Code::kInvalidArgument);
  ASSERT_TRUE(store.write(at("device/d1", 3)).is_ok());
  temp.reopen(OpenMode::kReadOnly);
  SnapshotStore read_only(&temp.database());
  EXPECT_EQ(versions_of(read_only, "device/d1"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(read_only.write(at("device/d1", 4)).code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace gh
