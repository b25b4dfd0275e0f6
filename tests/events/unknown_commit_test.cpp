// A COMMIT whose answer is lost (events/pg_journal.h): the journal settles the outcome by
// reading the log before it answers, so an append that committed is acknowledged and one
// that did not fails and can be retried. The fault is real: a TCP proxy between the journal
// and the test binary's throwaway PostgreSQL cuts the connection at COMMIT.
#include <gtest/gtest.h>

#include <future>

#include "events/pg_journal.h"
#include "tests/events/commit_cut_proxy.h"
#include "tests/events/temp_postgres.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using testing::CommitCutProxy;
using testing::request_of;

class UnknownCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& cluster = testing::TempPostgres::shared();
    ASSERT_TRUE(cluster.running()) << cluster.problem();
    direct_ = cluster.fresh_database();
    // "... port=N ...": the proxy stands in front of port N.
    const size_t at = direct_.find("port=") + 5;
    const size_t end = direct_.find(' ', at);
    proxy_ = std::make_unique<CommitCutProxy>(std::stoi(direct_.substr(at, end - at)));
    ASSERT_NE(proxy_->port(), 0);
    const std::string proxied =
        direct_.substr(0, at) + std::to_string(proxy_->port()) + direct_.substr(end);
    auto opened = PgJournal::open({proxied, {}});
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    journal_ = std::move(*opened);
    ASSERT_TRUE(append(request_of("device/d1", 0)).is_ok());
  }

  Result<AppendResult> append(AppendRequest request) {
    std::promise<Result<AppendResult>> answer;
    journal_->append(std::move(request), [&](Result<AppendResult> r) { answer.set_value(r); });
    return answer.get_future().get();
  }

  // The stream as a journal connected straight to PostgreSQL reads it.
  size_t events_in(const std::string& stream) {
    auto reader = PgJournal::open({direct_, {}});
    EXPECT_TRUE(reader.is_ok()) << reader.status().to_string();
    if (!reader.is_ok()) return 0;
    auto events = (*reader)->read_stream(stream, 0);
    EXPECT_TRUE(events.is_ok()) << events.status().to_string();
    return events.is_ok() ? events->size() : 0;
  }

  std::string direct_;
  std::unique_ptr<CommitCutProxy> proxy_;
  std::unique_ptr<PgJournal> journal_;
};

TEST_F(UnknownCommitTest, ABatchThatCommittedIsAcknowledgedThoughTheAnswerToCommitWasLost) {
  proxy_->cut_next_commit(CommitCutProxy::Cut::kAfterServer);
  auto written = append(request_of("device/d1", 1, 2, "lock-1"));
  EXPECT_TRUE(proxy_->cut_done());
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  EXPECT_EQ(written->first_version, 2u);
  EXPECT_EQ(written->last_version, 3u);
  EXPECT_EQ(events_in("device/d1"), 3u);

  // The writer connects again, and the command id was recorded with the batch.
  auto again = append(request_of("device/d1", 1, 2, "lock-1"));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_TRUE(again->duplicate);
  EXPECT_TRUE(append(request_of("device/d1", 3)).is_ok());
  EXPECT_EQ(events_in("device/d1"), 4u);
}

TEST_F(UnknownCommitTest, ABatchThatDidNotCommitFailsAsUnavailableAndCanBeRetried) {
  proxy_->cut_next_commit(CommitCutProxy::Cut::kBeforeServer);
  auto written = append(request_of("device/d1", 1, 2, "lock-1"));
  EXPECT_TRUE(proxy_->cut_done());
  ASSERT_FALSE(written.is_ok());
  EXPECT_EQ(written.status().code(), Code::kUnavailable);
  EXPECT_NE(written.status().message().find("not committed"), std::string::npos)
      << written.status().to_string();
  EXPECT_EQ(events_in("device/d1"), 1u);

  auto retried = append(request_of("device/d1", 1, 2, "lock-1"));
  ASSERT_TRUE(retried.is_ok()) << retried.status().to_string();
  EXPECT_FALSE(retried->duplicate);
  EXPECT_EQ(events_in("device/d1"), 3u);
}

}  // namespace
}  // namespace gh
