#include "server/shard_routing.h"

#include "events/shard.h"

namespace gh::server {

Status ShardRouting::serves(const std::string& stream) const {
  const uint32_t shard = shards::shard_of_stream(stream);
  if (leases_.held_epoch(shard)) return Status::ok();
  const std::string where = stream + " is in shard " + std::to_string(shard);
  if (auto owner = owner_elsewhere(stream))
    return lease_lost(where + ", served by node " + owner->node + " at " + owner->address +
                      ", not by this node (" + leases_.node() + "): send it there");
  return lease_lost(where +
                    ", which no node serves right now (its lease is changing hands): "
                    "retry in a few seconds");
}

std::optional<ShardOwner> ShardRouting::owner_elsewhere(const std::string& stream) const {
  const uint32_t shard = shards::shard_of_stream(stream);
  if (leases_.held_epoch(shard)) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = owners_.find(shard);
  if (it == owners_.end() || it->second.node == leases_.node() || it->second.address.empty())
    return std::nullopt;
  return it->second;
}

void ShardRouting::refresh() {
  auto owners = leases_.owners();
  if (!owners) return;
  std::lock_guard lock(mutex_);
  owners_ = std::move(*owners);
}

}  // namespace gh::server
