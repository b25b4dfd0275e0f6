// The ledger every campaign checks against (write_ledger.h): it counts each kind of broken
// promise, and allows what a crash may leave (a write in flight there or not).
#include "tests/campaigns/write_ledger.h"

#include <gtest/gtest.h>

namespace gh::testing {
namespace {

TEST(WriteLedgerTest, EverythingAcknowledgedAndNothingElseIsClean) {
  WriteLedger ledger;
  ledger.sent("s", "a", "1");
  ledger.acked("s", "a", "1");
  ledger.acked("s", "b", "2");
  const auto count = ledger.check("s", {{"b", "2"}, {"a", "1"}});
  EXPECT_TRUE(count.clean());
  EXPECT_EQ(count.adopted, 0u);
  EXPECT_EQ(ledger.acked_count(), 2u);
}

TEST(WriteLedgerTest, CountsLostUnexpectedDuplicatedAndChangedWrites) {
  WriteLedger ledger;
  ledger.acked("s", "gone", "1");
  ledger.acked("s", "altered", "2");
  ledger.acked("s", "twice", "3");
  ledger.sent("s", "partial", "4,5");
  std::vector<std::string> problems;
  const auto count = ledger.check(
      "s", {{"altered", "9"}, {"twice", "3"}, {"twice", "3"}, {"partial", "4"}, {"stranger", "7"}},
      &problems);
  EXPECT_EQ(count.lost, 2u);  // missing, and present with another value
  EXPECT_EQ(count.duplicates, 1u);
  EXPECT_EQ(count.unexpected, 1u);
  EXPECT_EQ(count.changed, 1u);
  EXPECT_EQ(problems.size(), 5u);
  // A lost write is counted once over the campaign, however often it is checked.
  EXPECT_EQ(ledger.check("s", {{"twice", "3"}, {"partial", "4"}}).lost, 0u);
}

TEST(WriteLedgerTest, AWriteInFlightMayBeThereOrNotAndOnceSeenMustStay) {
  WriteLedger ledger;
  ledger.sent("s", "maybe", "1");
  ledger.sent("s", "never", "2");
  auto first = ledger.check("s", {{"maybe", "1"}});
  EXPECT_TRUE(first.clean());
  EXPECT_EQ(first.adopted, 1u);
  EXPECT_EQ(ledger.count("s").adopted, 1u);
  EXPECT_EQ(ledger.count("s").unknown, 1u);
  EXPECT_EQ(ledger.unknown_writes("s").count("never"), 1u);
  EXPECT_EQ(ledger.check("s", {}).lost, 1u) << "an adopted write is as durable as an acked one";
  ledger.forget_unknown("s");
  EXPECT_TRUE(ledger.unknown_writes("s").empty());
  EXPECT_EQ(ledger.check("s", {{"never", "2"}}).unexpected, 1u) << "forgotten: not sent any more";
}

TEST(WriteLedgerTest, LookingUpOnlySomeWritesJudgesOnlyThose) {
  WriteLedger ledger;
  ledger.acked("s", "a", "1");
  ledger.acked("s", "b", "2");
  ledger.acked("s", "c", "3");
  const auto count = ledger.check_only("s", {"a", "b"}, {{"a", "1"}, {"z", "9"}});
  EXPECT_EQ(count.lost, 1u);        // b; c was not asked
  EXPECT_EQ(count.unexpected, 0u);  // cannot be seen by lookups
}

}  // namespace
}  // namespace gh::testing
