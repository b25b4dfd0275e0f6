#include "actors/system/token_model.h"

#include <gtest/gtest.h>

namespace gh::tokens {
namespace {

events::Envelope stored(events::Envelope e, uint64_t version) {
  e.set_stream(std::string(kStream));
  e.set_version(version);
  e.set_time_unix_ms(1000 * int64_t(version));
  return e;
}

TEST(TokenModelTest, CreateRevokeAndFindByHash) {
  State state;
  const std::string hash_a(32, 'a'), hash_b(32, 'b');
  auto created = create(state, "ci-bot", hash_a);
  ASSERT_TRUE(created.is_ok());
  apply(state, stored(*created, 1));
  apply(state, stored(*create(state, "door-panel", hash_b), 2));
  EXPECT_EQ(state.version, 2u);
  EXPECT_EQ(state.active.size(), 2u);
  EXPECT_EQ(state.active.at("ci-bot").created_at_ms, 1000);
  EXPECT_EQ(find_by_hash(state, hash_b), "door-panel");
  EXPECT_EQ(find_by_hash(state, std::string(32, 'c')), std::nullopt);
  EXPECT_EQ(find_by_hash(state, "short"), std::nullopt);

  EXPECT_EQ(create(state, "ci-bot", hash_b).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(create(state, "bad name", hash_b).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(create(state, "x", "not32").status().code(), Code::kInvalidArgument);

  apply(state, stored(*revoke(state, "ci-bot"), 3));
  EXPECT_EQ(find_by_hash(state, hash_a), std::nullopt);
  EXPECT_EQ(revoke(state, "ci-bot").status().code(), Code::kNotFound);
  // A revoked name can be created again.
  EXPECT_TRUE(create(state, "ci-bot", hash_b).is_ok());
}

TEST(TokenModelTest, ReplayIgnoresOtherEvents) {
  events::Envelope other;
  other.mutable_device_came_online();
  State state = replay({stored(other, 1)});
  EXPECT_TRUE(state.active.empty());
  EXPECT_EQ(state.version, 0u);
}

}  // namespace
}  // namespace gh::tokens
