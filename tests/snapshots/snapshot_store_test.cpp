// The snapshot store tests, run against both stores: RocksDB (a fresh store in a temporary
// directory) and PostgreSQL (a fresh database on the test binary's throwaway cluster).
#include "snapshots/snapshot_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "events/keys.h"
#include "snapshots/pg_snapshot_store.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "tests/events/journal_backends.h"
#include "tests/events/temp_postgres.h"
#include "tests/events/temp_store.h"
#include "tests/snapshots/counter_state.h"

namespace gh {
namespace {

using testing::Backend;
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

// A store and a way around it to plant bytes the store would never write.
class StoreUnderTest {
 public:
  virtual ~StoreUnderTest() = default;
  virtual SnapshotStore* store() = 0;
  virtual void put_raw(const std::string& stream, uint64_t version, const std::string& bytes) = 0;
};

class RocksdbStoreUnderTest final : public StoreUnderTest {
 public:
  SnapshotStore* store() override { return &store_; }
  void put_raw(const std::string& stream, uint64_t version, const std::string& bytes) override {
    ASSERT_TRUE(temp_.database()
                    .db()
                    ->Put(rocksdb::WriteOptions(), temp_.database().snapshots(),
                          keys::versioned(stream, version), bytes)
                    .ok());
  }

 private:
  TempStore temp_;
  RocksdbSnapshotStore store_{&temp_.database()};
};

class PostgresStoreUnderTest final : public StoreUnderTest {
 public:
  PostgresStoreUnderTest() {
    auto& cluster = testing::TempPostgres::shared();
    if (!cluster.running()) {
      ADD_FAILURE() << "no PostgreSQL for the test: " << cluster.problem();
      return;
    }
    conninfo_ = cluster.fresh_database();
    auto opened = PgSnapshotStore::open(conninfo_);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    if (opened.is_ok()) store_ = std::move(*opened);
  }
  SnapshotStore* store() override { return store_.get(); }
  const std::string& conninfo() const { return conninfo_; }
  void put_raw(const std::string& stream, uint64_t version, const std::string& bytes) override {
    auto db = PgConnection::open(conninfo_);
    ASSERT_TRUE(db.is_ok()) << db.status().to_string();
    auto put = (*db)->exec(
        "INSERT INTO gh_snapshots (stream, version, snapshot) VALUES ($1, $2, $3) "
        "ON CONFLICT (stream, version) DO UPDATE SET snapshot = EXCLUDED.snapshot",
        PgParams().text(stream).number(version).bytes(bytes), "planting a snapshot");
    ASSERT_TRUE(put.is_ok()) << put.status().to_string();
  }

 private:
  std::string conninfo_;
  std::unique_ptr<PgSnapshotStore> store_;
};

class SnapshotStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kRocksdb)
      under_test_ = std::make_unique<RocksdbStoreUnderTest>();
    else
      under_test_ = std::make_unique<PostgresStoreUnderTest>();
    ASSERT_NE(under_test_->store(), nullptr);
  }
  SnapshotStore& store() { return *under_test_->store(); }

  std::unique_ptr<StoreUnderTest> under_test_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SnapshotStoreTest,
                         ::testing::Values(Backend::kRocksdb, Backend::kPostgres),
                         testing::BackendName());

TEST_P(SnapshotStoreTest, KeepsTheTwoNewestPerStreamNewestFirst) {
  EXPECT_TRUE(versions_of(store(), "device/d1").empty());
  for (uint64_t v : {10, 20, 30, 40}) ASSERT_TRUE(store().write(at("device/d1", v)).is_ok());
  ASSERT_TRUE(store().write(at("device/d2", 5)).is_ok());
  EXPECT_EQ(versions_of(store(), "device/d1"), (std::vector<uint64_t>{40, 30}));
  EXPECT_EQ(versions_of(store(), "device/d2"), (std::vector<uint64_t>{5}));
  auto listing = store().list("device/d1");
  EXPECT_EQ(listing->valid[0].device().strangers_seen(), 400u);
  EXPECT_TRUE(listing->corrupt.empty());
  // A late writer's older snapshot does not displace newer ones.
  ASSERT_TRUE(store().write(at("device/d1", 15)).is_ok());
  EXPECT_EQ(versions_of(store(), "device/d1"), (std::vector<uint64_t>{40, 30}));
  // Re-writing the same version replaces it.
  auto again = at("device/d1", 40);
  again.set_taken_at_unix_ms(99);
  ASSERT_TRUE(store().write(again).is_ok());
  EXPECT_EQ(store().list("device/d1")->valid[0].taken_at_unix_ms(), 99);
  EXPECT_EQ(versions_of(store(), "device/d1"), (std::vector<uint64_t>{40, 30}));
}

TEST_P(SnapshotStoreTest, ConcurrentWritersStillLeaveOnlyTheTwoNewest) {
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (uint64_t i = 1; i <= 25; ++i) {
        auto written = store().write(at("device/d1", i * 8 + t));
        EXPECT_TRUE(written.is_ok()) << written.to_string();
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(versions_of(store(), "device/d1"), (std::vector<uint64_t>{207, 206}));
}

TEST_P(SnapshotStoreTest, NamesThatPrefixEachOtherStaySeparate) {
  for (uint64_t v : {1, 2, 3}) ASSERT_TRUE(store().write(at("device/a.b", v)).is_ok());
  ASSERT_TRUE(store().write(at("device/a", 7)).is_ok());
  ASSERT_TRUE(store().write(at("device/ab", 4)).is_ok());
  ASSERT_TRUE(store().write(at("user/a", 9)).is_ok());
  EXPECT_EQ(versions_of(store(), "device/a"), (std::vector<uint64_t>{7}));
  EXPECT_EQ(versions_of(store(), "device/a.b"), (std::vector<uint64_t>{3, 2}));
  auto list = [&](const std::string& prefix) {
    std::vector<std::pair<std::string, uint64_t>> streams;
    EXPECT_TRUE(store()
                    .list_streams(prefix,
                                  [&](const std::string& s, uint64_t v) {
                                    streams.emplace_back(s, v);
                                    return true;
                                  })
                    .is_ok());
    return streams;
  };
  EXPECT_EQ(list("device/a"), (std::vector<std::pair<std::string, uint64_t>>{
                                  {"device/a", 7}, {"device/a.b", 3}, {"device/ab", 4}}));
  EXPECT_EQ(list(""), (std::vector<std::pair<std::string, uint64_t>>{
                          {"device/a", 7}, {"device/a.b", 3}, {"device/ab", 4}, {"user/a", 9}}));
}

TEST_P(SnapshotStoreTest, UndecodableSnapshotsAreReportedNotHidden) {
  ASSERT_TRUE(store().write(at("device/d1", 10)).is_ok());
  ASSERT_TRUE(store().write(at("device/d1", 20)).is_ok());
  under_test_->put_raw("device/d1", 20, std::string("\x0a\x7f", 2));
  auto listing = store().list("device/d1");
  ASSERT_TRUE(listing.is_ok());
  ASSERT_EQ(listing->valid.size(), 1u);
  EXPECT_EQ(listing->valid[0].version(), 10u);
  ASSERT_EQ(listing->corrupt.size(), 1u);
  EXPECT_EQ(listing->corrupt[0].stream, "device/d1");
  EXPECT_EQ(listing->corrupt[0].version, 20u);
  EXPECT_EQ(listing->corrupt[0].reason, "does not decode");
  // A snapshot stored under the wrong key is misplaced, hence corrupt too.
  under_test_->put_raw("device/d1", 10, at("device/d1", 9).SerializeAsString());
  listing = store().list("device/d1");
  EXPECT_TRUE(listing->valid.empty());
  EXPECT_EQ(listing->corrupt.size(), 2u);
}

TEST_P(SnapshotStoreTest, RefusesBadSnapshotsWritingNothing) {
  EXPECT_EQ(store().write(at("nope/d1", 1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(store().write(at("device/d1", 0)).code(), Code::kInvalidArgument);
  auto stateless = at("device/d1", 2);
  stateless.clear_device();
  EXPECT_EQ(store().write(stateless).code(), Code::kInvalidArgument);
  EXPECT_TRUE(versions_of(store(), "device/d1").empty());
}

TEST(RocksdbSnapshotStoreTest, ReadOnlyStoresListButRefuseWrites) {
  TempStore temp;
  RocksdbSnapshotStore store(&temp.database());
  ASSERT_TRUE(store.write(at("device/d1", 3)).is_ok());
  temp.reopen(OpenMode::kReadOnly);
  RocksdbSnapshotStore read_only(&temp.database());
  EXPECT_EQ(versions_of(read_only, "device/d1"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(read_only.write(at("device/d1", 4)).code(), Code::kFailedPrecondition);
}

// After a server restart or failover the pooled connections are dead: the next write and
// list reconnect instead of failing.
TEST(PgSnapshotStoreTest, SessionsEndedByTheServerAreReopened) {
  PostgresStoreUnderTest under_test;
  ASSERT_NE(under_test.store(), nullptr);
  SnapshotStore& store = *under_test.store();
  ASSERT_TRUE(store.write(at("device/d1", 1)).is_ok());
  auto admin = PgConnection::open(under_test.conninfo());
  ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
  auto ended = (*admin)->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()",
      PgParams(), "ending the store's sessions");
  ASSERT_TRUE(ended.is_ok()) << ended.status().to_string();
  EXPECT_GE(ended->size(), 1);
  auto written = store.write(at("device/d1", 2));
  EXPECT_TRUE(written.is_ok()) << written.to_string();
  ASSERT_TRUE(admin.value()
                  ->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                         PgParams(), "ending the store's sessions")
                  .is_ok());
  EXPECT_EQ(versions_of(store, "device/d1"), (std::vector<uint64_t>{2, 1}));
}

TEST(PgSnapshotStoreTest, AnUnreachableServerIsUnavailable) {
  auto opened = PgSnapshotStore::open(
      "host=127.0.0.1 port=" + std::to_string(testing::TempPostgres::free_port()) +
      " user=gatehouse dbname=none connect_timeout=5");
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), Code::kUnavailable) << opened.status().to_string();
}

}  // namespace
}  // namespace gh
