// What a fenced journal (events/pg_journal.h) asks before each append in cluster mode: the
// node it writes as, and the epoch of the lease this node believes it holds on a shard. The
// journal then checks, inside the append's own transaction, that the database agrees
// (docs/cluster.md, "Fencing"): a belief that went stale cannot write.
// Thread-safety: implementations are called from the journal's writer thread while other
// threads renew or release leases; they synchronise themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gh {

class ShardFence {
 public:
  virtual ~ShardFence() = default;
  // This node's id, as written in shard_lease.owner.
  virtual const std::string& node() const = 0;
  // The epoch of this node's lease on `shard` if it may still serve the shard now (held, and
  // not within the safety margin of its expiry); nullopt otherwise.
  virtual std::optional<uint64_t> held_epoch(uint32_t shard) const = 0;
};

}  // namespace gh
