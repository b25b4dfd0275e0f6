// LoginThrottle on an injected clock: buckets per source, shared and per account; back-off
// per (account, source); nothing taken by a refusal; bounded tables.
#include "actors/chat/login_throttle.h"

#include <gtest/gtest.h>

#include <string>

namespace gh::chat {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

ThrottleOptions small() {
  ThrottleOptions o;
  o.source_per_minute = 6;  // one every 10 s
  o.source_burst = 3;
  o.shared_per_minute = 60;
  o.shared_burst = 5;
  o.account_per_minute = 60;
  o.account_burst = 8;
  o.backoff_after = 2;
  o.backoff_first_ms = 1000;
  o.backoff_max_ms = 8000;
  return o;
}

TEST(LoginThrottle, OneSourceIsRefusedAfterItsBurstOthersAreNot) {
  LoginThrottle t(small());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.admit({"alice", "http:a", false}, kNow), 0) << i;
  const int64_t wait = t.admit({"alice", "http:a", false}, kNow);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 10'000);
  EXPECT_EQ(t.admit({"alice", "http:b", false}, kNow), 0) << "another source goes ahead";
  EXPECT_EQ(t.admit({"alice", "http:a", false}, kNow + wait), 0) << "after the wait it may";
  EXPECT_EQ(t.refused(), 1u);
}

TEST(LoginThrottle, TheSharedBucketBoundsMadeUpSources) {
  LoginThrottle t(small());
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(t.admit({"u" + std::to_string(i), "mqtt:c" + std::to_string(i), true}, kNow), 0);
  EXPECT_GT(t.admit({"u9", "mqtt:fresh", true}, kNow), 0) << "a fresh client id does not help";
  EXPECT_EQ(t.admit({"u9", "http:fresh", false}, kNow), 0) << "HTTP is outside the shared bucket";
}

TEST(LoginThrottle, TheAccountBucketBoundsDistributedGuessing) {
  LoginThrottle t(small());
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(t.admit({"alice", "http:" + std::to_string(i), false}, kNow), 0) << i;
  EXPECT_GT(t.admit({"alice", "http:new", false}, kNow), 0);
  EXPECT_EQ(t.admit({"bob", "http:new", false}, kNow), 0) << "other accounts are not affected";
}

TEST(LoginThrottle, ARefusalTakesNothing) {
  LoginThrottle t(small());
  for (int i = 0; i < 8; ++i)
    ASSERT_EQ(t.admit({"alice", "http:" + std::to_string(i), false}, kNow), 0);
  // http:z is refused by alice's bucket; its own bucket must still hold its burst.
  for (int i = 0; i < 10; ++i) EXPECT_GT(t.admit({"alice", "http:z", false}, kNow), 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.admit({"bob", "http:z", false}, kNow), 0) << i;
}

TEST(LoginThrottle, BackOffPerAccountAndSourceGrowsAndIsCapped) {
  ThrottleOptions o = small();
  o.source_burst = o.account_burst = 1000;
  LoginThrottle t(o);
  int64_t now = kNow;
  // The second failure in a row starts the back-off: 1, 2, 4, 8, 8 s.
  for (int64_t expected : {0, 1000, 2000, 4000, 8000, 8000}) {
    ASSERT_EQ(t.admit({"alice", "http:evil", false}, now), 0);
    t.failed("alice", "http:evil", now);
    EXPECT_EQ(t.admit({"alice", "http:evil", false}, now), expected) << expected;
    EXPECT_EQ(t.admit({"alice", "http:home", false}, now), 0)
        << "the owner's source is never delayed by another's failures";
    now += expected;
  }
  EXPECT_EQ(t.admit({"bob", "http:evil", false}, now - 1), 0) << "per account";
  t.succeeded("alice", "http:evil");
  EXPECT_EQ(t.admit({"alice", "http:evil", false}, now - 1), 0) << "a success forgets";
}

TEST(LoginThrottle, TablesStayBounded) {
  ThrottleOptions o = ThrottleOptions::unlimited();
  o.max_keys = 100;
  LoginThrottle t(o);
  for (int i = 0; i < 10'000; ++i) {
    const std::string source = "http:" + std::to_string(i);
    ASSERT_EQ(t.admit({"u" + std::to_string(i), source, false}, kNow), 0);
    t.failed("u" + std::to_string(i), source, kNow);
  }
  // Nothing to observe but that this ends quickly and does not grow: the sizes are private,
  // so admit one more of the first ones, which was swept away and starts afresh.
  EXPECT_EQ(t.admit({"u0", "http:0", false}, kNow), 0);
}

}  // namespace
}  // namespace gh::chat
