// The journal test suite, run against both journals: RocksDB (a real store in a fresh
// directory per test) and PostgreSQL (a fresh database on a throwaway cluster the test
// binary starts itself). Tests of one backend only are named after it.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "events/keys.h"
#include "events/rocksdb_journal.h"
#include "tests/events/journal_backends.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using testing::Backend;
using testing::lock_reported;
using testing::request_of;
using testing::TempStore;

std::vector<Envelope> read_all_events(const Journal& journal, uint64_t from = 0) {
  std::vector<Envelope> out;
  auto status = journal.read_all(from, [&](const Envelope& e) {
    out.push_back(e);
    return true;
  });
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  return out;
}

class JournalTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    under_test_ = testing::make_journal(GetParam());
    ASSERT_TRUE(under_test_->ready());
  }
  Journal& journal() { return under_test_->journal(); }
  void reopen(JournalOptions options = {}) { under_test_->reopen(std::move(options)); }
  void shutdown() { under_test_->shutdown(); }

  std::unique_ptr<testing::JournalUnderTest> under_test_;
};

INSTANTIATE_TEST_SUITE_P(Backends, JournalTest,
                         ::testing::Values(Backend::kRocksdb, Backend::kPostgres),
                         testing::BackendName());

TEST_P(JournalTest, AppendThenReadBackEveryEnvelopeField) {
  AppendRequest request = request_of("device/d1", 0, 3, "cmd-1");
  request.cause.set_kind(events::Cause::USER);
  request.cause.set_name("alice");
  request.cause.set_channel("http");
  request.time_unix_ms = 1700000000123;
  auto result = journal().append_and_wait(request);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->first_version, 1u);
  EXPECT_EQ(result->last_version, 3u);
  EXPECT_EQ(result->last_position, 3u);
  EXPECT_FALSE(result->duplicate);

  auto events = journal().read_stream("device/d1", 0);
  ASSERT_TRUE(events.is_ok()) << events.status().to_string();
  ASSERT_EQ(events->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& e = (*events)[i];
    EXPECT_EQ(e.stream(), "device/d1");
    EXPECT_EQ(e.version(), i + 1);
    EXPECT_EQ(e.position(), i + 1);
    EXPECT_EQ(e.time_unix_ms(), 1700000000123);
    EXPECT_EQ(e.command_id(), "cmd-1");
    EXPECT_EQ(e.cause().name(), "alice");
    EXPECT_EQ(e.cause().channel(), "http");
    EXPECT_EQ(e.lock_state_reported().state(), i % 2 ? events::UNLOCKED : events::LOCKED);
  }
  EXPECT_EQ(*journal().stream_version("device/d1"), 3u);
  EXPECT_EQ(*journal().stream_version("device/none"), 0u);
  EXPECT_EQ(journal().last_position(), 3u);

  auto from_two = journal().read_stream("device/d1", 2, 1);
  ASSERT_TRUE(from_two.is_ok());
  ASSERT_EQ(from_two->size(), 1u);
  EXPECT_EQ((*from_two)[0].version(), 2u);
  EXPECT_TRUE(journal().read_stream("device/d1", 4)->empty());
}

TEST_P(JournalTest, ClockStampsEventsWithoutExplicitTime) {
  JournalOptions options;
  options.clock = [] { return int64_t{42}; };
  reopen(options);
  ASSERT_TRUE(journal().append_and_wait(request_of("device/d1", 0)).is_ok());
  EXPECT_EQ((*journal().read_stream("device/d1", 1))[0].time_unix_ms(), 42);
}

TEST_P(JournalTest, StaleExpectedVersionConflictsAndWritesNothing) {
  ASSERT_TRUE(journal().append_and_wait(request_of("device/d1", 0, 2)).is_ok());
  for (uint64_t stale : {0u, 1u, 3u}) {
    auto result = journal().append_and_wait(request_of("device/d1", stale));
    ASSERT_FALSE(result.is_ok());
    EXPECT_EQ(result.status().code(), Code::kConflict) << result.status().to_string();
    EXPECT_NE(result.status().message().find("device/d1"), std::string::npos);
  }
  EXPECT_EQ(journal().read_stream("device/d1", 0)->size(), 2u);
  EXPECT_EQ(journal().last_position(), 2u);
  EXPECT_EQ(journal().stats().conflicts, 3u);
}

TEST_P(JournalTest, RepeatedCommandIdAnswersTheOriginalAndWritesNothing) {
  auto first = journal().append_and_wait(request_of("device/d1", 0, 2, "c1"));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  ASSERT_TRUE(journal().append_and_wait(request_of("device/d1", 2, 1)).is_ok());
  // The repeat carries a stale expected version: it is still answered, not a conflict.
  auto repeat = journal().append_and_wait(request_of("device/d1", 0, 2, "c1"));
  ASSERT_TRUE(repeat.is_ok()) << repeat.status().to_string();
  EXPECT_TRUE(repeat->duplicate);
  EXPECT_EQ(repeat->first_version, 1u);
  EXPECT_EQ(repeat->last_version, 2u);
  EXPECT_EQ(repeat->last_position, first->last_position);
  EXPECT_EQ(journal().read_stream("device/d1", 0)->size(), 3u);
  auto found = journal().find_command("device/d1", "c1");
  ASSERT_TRUE(found.is_ok());
  EXPECT_EQ(found->last_version, 2u);
  EXPECT_EQ(journal().find_command("device/d1", "nope").status().code(), Code::kNotFound);
  // The same command id on another stream is another command.
  auto other = journal().append_and_wait(request_of("device/d2", 0, 1, "c1"));
  ASSERT_TRUE(other.is_ok());
  EXPECT_FALSE(other->duplicate);
}

TEST_P(JournalTest, RepeatedCommandIdInsideOneBatchIsWrittenOnce) {
  // Queue many appends without waiting so that some share a batch; whatever the batching,
  // exactly one of them writes.
  constexpr int kRepeats = 50;
  std::mutex mutex;
  std::vector<Result<AppendResult>> results;
  std::atomic<int> done{0};
  for (int i = 0; i < kRepeats; ++i) {
    journal().append(request_of("device/d1", 0, 1, "same"), [&](Result<AppendResult> r) {
      std::lock_guard lock(mutex);
      results.push_back(std::move(r));
      ++done;
    });
  }
  shutdown();  // drains the queue
  ASSERT_EQ(done.load(), kRepeats);
  int written = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->first_version, 1u);
    EXPECT_EQ(r->last_version, 1u);
    if (!r->duplicate) ++written;
  }
  EXPECT_EQ(written, 1);
  EXPECT_EQ(journal().read_stream("device/d1", 0)->size(), 1u);
}

TEST_P(JournalTest, ConcurrentAppendsAreGroupCommittedGaplessAndUnique) {
  constexpr int kThreads = 64;
  constexpr int kAppends = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "device/t" + std::to_string(t);
      for (int i = 0; i < kAppends; ++i) {
        auto r = journal().append_and_wait(request_of(stream, uint64_t(i)));
        if (!r.is_ok() || r->last_version != uint64_t(i + 1)) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  auto stats = journal().stats();
  EXPECT_EQ(stats.appends, uint64_t(kThreads * kAppends));
  EXPECT_EQ(stats.events_appended, uint64_t(kThreads * kAppends));
  // 64 threads waiting on fsync: the writer must have put several appends in one batch.
  EXPECT_LT(stats.batches_synced, stats.appends);

  std::set<uint64_t> positions;
  for (int t = 0; t < kThreads; ++t) {
    auto events = journal().read_stream("device/t" + std::to_string(t), 0);
    ASSERT_TRUE(events.is_ok()) << events.status().to_string();
    ASSERT_EQ(events->size(), size_t(kAppends));
    uint64_t previous_position = 0;
    for (int i = 0; i < kAppends; ++i) {
      EXPECT_EQ((*events)[i].version(), uint64_t(i + 1));
      EXPECT_GT((*events)[i].position(), previous_position);  // appends of one thread in order
      previous_position = (*events)[i].position();
      EXPECT_TRUE(positions.insert(previous_position).second) << "position reused";
    }
  }
  EXPECT_EQ(positions.size(), size_t(kThreads * kAppends));
  EXPECT_EQ(*positions.begin(), 1u);
  EXPECT_EQ(*positions.rbegin(), uint64_t(kThreads * kAppends));  // no holes
  EXPECT_EQ(journal().last_position(), uint64_t(kThreads * kAppends));
}

TEST_P(JournalTest, ReadAllVisitsInPositionOrderFromAPositionAndStopsOnRequest) {
  ASSERT_TRUE(journal().append_and_wait(request_of("device/b", 0, 2)).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("device/a", 0, 1)).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("device/b", 2, 1)).is_ok());
  auto all = read_all_events(journal());
  ASSERT_EQ(all.size(), 4u);
  std::vector<std::pair<std::string, uint64_t>> order;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position(), i + 1);
    order.emplace_back(all[i].stream(), all[i].version());
  }
  EXPECT_EQ(order, (std::vector<std::pair<std::string, uint64_t>>{
                       {"device/b", 1}, {"device/b", 2}, {"device/a", 1}, {"device/b", 3}}));
  auto tail = read_all_events(journal(), 3);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0].position(), 3u);
  int visited = 0;
  ASSERT_TRUE(journal().read_all(0, [&](const Envelope&) { return ++visited < 2; }).is_ok());
  EXPECT_EQ(visited, 2);
}

TEST_P(JournalTest, ReadAllWithAPrefixVisitsItsStreamsOnlyAndSaysHowFarItRead) {
  ASSERT_TRUE(journal().append_and_wait(request_of("system/tokens", 0)).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("device/a", 0, 2)).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("system/actions", 0)).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("system/aXb", 0)).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("device/b", 0)).is_ok());
  std::vector<std::pair<std::string, uint64_t>> seen;
  auto visit = [&](const Envelope& e) {
    seen.emplace_back(e.stream(), e.position());
    return true;
  };
  auto read = journal().read_all_with_prefix(2, "system/", visit);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, uint64_t>>{{"system/actions", 4},
                                                                 {"system/aXb", 5}}));
  EXPECT_EQ(*read, 6u);  // every event up to the last was looked at

  seen.clear();
  read = journal().read_all_with_prefix(7, "system/", visit);  // nothing newer yet
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(*read, 6u);

  // '_' is a character of a name, not LIKE's "any character".
  ASSERT_TRUE(journal().append_and_wait(request_of("system/a_b", 0)).is_ok());
  seen.clear();
  read = journal().read_all_with_prefix(1, "system/a_", visit);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, uint64_t>>{{"system/a_b", 7}}));

  EXPECT_EQ(journal().read_all_with_prefix(1, "system/'; --", visit).status().code(),
            Code::kInvalidArgument);
}

TEST_P(JournalTest, ReopenKeepsEventsCommandsAndLastPosition) {
  ASSERT_TRUE(journal().append_and_wait(request_of("device/d1", 0, 3, "c1")).is_ok());
  ASSERT_TRUE(journal().append_and_wait(request_of("user/bob", 0, 2)).is_ok());
  reopen();
  EXPECT_EQ(journal().last_position(), 5u);
  EXPECT_EQ(journal().read_stream("device/d1", 0)->size(), 3u);
  auto repeat = journal().append_and_wait(request_of("device/d1", 0, 3, "c1"));
  ASSERT_TRUE(repeat.is_ok());
  EXPECT_TRUE(repeat->duplicate);
  // Versions and positions continue where they were.
  auto next = journal().append_and_wait(request_of("device/d1", 3));
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(next->last_version, 4u);
  EXPECT_EQ(next->last_position, 6u);
  EXPECT_EQ(journal().append_and_wait(request_of("device/d1", 3)).status().code(), Code::kConflict);
}

TEST(RocksdbJournalTest, ReadOnlyOpenSeesDataAndRefusesAppends) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 2)).is_ok());
  store.reopen(OpenMode::kReadOnly);
  EXPECT_TRUE(store.database().read_only());
  EXPECT_EQ(store.journal().read_stream("device/d1", 0)->size(), 2u);
  EXPECT_EQ(store.journal().last_position(), 2u);
  auto refused = store.journal().append_and_wait(request_of("device/d1", 2));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("stop the server"), std::string::npos);
}

TEST(RocksdbJournalTest, ReadOnlyOpenWorksWhileAWriterHoldsTheStore) {
  TempStore store;
  ASSERT_TRUE(store.journal().append_and_wait(request_of("device/d1", 0, 2)).is_ok());
  auto second_writer = Database::open(store.path(), OpenMode::kReadWrite);
  ASSERT_FALSE(second_writer.is_ok());
  EXPECT_EQ(second_writer.status().code(), Code::kUnavailable)
      << second_writer.status().to_string();
  auto reader = Database::open(store.path(), OpenMode::kReadOnly);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  RocksdbJournal rocksdb_journal(reader->get());
  const Journal& journal = rocksdb_journal;
  EXPECT_EQ(journal.read_stream("device/d1", 0)->size(), 2u);
}

TEST_P(JournalTest, BlobsAreWrittenWithTheEventsAndReadBack) {
  AppendRequest request = request_of("device/d1", 0);
  std::string picture("\xff\xd8\xff\x00jpeg", 8);
  request.blobs.push_back({"pic-1", picture});
  ASSERT_TRUE(journal().append_and_wait(request).is_ok());
  auto blob = journal().read_blob("pic-1");
  ASSERT_TRUE(blob.is_ok());
  EXPECT_EQ(*blob, picture);
  EXPECT_EQ(journal().read_blob("pic-2").status().code(), Code::kNotFound);
  // A conflicting append does not write its blob either.
  AppendRequest stale = request_of("device/d1", 0);
  stale.blobs.push_back({"pic-3", "x"});
  EXPECT_EQ(journal().append_and_wait(stale).status().code(), Code::kConflict);
  EXPECT_EQ(journal().read_blob("pic-3").status().code(), Code::kNotFound);
}

// Blob deletion rides on an append: deleted only with the events that say why, never by a
// failed append; an absent key is no error; events stay.
TEST_P(JournalTest, BlobsAreDeletedWithTheEventsThatRecordWhy) {
  AppendRequest first = request_of("device/d1", 0);
  first.blobs.push_back({"pic-1", "one"});
  first.blobs.push_back({"pic-2", "two"});
  ASSERT_TRUE(journal().append_and_wait(first).is_ok());
  // A conflicting append deletes nothing.
  AppendRequest stale = request_of("device/d1", 0);
  stale.delete_blobs = {"pic-1"};
  EXPECT_EQ(journal().append_and_wait(stale).status().code(), Code::kConflict);
  EXPECT_TRUE(journal().read_blob("pic-1").is_ok());
  AppendRequest drop = request_of("device/d1", 1);
  drop.delete_blobs = {"pic-1", "never-written"};
  drop.blobs.push_back({"pic-3", "three"});
  ASSERT_TRUE(journal().append_and_wait(drop).is_ok());
  EXPECT_EQ(journal().read_blob("pic-1").status().code(), Code::kNotFound);
  EXPECT_EQ(*journal().read_blob("pic-2"), "two");
  EXPECT_EQ(*journal().read_blob("pic-3"), "three");
  EXPECT_EQ(journal().read_stream("device/d1", 1)->size(), 2u);
}

TEST_P(JournalTest, ListStreamsByPrefixWithNamesThatPrefixEachOther) {
  for (auto [stream, count] : std::vector<std::pair<std::string, size_t>>{
           {"device/a.b", 2}, {"device/a", 3}, {"device/ab", 1}, {"user/a", 4}, {"device/b", 5}})
    ASSERT_TRUE(journal().append_and_wait(request_of(stream, 0, count)).is_ok());
  auto list = [&](const std::string& prefix) {
    std::map<std::string, uint64_t> out;
    auto status = journal().list_streams(prefix, [&](const std::string& s, uint64_t v) {
      out[s] = v;
      return true;
    });
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    return out;
  };
  EXPECT_EQ(
      list(""),
      (std::map<std::string, uint64_t>{
          {"device/a", 3}, {"device/a.b", 2}, {"device/ab", 1}, {"device/b", 5}, {"user/a", 4}}));
  EXPECT_EQ(list("device/a"), (std::map<std::string, uint64_t>{
                                  {"device/a", 3}, {"device/a.b", 2}, {"device/ab", 1}}));
  EXPECT_EQ(list("user/"), (std::map<std::string, uint64_t>{{"user/a", 4}}));
  EXPECT_TRUE(list("room/").empty());
  EXPECT_EQ(*journal().stream_version("device/a"), 3u);
  EXPECT_EQ(*journal().stream_version("device/a.b"), 2u);
  EXPECT_EQ(journal().read_stream("device/a", 0)->size(), 3u);
}

TEST_P(JournalTest, InvalidRequestsAreRefusedWithoutWriting) {
  EXPECT_EQ(journal().append_and_wait(request_of("bogus/x", 0)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(journal().append_and_wait(request_of("device/a b", 0)).status().code(),
            Code::kInvalidArgument);
  // An envelope without an event would poison the stream on replay: refused up front.
  AppendRequest empty_event = request_of("device/d1", 0);
  empty_event.events.push_back(Envelope());
  EXPECT_EQ(journal().append_and_wait(empty_event).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(journal().last_position(), 0u);
  EXPECT_EQ(*journal().stream_version("device/d1"), 0u);
}

TEST_P(JournalTest, AppendAfterShutdownIsUnavailable) {
  shutdown();
  EXPECT_EQ(journal().append_and_wait(request_of("device/d1", 0)).status().code(),
            Code::kUnavailable);
}

TEST_P(JournalTest, DurableObserverSeesWrittenEventsInPositionOrderBeforeTheAnswer) {
  std::mutex mutex;
  std::vector<std::pair<std::string, uint64_t>> observed;  // stream, position
  under_test_->observe([&](const Envelope& e) {
    std::lock_guard lock(mutex);
    observed.emplace_back(e.stream(), e.position());
  });
  ASSERT_TRUE(journal().append_and_wait(request_of("device/d1", 0, 2, "c1")).is_ok());
  // A conflict and a duplicate write nothing, so nothing is observed for them.
  EXPECT_EQ(journal().append_and_wait(request_of("device/d1", 0)).status().code(), Code::kConflict);
  ASSERT_TRUE(journal().append_and_wait(request_of("device/d1", 0, 2, "c1"))->duplicate);
  bool seen_before_answer = false;
  journal().append(request_of("user/bob", 0), [&](Result<AppendResult> r) {
    std::lock_guard lock(mutex);
    seen_before_answer = r.is_ok() && !observed.empty() &&
                         observed.back() == std::make_pair(std::string("user/bob"), uint64_t{3});
  });
  shutdown();  // drains the queue
  EXPECT_TRUE(seen_before_answer);
  EXPECT_EQ(observed, (std::vector<std::pair<std::string, uint64_t>>{
                          {"device/d1", 1}, {"device/d1", 2}, {"user/bob", 3}}));
}

TEST_P(JournalTest, AVersionCacheSmallerThanABatchStillChecksEveryStream) {
  JournalOptions options;
  options.version_cache_entries = 2;
  reopen(options);
  std::mutex mutex;
  std::vector<Result<AppendResult>> results;
  // Two appends per stream, chained, queued at once so that batches hold many streams.
  for (uint64_t expected : {0u, 1u})
    for (int s = 0; s < 5; ++s)
      journal().append(request_of("device/s" + std::to_string(s), expected),
                       [&](Result<AppendResult> r) {
                         std::lock_guard lock(mutex);
                         results.push_back(std::move(r));
                       });
  shutdown();
  ASSERT_EQ(results.size(), 10u);
  for (const auto& r : results) EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  reopen(options);
  for (int s = 0; s < 5; ++s) {
    const std::string stream = "device/s" + std::to_string(s);
    EXPECT_EQ(*journal().stream_version(stream), 2u);
    EXPECT_EQ(journal().append_and_wait(request_of(stream, 1)).status().code(), Code::kConflict);
  }
}

// More rows than one SQL statement takes (PostgreSQL allows 65535 parameters): still one
// append, all or nothing.
TEST_P(JournalTest, AnAppendOfManyEventsIsWrittenWhole) {
  AppendRequest big = request_of("device/big", 0, 9000, "big");
  auto result = journal().append_and_wait(big);
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->last_version, 9000u);
  EXPECT_EQ(result->last_position, 9000u);
  auto events = journal().read_stream("device/big", 0);
  ASSERT_TRUE(events.is_ok()) << events.status().to_string();
  ASSERT_EQ(events->size(), 9000u);
  EXPECT_EQ(events->back().position(), 9000u);
  EXPECT_TRUE(journal().append_and_wait(big)->duplicate);
}

// PostgreSQL only: two journals on one database stand for two nodes, the situation cluster
// mode's leases will prevent. Even when they race, the storage refuses the second writer.
class PgJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(first_.ready());
    second_ = open_second();
    ASSERT_NE(second_, nullptr);
  }
  std::unique_ptr<PgJournal> open_second() {
    auto opened = PgJournal::open({first_.conninfo(), {}});
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(*opened) : nullptr;
  }
  testing::PostgresUnderTest first_;
  std::unique_ptr<PgJournal> second_;
};

TEST_F(PgJournalTest, PrimaryKeyStopsAWriterWithAStaleVersionAndTheRestOfItsBatchCommits) {
  Journal& a = first_.journal();
  Journal& b = *second_;
  ASSERT_TRUE(b.append_and_wait(request_of("device/d1", 0)).is_ok());  // b caches version 1
  auto a_wrote = a.append_and_wait(request_of("device/d1", 1));        // a reads 1, writes 2
  ASSERT_TRUE(a_wrote.is_ok()) << a_wrote.status().to_string();
  // b still believes device/d1 is at version 1: its cache passes the append, the primary
  // key refuses the row, and b checks its batch again against the database.
  std::mutex mutex;
  std::map<std::string, Result<AppendResult>> results;
  for (const std::string stream : {"device/d1", "device/d3"})
    b.append(request_of(stream, stream == "device/d1" ? 1 : 0), [&, stream](auto r) {
      std::lock_guard lock(mutex);
      results.emplace(stream, std::move(r));
    });
  second_->shutdown();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results.at("device/d1").status().code(), Code::kConflict)
      << results.at("device/d1").status().to_string();
  EXPECT_NE(results.at("device/d1").status().message().find("at version 2"), std::string::npos);
  ASSERT_TRUE(results.at("device/d3").is_ok()) << results.at("device/d3").status().to_string();
  auto d1 = a.read_stream("device/d1", 0);
  ASSERT_TRUE(d1.is_ok()) << d1.status().to_string();
  ASSERT_EQ(d1->size(), 2u);
  EXPECT_EQ((*d1)[1].position(), a_wrote->last_position);
  std::vector<uint64_t> positions;
  for (const auto& e : read_all_events(a)) positions.push_back(e.position());
  EXPECT_EQ(positions, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(PgJournalTest, WritersOfTwoNodesShareOneGaplessPositionOrder) {
  constexpr int kThreads = 8;
  constexpr int kAppends = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    Journal& journal = t % 2 ? static_cast<Journal&>(*second_) : first_.journal();
    threads.emplace_back([&, t] {
      const std::string stream = "device/t" + std::to_string(t);
      for (int i = 0; i < kAppends; ++i)
        if (auto r = journal.append_and_wait(request_of(stream, uint64_t(2 * i), 2)); !r.is_ok()) {
          ADD_FAILURE() << r.status().to_string();
          ++failures;
        }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  uint64_t expected = 1;
  std::map<std::string, uint64_t> versions;
  for (const auto& e : read_all_events(first_.journal())) {
    EXPECT_EQ(e.position(), expected++);
    EXPECT_EQ(e.version(), ++versions[e.stream()]) << e.stream();
  }
  EXPECT_EQ(expected - 1, uint64_t(kThreads * kAppends * 2));
  // A journal opened afterwards starts from the shared head.
  auto third = open_second();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->last_position(), uint64_t(kThreads * kAppends * 2));
}

// A server restart or failover ends every session; a journal idle at that moment loses
// nothing and needs no restart: its next batch and its next reads reconnect.
TEST_F(PgJournalTest, SessionsEndedByTheServerBetweenBatchesAreReopened) {
  Journal& a = first_.journal();
  ASSERT_TRUE(a.append_and_wait(request_of("device/d1", 0)).is_ok());
  ASSERT_EQ(a.read_stream("device/d1", 0)->size(), 1u);  // a reader connection is pooled
  auto admin = PgConnection::open(first_.conninfo());
  ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
  auto ended = (*admin)->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()",
      PgParams(), "ending the journals' sessions");
  ASSERT_TRUE(ended.is_ok()) << ended.status().to_string();
  EXPECT_GE(ended->size(), 3);  // both writers and at least one reader
  auto next = a.append_and_wait(request_of("device/d1", 1));
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(next->last_version, 2u);
  auto events = a.read_stream("device/d1", 0);
  ASSERT_TRUE(events.is_ok()) << events.status().to_string();
  EXPECT_EQ(events->size(), 2u);
  EXPECT_EQ(a.stats().failures, 0u);
}

TEST(PgJournalOpenTest, AnUnreachableServerIsUnavailable) {
  auto opened =
      PgJournal::open({"host=127.0.0.1 port=" + std::to_string(testing::TempPostgres::free_port()) +
                           " user=gatehouse dbname=none connect_timeout=5",
                       {}});
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), Code::kUnavailable) << opened.status().to_string();
}

}  // namespace
}  // namespace gh
