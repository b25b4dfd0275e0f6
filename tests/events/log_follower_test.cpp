// Following the shared log (events/log_follower.h) and applying each system stream's events
// once and in order (events/stream_sequencer.h), on the test binary's throwaway PostgreSQL:
// two journals on one database stand for two nodes, one writing, the other following.
#include "events/log_follower.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "events/pg_journal.h"
#include "events/stream_sequencer.h"
#include "tests/events/journal_backends.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using testing::request_of;

class LogFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& cluster = testing::TempPostgres::shared();
    ASSERT_TRUE(cluster.running()) << cluster.problem();
    conninfo_ = cluster.fresh_database();
    writer_ = open();
    follower_journal_ = open();
    ASSERT_TRUE(writer_ && follower_journal_);
  }

  std::unique_ptr<PgJournal> open() {
    PgJournalOptions options;
    options.conninfo = conninfo_;
    auto opened = PgJournal::open(std::move(options));
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(*opened) : nullptr;
  }

  void write(const std::string& stream, uint64_t expected, size_t count = 1) {
    auto done = writer_->append_and_wait(request_of(stream, expected, count));
    ASSERT_TRUE(done.is_ok()) << done.status().to_string();
  }

  std::string conninfo_;
  std::unique_ptr<PgJournal> writer_;            // "node A"
  std::unique_ptr<PgJournal> follower_journal_;  // "node B", which follows A's writes
};

// "stream@version" of each event handed over.
struct Seen {
  std::mutex mu;
  std::vector<std::string> events;
  LogFollower::Subscriber subscriber(const std::string& tag = "") {
    return [this, tag](const Envelope& e) {
      std::lock_guard lock(mu);
      events.push_back(tag + e.stream() + "@" + std::to_string(e.version()));
    };
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mu);
    return std::exchange(events, {});
  }
};

TEST_F(LogFollowerTest, HandsEachEventOfItsPrefixesOnceInPositionOrder) {
  // B's head is where it opened, before A wrote: it follows from there, so it sees A's
  // first token too.
  write("system/tokens", 0);
  LogFollower follower(*follower_journal_, follower_journal_->last_position());
  EXPECT_EQ(follower_journal_->last_position(), 0u);
  Seen seen;
  follower.subscribe("system/tokens", seen.subscriber());
  follower.subscribe("system/actions", seen.subscriber("actions:"));

  write("system/tokens", 1, 2);
  write("device/d1", 0);
  write("system/actions", 0);
  write("system/tokens", 3);
  ASSERT_TRUE(follower.poll().is_ok());
  EXPECT_EQ(seen.take(),
            (std::vector<std::string>{"system/tokens@1", "system/tokens@2", "system/tokens@3",
                                      "actions:system/actions@1", "system/tokens@4"}));
  EXPECT_EQ(follower.position(), writer_->last_position()) << "read up to the head";
  ASSERT_TRUE(follower.poll().is_ok());
  EXPECT_TRUE(seen.take().empty()) << "nothing is handed over twice";

  write("device/d1", 1);
  write("system/tokens", 4);
  ASSERT_TRUE(follower.poll().is_ok());
  EXPECT_EQ(seen.take(), std::vector<std::string>{"system/tokens@5"});
}

TEST_F(LogFollowerTest, StartsAfterTheGivenPositionAndFollowsOnItsOwnThread) {
  write("system/tokens", 0, 3);
  const uint64_t head = writer_->last_position();
  LogFollower follower(*follower_journal_, head, LogFollowerOptions{std::chrono::milliseconds(20)});
  Seen seen;
  follower.subscribe("system/", seen.subscriber());
  follower.start();
  write("system/door-credentials", 0);
  std::vector<std::string> got;
  for (int i = 0; i < 500 && got.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    got = seen.take();
  }
  follower.stop();
  EXPECT_EQ(got, std::vector<std::string>{"system/door-credentials@1"})
      << "only what was written after the start position";
}

TEST_F(LogFollowerTest, AFailedReadIsAnErrorAndTheNextPollContinuesFromTheSamePosition) {
  LogFollower follower(*follower_journal_, 0);
  Seen seen;
  follower.subscribe("system/", seen.subscriber());
  write("system/tokens", 0);
  ASSERT_TRUE(follower.poll().is_ok());
  EXPECT_EQ(seen.take().size(), 1u);
  // A row that does not decode stops the read, naming it; the position stays before it.
  auto admin = PgConnection::open(conninfo_);
  ASSERT_TRUE(admin.is_ok());
  write("system/tokens", 1);
  const std::string where = " FROM gh_events WHERE stream = 'system/tokens' AND version = 2";
  auto original = (*admin)->exec("SELECT envelope" + where, PgParams(), "reading");
  ASSERT_TRUE(original.is_ok() && original->size() == 1);
  const std::string bytes(original->bytes(0, 0));
  ASSERT_TRUE((*admin)
                  ->exec("UPDATE gh_events SET envelope = '\\x01'::bytea" + where.substr(15),
                         PgParams(), "corrupting")
                  .is_ok());
  const uint64_t before = follower.position();
  auto failed = follower.poll();
  EXPECT_EQ(failed.code(), Code::kDataLoss) << failed.to_string();
  EXPECT_NE(failed.message().find("system/tokens"), std::string::npos) << failed.message();
  EXPECT_EQ(follower.position(), before);
  EXPECT_TRUE(seen.take().empty());
  // Readable again: the next poll hands the event over, once.
  ASSERT_TRUE((*admin)
                  ->exec("UPDATE gh_events SET envelope = $1" + where.substr(15),
                         PgParams().bytes(bytes), "repairing")
                  .is_ok());
  ASSERT_TRUE(follower.poll().is_ok());
  EXPECT_EQ(seen.take(), std::vector<std::string>{"system/tokens@2"});
}

// Two sources of one stream (this node's own writes, the follower): each version is
// applied once, in order; a version ahead of what is held brings the missing ones from the
// log first.
TEST_F(LogFollowerTest, TheSequencerAppliesEachVersionOnceInOrderAndFillsGapsFromTheLog) {
  write("system/tokens", 0, 5);
  std::vector<Envelope> log;
  ASSERT_TRUE(follower_journal_
                  ->read_all(1,
                             [&](const Envelope& e) {
                               log.push_back(e);
                               return true;
                             })
                  .is_ok());
  ASSERT_EQ(log.size(), 5u);
  Seen applied;
  StreamSequencer sequencer(*follower_journal_, applied.subscriber());
  sequencer.start_at("system/tokens", 1);  // the projection was loaded at version 1

  ASSERT_TRUE(sequencer.deliver(log[0]).is_ok());  // held already
  ASSERT_TRUE(sequencer.deliver(log[3]).is_ok());  // version 4: 2 and 3 read from the log
  ASSERT_TRUE(sequencer.deliver(log[1]).is_ok());  // the follower brings 2 late: dropped
  ASSERT_TRUE(sequencer.deliver(log[4]).is_ok());
  ASSERT_TRUE(sequencer.deliver(log[4]).is_ok());
  EXPECT_EQ(applied.take(), (std::vector<std::string>{"system/tokens@2", "system/tokens@3",
                                                      "system/tokens@4", "system/tokens@5"}));
  EXPECT_EQ(sequencer.applied("system/tokens"), 5u);

  // A stream not started passes through as it comes.
  write("user/alice", 0);
  auto alice = follower_journal_->read_stream("user/alice", 1);
  ASSERT_TRUE(alice.is_ok() && alice->size() == 1u);
  ASSERT_TRUE(sequencer.deliver(alice->front()).is_ok());
  ASSERT_TRUE(sequencer.deliver(alice->front()).is_ok());
  EXPECT_EQ(applied.take(), (std::vector<std::string>{"user/alice@1", "user/alice@1"}));
}

}  // namespace
}  // namespace gh
