// Which live node should own each shard: rendezvous (highest random weight) hashing. Every
// node computes the same answer from the same list of live nodes, with no coordination; when
// a node joins it takes only the shards it now wins (about 1/n of them) and when one leaves
// only its shards move, each to the node that scores next highest for it.
//
// The weight of (node, shard) is splitmix64's finaliser over FNV-1a 64 of the node id plus
// the shard times 2^64/phi; ties (never seen) go to the smaller node id. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gh::shards {

// The weight of `node` for `shard`: the node with the highest weight owns the shard.
uint64_t rendezvous_weight(std::string_view node, uint32_t shard);

// The node of `nodes` that should own `shard`; empty when `nodes` is empty.
std::string desired_owner(uint32_t shard, const std::vector<std::string>& nodes);

// The shards (ascending, among kShardCount) whose desired owner among `nodes` is `node`.
std::vector<uint32_t> desired_shards(std::string_view node, const std::vector<std::string>& nodes);

}  // namespace gh::shards
