#include "snapshots/snapshot_policy.h"

#include <gtest/gtest.h>

namespace gh {
namespace {

TEST(SnapshotPolicyTest, DueEveryNEventsSinceTheLastSnapshot) {
  SnapshotPolicy every_ten(10);
  EXPECT_FALSE(every_ten.due(0, 9));
  EXPECT_TRUE(every_ten.due(0, 10));
  EXPECT_FALSE(every_ten.due(10, 19));
  EXPECT_TRUE(every_ten.due(10, 20));
  // A batch that jumps over the multiple still triggers; a missed snapshot is retried.
  EXPECT_TRUE(every_ten.due(10, 23));
  EXPECT_TRUE(every_ten.due(0, 57));
  // A snapshot beyond the stream (lost events) never underflows into "due".
  EXPECT_FALSE(every_ten.due(30, 20));
}

TEST(SnapshotPolicyTest, ZeroMeansNever) {
  SnapshotPolicy never(0);
  EXPECT_FALSE(never.due(0, 1));
  EXPECT_FALSE(never.due(0, 1000000));
  static_assert(SnapshotPolicy(1).due(0, 1), "policy is usable at compile time");
}

}  // namespace
}  // namespace gh
