// Shard leases and fencing (events/lease_manager.h, PgJournal's fence) on the test binary's
// throwaway PostgreSQL: each manager stands for a node. Time does not pass by sleeping:
// a node's own clock is injected (a frozen clock is a paused process), and "the lease ran
// out" is the database's expires_at moved into the past, which is all that passing time
// does to a lease row.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "events/lease_manager.h"
#include "events/pg_journal.h"
#include "events/rendezvous.h"
#include "events/rocksdb_journal.h"
#include "events/shard.h"
#include "tests/events/journal_backends.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using namespace std::chrono_literals;
using testing::request_of;

// A node's monotonic clock that moves only when told to.
struct ManualClock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(0);
  std::function<std::chrono::steady_clock::time_point()> function() const {
    return
        [ms = ms] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(*ms)); };
  }
  void advance(std::chrono::milliseconds by) { *ms += by.count(); }
};

class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& cluster = testing::TempPostgres::shared();
    ASSERT_TRUE(cluster.running()) << cluster.problem();
    conninfo_ = cluster.fresh_database();
    auto admin = PgConnection::open(conninfo_);
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    admin_ = std::move(*admin);
  }

  std::unique_ptr<LeaseManager> node(const std::string& id, ManualClock clock = {},
                                     std::function<void(uint32_t)> before_release = {}) {
    LeaseOptions options;
    options.conninfo = conninfo_;
    options.node = id;
    options.address = id + ":8080";
    options.clock = clock.function();
    options.before_release = std::move(before_release);
    auto opened = LeaseManager::open(std::move(options));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(*opened) : nullptr;
  }

  std::unique_ptr<PgJournal> journal_for(const ShardFence* fence) {
    PgJournalOptions options;
    options.conninfo = conninfo_;
    options.fence = fence;
    auto opened = PgJournal::open(std::move(options));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(*opened) : nullptr;
  }

  // What the passing of the ttl does to a lease in the database.
  void expire_in_database(uint32_t shard) {
    auto done = admin_->exec(
        "UPDATE shard_lease SET expires_at = now() - interval '1 second' WHERE shard = $1",
        PgParams().number(shard), "expiring a lease");
    ASSERT_TRUE(done.is_ok()) << done.status().to_string();
  }

  // shard_lease's row for `shard`: owner ("" when released) and epoch.
  std::pair<std::string, uint64_t> row_of(uint32_t shard) {
    auto rows = admin_->exec("SELECT coalesce(owner, ''), epoch FROM shard_lease WHERE shard = $1",
                             PgParams().number(shard), "reading a lease");
    EXPECT_TRUE(rows.is_ok() && rows->size() == 1);
    if (!rows.is_ok() || rows->size() != 1) return {};
    return {std::string(rows->text(0, 0)), rows->number(0, 1)};
  }

  std::vector<Envelope> log_of(const Journal& journal) {
    std::vector<Envelope> out;
    auto status = journal.read_all(0, [&](const Envelope& e) {
      out.push_back(e);
      return true;
    });
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return out;
  }

  // The chaos check on a log: along positions, every shard's epochs never decrease.
  void expect_epochs_never_decrease(const std::vector<Envelope>& log) {
    std::map<uint32_t, uint64_t> last;
    for (const auto& e : log) {
      const uint32_t shard = shards::shard_of_stream(e.stream());
      EXPECT_GE(e.lease_epoch(), last[shard]) << e.stream() << " at position " << e.position();
      last[shard] = e.lease_epoch();
    }
  }

  int64_t events_count(const std::string& stream) {
    auto rows = admin_->exec("SELECT count(*) FROM gh_events WHERE stream = $1",
                             PgParams().text(stream), "counting");
    return rows.is_ok() ? int64_t(rows->number(0, 0)) : -1;
  }

  std::string conninfo_;
  std::unique_ptr<PgConnection> admin_;
};

const uint32_t kD1 = shards::shard_of_stream("device/d1");
const uint32_t kD2 = shards::shard_of_stream("device/front-door");

TEST_F(LeaseTest, OfTwoNodesAskingForOneShardOnlyOneHoldsIt) {
  auto a = node("gh-a"), b = node("gh-b");
  ASSERT_TRUE(a && b);
  auto got_a = a->acquire({kD1});
  auto got_b = b->acquire({kD1});
  ASSERT_TRUE(got_a.is_ok() && got_b.is_ok()) << got_b.status().to_string();
  EXPECT_EQ(*got_a, (std::map<uint32_t, uint64_t>{{kD1, 1}}));
  EXPECT_TRUE(got_b->empty());
  EXPECT_EQ(a->held_epoch(kD1), std::optional<uint64_t>(1));
  EXPECT_EQ(b->held_epoch(kD1), std::nullopt);
  EXPECT_EQ(row_of(kD1), std::make_pair(std::string("gh-a"), uint64_t(1)));
  // Renewal keeps it; the other still cannot take it while it is not expired.
  auto renewed = a->renew();
  ASSERT_TRUE(renewed.is_ok()) << renewed.status().to_string();
  EXPECT_EQ(*renewed, std::vector<uint32_t>{kD1});
  EXPECT_TRUE(b->acquire({kD1})->empty());
}

// The zombie: node A pauses (its clock stands still, it renews nothing) past its lease's
// expiry; B takes the shard with a higher epoch; A wakes up still believing it holds the
// shard at epoch 1. Its append is refused by the database, inside the append transaction.
TEST_F(LeaseTest, APausedOwnerPastExpiryCannotWriteAfterAnotherTookTheShard) {
  ASSERT_NE(kD1, kD2);
  ManualClock a_clock;
  auto a = node("gh-a", a_clock), b = node("gh-b");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->acquire({kD1, kD2})->size(), 2u);
  auto a_journal = journal_for(a.get());
  auto b_journal = journal_for(b.get());
  ASSERT_TRUE(a_journal && b_journal);
  auto first = a_journal->append_and_wait(request_of("device/d1", 0));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->events.at(0).lease_epoch(), 1u);

  expire_in_database(kD1);  // A is paused past its ttl
  auto taken = b->acquire({kD1});
  ASSERT_TRUE(taken.is_ok()) << taken.status().to_string();
  EXPECT_EQ(*taken, (std::map<uint32_t, uint64_t>{{kD1, 2}}));
  EXPECT_EQ(a->held_epoch(kD1), std::optional<uint64_t>(1));  // A does not know

  // A's batch: device/d1 on the lost shard, device/front-door on a shard A still holds.
  std::mutex mutex;
  std::map<std::string, Result<AppendResult>> results;
  for (const std::string stream : {"device/d1", "device/front-door"})
    a_journal->append(request_of(stream, stream == "device/d1" ? 1 : 0), [&, stream](auto r) {
      std::lock_guard lock(mutex);
      results.emplace(stream, std::move(r));
    });
  a_journal->shutdown();
  ASSERT_EQ(results.size(), 2u);
  const auto& refused = results.at("device/d1");
  ASSERT_EQ(refused.status().code(), Code::kLeaseLost) << refused.status().to_string();
  EXPECT_EQ(code_name(refused.status().code()), "lease_lost");
  EXPECT_NE(refused.status().message().find("no longer held by node gh-a at epoch 1"),
            std::string::npos)
      << refused.status().message();
  ASSERT_TRUE(results.at("device/front-door").is_ok())
      << results.at("device/front-door").status().to_string();
  auto d1 = b_journal->read_stream("device/d1", 0);
  ASSERT_TRUE(d1.is_ok()) << d1.status().to_string();
  EXPECT_EQ(d1->size(), 1u);  // the zombie wrote nothing

  // The new owner writes on, under epoch 2; A's renewal learns that it lost the shard.
  auto b_wrote = b_journal->append_and_wait(request_of("device/d1", 1));
  ASSERT_TRUE(b_wrote.is_ok()) << b_wrote.status().to_string();
  EXPECT_EQ(b_wrote->events.at(0).lease_epoch(), 2u);
  std::vector<uint32_t> lost;
  auto renewed = a->renew(&lost);
  ASSERT_TRUE(renewed.is_ok()) << renewed.status().to_string();
  EXPECT_EQ(lost, std::vector<uint32_t>{kD1});
  EXPECT_EQ(*renewed, std::vector<uint32_t>{kD2});
  EXPECT_EQ(a->held_epoch(kD1), std::nullopt);

  const auto log = log_of(*b_journal);
  ASSERT_EQ(log.size(), 3u);
  expect_epochs_never_decrease(log);
}

// A lease lost without a release (taken while this node was paused) is reported once, by
// the round that finds it, so the server can evict the shard's entities: the other node may
// have written them, and a stale memory must not answer reads should the shard come back.
TEST_F(LeaseTest, ALeaseTakenWhileTheNodeWasPausedIsReportedLostToTheServer) {
  std::mutex mutex;
  std::vector<uint32_t> evicted;
  LeaseOptions options;
  options.conninfo = conninfo_;
  options.node = "gh-a";
  options.after_loss = [&](uint32_t shard) {
    std::lock_guard lock(mutex);
    evicted.push_back(shard);
  };
  auto opened = LeaseManager::open(std::move(options));
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  auto a = std::move(*opened);
  auto b = node("gh-b");
  ASSERT_TRUE(b);
  ASSERT_TRUE(a->tick().is_ok());  // alone: gh-a takes every shard
  ASSERT_EQ(a->held().size(), size_t(shards::kShardCount));

  expire_in_database(kD1);  // gh-a is paused past its ttl, and gh-b takes the shard
  ASSERT_EQ(b->acquire({kD1})->size(), 1u);
  auto round = a->tick();
  ASSERT_TRUE(round.is_ok()) << round.status().to_string();
  EXPECT_EQ(round->lost, std::vector<uint32_t>{kD1});
  EXPECT_EQ(evicted, std::vector<uint32_t>{kD1});
  EXPECT_EQ(a->held_epoch(kD1), std::nullopt);

  ASSERT_TRUE(a->tick().is_ok());  // reported once: the next round loses nothing new
  EXPECT_EQ(evicted, std::vector<uint32_t>{kD1});
}

// Before its lease can expire by the database's clock, a node stops serving the shard by
// its own: its appends are refused without asking the database, and nothing is written.
TEST_F(LeaseTest, ANodeStopsServingAShardBeforeItsLeaseCanExpire) {
  ManualClock clock;
  auto a = node("gh-a", clock);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->acquire({kD1})->size(), 1u);
  auto journal = journal_for(a.get());
  ASSERT_TRUE(journal);
  clock.advance(10s - 2s - 1ms);  // default ttl 10 s, margin 2 s
  EXPECT_EQ(a->held_epoch(kD1), std::optional<uint64_t>(1));
  clock.advance(1ms);
  EXPECT_EQ(a->held_epoch(kD1), std::nullopt);
  auto refused = journal->append_and_wait(request_of("device/d1", 0));
  ASSERT_EQ(refused.status().code(), Code::kLeaseLost) << refused.status().to_string();
  EXPECT_NE(refused.status().message().find("does not hold shard"), std::string::npos);
  EXPECT_EQ(journal->stream_version("device/d1").value(), 0u);
  // Nobody took it meanwhile: a renewal (the ticker's next round) brings it back.
  ASSERT_EQ(a->renew()->size(), 1u);
  auto written = journal->append_and_wait(request_of("device/d1", 0));
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  EXPECT_EQ(written->events.at(0).lease_epoch(), 1u);
}

TEST_F(LeaseTest, TicksShareTheShardsByRendezvousAndHandOffWithoutWaitingForExpiry) {
  std::mutex mutex;
  std::set<uint32_t> handed_off;
  auto a = node("gh-a", {}, [&](uint32_t shard) {
    std::lock_guard lock(mutex);
    handed_off.insert(shard);
  });
  auto b = node("gh-b");
  ASSERT_TRUE(a && b);
  auto alone = a->tick();
  ASSERT_TRUE(alone.is_ok()) << alone.status().to_string();
  EXPECT_EQ(alone->acquired.size(), size_t(shards::kShardCount));
  EXPECT_EQ(alone->live_nodes, std::vector<std::string>{"gh-a"});

  auto joined = b->tick();  // everything is held by gh-a: nothing to take yet
  ASSERT_TRUE(joined.is_ok()) << joined.status().to_string();
  EXPECT_TRUE(joined->acquired.empty());
  EXPECT_EQ(joined->live_nodes, (std::vector<std::string>{"gh-a", "gh-b"}));

  auto gave = a->tick();  // gh-a sees gh-b and hands off gh-b's shards
  ASSERT_TRUE(gave.is_ok()) << gave.status().to_string();
  const auto for_b = shards::desired_shards("gh-b", {"gh-a", "gh-b"});
  EXPECT_EQ(gave->released, for_b);
  EXPECT_EQ(handed_off, std::set<uint32_t>(for_b.begin(), for_b.end()));

  auto took = b->tick();
  ASSERT_TRUE(took.is_ok()) << took.status().to_string();
  EXPECT_EQ(took->acquired, for_b);
  for (const auto shard : for_b) {
    EXPECT_EQ(b->held_epoch(shard), std::optional<uint64_t>(2)) << shard;
    EXPECT_EQ(a->held_epoch(shard), std::nullopt) << shard;
  }
  EXPECT_EQ(a->held().size() + b->held().size(), size_t(shards::kShardCount));

  // gh-a leaves: its shards are released and its heartbeat gone, so gh-b takes all.
  ASSERT_TRUE(a->leave().is_ok());
  auto rest = b->tick();
  ASSERT_TRUE(rest.is_ok()) << rest.status().to_string();
  EXPECT_EQ(rest->live_nodes, std::vector<std::string>{"gh-b"});
  EXPECT_EQ(b->held().size(), size_t(shards::kShardCount));
}

// Ownership of one shard goes A -> B -> A, each writing; the log's epochs for the shard
// rise with every owner and every event carries the epoch it was written under.
TEST_F(LeaseTest, EpochsOfAShardNeverDecreaseAlongTheLog) {
  auto a = node("gh-a"), b = node("gh-b");
  ASSERT_TRUE(a && b);
  auto a_journal = journal_for(a.get());
  auto b_journal = journal_for(b.get());
  ASSERT_TRUE(a_journal && b_journal);
  uint64_t version = 0;
  std::vector<uint64_t> epochs;
  for (int round = 0; round < 4; ++round) {
    auto& owner = round % 2 ? b : a;
    auto& other = round % 2 ? a : b;
    ASSERT_TRUE(other->release(kD1).is_ok());
    ASSERT_EQ(owner->acquire({kD1})->size(), 1u) << "round " << round;
    auto& journal = round % 2 ? b_journal : a_journal;
    auto written = journal->append_and_wait(request_of("device/d1", version, 2));
    ASSERT_TRUE(written.is_ok()) << written.status().to_string();
    version = written->last_version;
    epochs.push_back(written->events.at(0).lease_epoch());
  }
  EXPECT_EQ(epochs, (std::vector<uint64_t>{1, 2, 3, 4}));
  const auto log = log_of(*a_journal);
  ASSERT_EQ(log.size(), 8u);
  for (const auto& e : log) EXPECT_GT(e.lease_epoch(), 0u);
  expect_epochs_never_decrease(log);
}

// The system streams are written by any node, under no lease: what protects them is the
// expected version, read inside the append's transaction (never from a cache another node's
// write made stale), and PRIMARY KEY (stream, version).
TEST_F(LeaseTest, SystemStreamsAreWrittenByAnyNodeAtTheExpectedVersionOnly) {
  const uint32_t tokens_shard = shards::shard_of_stream("system/tokens");
  auto a = node("gh-a"), b = node("gh-b");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->acquire({tokens_shard, kD1})->size(), 2u);  // B holds nothing
  auto a_journal = journal_for(a.get());
  auto b_journal = journal_for(b.get());
  ASSERT_TRUE(a_journal && b_journal);

  auto by_a = a_journal->append_and_wait(request_of("system/tokens", 0));
  ASSERT_TRUE(by_a.is_ok()) << by_a.status().to_string();
  auto by_b = b_journal->append_and_wait(request_of("system/tokens", 1));
  ASSERT_TRUE(by_b.is_ok()) << "B holds no lease, yet writes a system stream: "
                            << by_b.status().to_string();
  EXPECT_EQ(by_b->events.at(0).lease_epoch(), 0u) << "written under no lease";
  // A's stale decision (it last knew version 1) writes nothing...
  auto stale = a_journal->append_and_wait(request_of("system/tokens", 1));
  EXPECT_EQ(stale.status().code(), Code::kConflict) << stale.status().to_string();
  // ...and its decision on what the log now holds writes (its cache of version 1 is not used).
  auto fresh = a_journal->append_and_wait(request_of("system/tokens", 2));
  ASSERT_TRUE(fresh.is_ok()) << fresh.status().to_string();
  // An entity stream in a shard B does not hold is still refused.
  auto device = b_journal->append_and_wait(request_of("device/d1", 0));
  EXPECT_EQ(device.status().code(), Code::kLeaseLost) << device.status().to_string();

  auto tokens = b_journal->read_stream("system/tokens", 1);
  ASSERT_TRUE(tokens.is_ok());
  EXPECT_EQ(tokens->size(), 3u);
  EXPECT_EQ(events_count("device/d1"), 0);
}

TEST_F(LeaseTest, AMarginNotBelowTheTtlIsRefused) {
  LeaseOptions options;
  options.conninfo = conninfo_;
  options.node = "gh-a";
  options.ttl = 1s;
  options.margin = 1s;
  auto opened = LeaseManager::open(options);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), Code::kInvalidArgument);
  options.node = "";
  options.margin = 100ms;
  EXPECT_EQ(LeaseManager::open(options).status().code(), Code::kInvalidArgument);
}

// Unfenced journals write no epoch: an envelope's lease_epoch set by a caller is cleared.
TEST(LeaseEpochTest, UnfencedJournalsWriteNoEpoch) {
  testing::TempStore store;
  RocksdbJournal journal(&store.database());
  auto request = request_of("device/d1", 0);
  request.events[0].set_lease_epoch(7);
  auto written = journal.append_and_wait(request);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  auto events = journal.read_stream("device/d1", 0);
  ASSERT_TRUE(events.is_ok());
  EXPECT_EQ(events->at(0).lease_epoch(), 0u);
  EXPECT_FALSE(events->at(0).SerializeAsString().empty());

  testing::PostgresUnderTest pg;
  ASSERT_TRUE(pg.ready());
  auto pg_written = pg.journal().append_and_wait(request);
  ASSERT_TRUE(pg_written.is_ok()) << pg_written.status().to_string();
  EXPECT_EQ(pg.journal().read_stream("device/d1", 0)->at(0).lease_epoch(), 0u);
}

}  // namespace
}  // namespace gh
