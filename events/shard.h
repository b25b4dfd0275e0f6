// Virtual shards of cluster mode (docs/cluster.md): every entity belongs to one of 1024
// shards, and one node at a time owns a shard (events/lease_manager.h).
//
// The shard of an entity is FNV-1a (32 bits) of its id, modulo 1024: the hash nats-server's
// partition(1024, …) subject mapping computes over one topic token, so the broker and
// gatehouse agree on a door's shard. This function is FIXED: data and leases are laid out
// by it, so it never changes between versions (tests/events/shard_test.cpp holds vectors).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace gh::shards {

inline constexpr uint32_t kShardCount = 1024;

// FNV-1a, 32 bits, over the bytes of `data` (offset basis 2166136261, prime 16777619).
uint32_t fnv1a32(std::string_view data);
// FNV-1a, 64 bits (offset basis 14695981039346656037, prime 1099511628211).
uint64_t fnv1a64(std::string_view data);

// The shard of an entity id ("d1", "alice", "lobby"): fnv1a32(id) % kShardCount.
uint32_t shard_of_entity(std::string_view entity_id);

// The shard of a stream "<kind>/<id>": that of its id, the part after the first '/' (the
// whole name when there is none). "device/d1" and "user/d1" share a shard.
uint32_t shard_of_stream(std::string_view stream);

}  // namespace gh::shards
