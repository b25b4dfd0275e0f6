#include "events/rendezvous.h"

#include "events/shard.h"

namespace gh::shards {
namespace {

// splitmix64's finaliser: spreads nearby inputs (consecutive shards) over the whole range.
uint64_t mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t rendezvous_weight(std::string_view node, uint32_t shard) {
  return mix(fnv1a64(node) + uint64_t(shard) * 0x9e3779b97f4a7c15ull);
}

bool valid_group_count(uint32_t groups) {
  return groups >= 1 && groups <= kShardCount && (groups & (groups - 1)) == 0;
}

uint32_t group_of_shard(uint32_t shard, uint32_t groups) { return shard % groups; }

std::string desired_owner(uint32_t shard, const std::vector<std::string>& nodes, uint32_t groups) {
  shard = group_of_shard(shard, groups);  // the group's number stands for all its shards
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (const auto& node : nodes) {
    const uint64_t weight = rendezvous_weight(node, shard);
    if (best == nullptr || weight > best_weight || (weight == best_weight && node < *best)) {
      best = &node;
      best_weight = weight;
    }
  }
  return best ? *best : std::string();
}

std::vector<uint32_t> desired_shards(std::string_view node, const std::vector<std::string>& nodes,
                                     uint32_t groups) {
  std::vector<uint32_t> out;
  for (uint32_t shard = 0; shard < kShardCount; ++shard)
    if (desired_owner(shard, nodes, groups) == node) out.push_back(shard);
  return out;
}

}  // namespace gh::shards
