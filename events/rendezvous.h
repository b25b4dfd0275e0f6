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

#include "events/shard.h"

namespace gh::shards {

// The weight of `node` for `shard`: the node with the highest weight owns the shard.
uint64_t rendezvous_weight(std::string_view node, uint32_t shard);

// Shards move between nodes in groups: shard s belongs to group s % groups, and every shard
// of a group has the group's desired owner (the rendezvous winner for the group number), so
// one node holds a whole group or none of it. `groups` is a power of two dividing
// kShardCount; kShardCount (the default) makes every shard a group of its own. In cluster
// mode a group is what one MQTT session carries (docs/cluster.md, "Session groups"), and
// s % groups == fnv1a32(id) % groups is nats-server's partition(groups, id).
bool valid_group_count(uint32_t groups);
uint32_t group_of_shard(uint32_t shard, uint32_t groups);

// The node of `nodes` that should own `shard`; empty when `nodes` is empty.
std::string desired_owner(uint32_t shard, const std::vector<std::string>& nodes,
                          uint32_t groups = kShardCount);

// The shards (ascending, among kShardCount) whose desired owner among `nodes` is `node`.
std::vector<uint32_t> desired_shards(std::string_view node, const std::vector<std::string>& nodes,
                                     uint32_t groups = kShardCount);

}  // namespace gh::shards
