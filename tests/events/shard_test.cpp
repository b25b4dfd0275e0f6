// The shard of an entity and the desired owner of a shard: pure functions, no database.
// The vectors below pin the shard function for good: data and leases are laid out by it.
#include "events/shard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "events/rendezvous.h"

namespace gh::shards {
namespace {

TEST(ShardTest, Fnv1a32MatchesThePublishedVectors) {
  EXPECT_EQ(fnv1a32(""), 0x811c9dc5u);
  EXPECT_EQ(fnv1a32("a"), 0xe40c292cu);
  EXPECT_EQ(fnv1a32("foobar"), 0xbf9cf968u);
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(ShardTest, TheShardOfAnEntityNeverChanges) {
  EXPECT_EQ(shard_of_entity("d1"), 998u);  // 0x881d13e6 % 1024
  EXPECT_EQ(shard_of_entity("front-door"), 295u);
  EXPECT_EQ(shard_of_entity("alice"), 999u);
  EXPECT_EQ(shard_of_entity("lobby"), 723u);
  EXPECT_EQ(shard_of_entity(""), 453u);
}

TEST(ShardTest, AStreamBelongsToTheShardOfItsId) {
  EXPECT_EQ(shard_of_stream("device/d1"), 998u);
  EXPECT_EQ(shard_of_stream("user/d1"), 998u);
  EXPECT_EQ(shard_of_stream("room/lobby"), 723u);
  EXPECT_EQ(shard_of_stream("a"), 300u);  // no kind: the whole name
  // Only the first '/' separates the kind.
  EXPECT_EQ(shard_of_stream("system/x/y"), shard_of_entity("x/y"));
  for (const char* id : {"d1", "front-door", "x", "a-very-long-door-name-0123456789"})
    EXPECT_LT(shard_of_entity(id), kShardCount);
}

std::vector<std::string> nodes_of(int count) {
  std::vector<std::string> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back("gh-" + std::string(1, char('a' + i)));
  return nodes;
}

std::map<std::string, int> counts(const std::vector<std::string>& nodes) {
  std::map<std::string, int> out;
  for (uint32_t shard = 0; shard < kShardCount; ++shard) ++out[desired_owner(shard, nodes)];
  return out;
}

TEST(RendezvousTest, ThreeNodesShareTheShardsWithinFifteenPercent) {
  const auto nodes = nodes_of(3);
  const auto owned = counts(nodes);
  ASSERT_EQ(owned.size(), 3u);
  const double fair = double(kShardCount) / 3;
  for (const auto& [node, count] : owned) {
    EXPECT_GE(count, fair * 0.85) << node;
    EXPECT_LE(count, fair * 1.15) << node;
  }
  // Also with other names: the balance is not a property of "gh-a".
  const auto other = counts({"10.0.0.7:8080", "10.0.0.8:8080", "10.0.0.9:8080"});
  for (const auto& [node, count] : other) {
    EXPECT_GE(count, fair * 0.85) << node;
    EXPECT_LE(count, fair * 1.15) << node;
  }
}

TEST(RendezvousTest, TheAnswerDependsOnTheSetOfNodesNotTheirOrder) {
  auto nodes = nodes_of(4);
  auto reversed = nodes;
  std::reverse(reversed.begin(), reversed.end());
  for (uint32_t shard = 0; shard < kShardCount; ++shard)
    ASSERT_EQ(desired_owner(shard, nodes), desired_owner(shard, reversed)) << shard;
  EXPECT_EQ(desired_owner(7, {}), "");
  EXPECT_EQ(desired_owner(7, {"only"}), "only");
}

TEST(RendezvousTest, AJoiningNodeTakesOnlyShardsItNowOwnsAndAboutItsShare) {
  const auto three = nodes_of(3);
  const auto four = nodes_of(4);  // gh-d joins
  int moved = 0;
  for (uint32_t shard = 0; shard < kShardCount; ++shard) {
    const auto before = desired_owner(shard, three);
    const auto after = desired_owner(shard, four);
    if (before == after) continue;
    ++moved;
    EXPECT_EQ(after, "gh-d") << "shard " << shard << " moved between two old nodes";
  }
  EXPECT_GE(moved, int(kShardCount / 4 * 0.85));
  EXPECT_LE(moved, int(kShardCount / 4 * 1.15));
}

TEST(RendezvousTest, ALeavingNodesShardsAloneMove) {
  const auto three = nodes_of(3);
  const std::vector<std::string> two = {"gh-a", "gh-c"};  // gh-b leaves
  for (uint32_t shard = 0; shard < kShardCount; ++shard) {
    const auto before = desired_owner(shard, three);
    const auto after = desired_owner(shard, two);
    if (before != "gh-b") {
      EXPECT_EQ(after, before) << "shard " << shard;
    }
  }
  const auto mine = desired_shards("gh-b", three);
  EXPECT_EQ(int(mine.size()), counts(three).at("gh-b"));
  EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
}

TEST(RendezvousTest, GroupsMoveWholeAndGroupIsNatsPartitionOfTheId) {
  // partition(32, id) in nats-server is fnv1a32(id) % 32: the group of the id's shard.
  EXPECT_EQ(group_of_shard(shard_of_entity("door1"), 32), fnv1a32("door1") % 32);
  EXPECT_EQ(group_of_shard(712, 32), 8u);  // door1's shard (above), 712 = 22 * 32 + 8
  for (uint32_t groups : {1u, 2u, 32u, 1024u}) EXPECT_TRUE(valid_group_count(groups)) << groups;
  for (uint32_t groups : {0u, 3u, 48u, 2048u}) EXPECT_FALSE(valid_group_count(groups)) << groups;

  const auto three = nodes_of(3);
  std::map<uint32_t, std::string> owner_of_group;
  std::map<std::string, int> groups_of_node;
  for (uint32_t shard = 0; shard < kShardCount; ++shard) {
    const auto owner = desired_owner(shard, three, 32);
    auto [it, first] = owner_of_group.emplace(group_of_shard(shard, 32), owner);
    ASSERT_EQ(it->second, owner) << "shard " << shard << " left its group";
    if (first) ++groups_of_node[owner];
  }
  EXPECT_EQ(owner_of_group.size(), 32u);
  EXPECT_EQ(groups_of_node.size(), 3u) << "every node owns some of the 32 groups";
  // 1024 groups: every shard on its own, as without groups.
  for (uint32_t shard = 0; shard < kShardCount; ++shard)
    ASSERT_EQ(desired_owner(shard, three, kShardCount), desired_owner(shard, three));
  const auto mine = desired_shards("gh-b", three, 32);
  EXPECT_EQ(int(mine.size()), groups_of_node.at("gh-b") * 32);
}

}  // namespace
}  // namespace gh::shards
