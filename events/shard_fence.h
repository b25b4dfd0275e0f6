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
#include <string_view>

namespace gh {

// gatehouse's own streams ("system/tokens", "system/door-credentials", "system/actions",
// "system/action-runs.NAME", ...) are written by any node and never under a lease: their
// writers hold no state across an append, append at the expected version they just read,
// and on a conflict read again and decide again (docs/cluster.md, "The system streams").
// The expected version and PRIMARY KEY (stream, version) protect them; the fence does not.
inline constexpr std::string_view kUnfencedPrefix = "system/";

// Whether a fenced journal writes `stream` only under its shard's lease.
inline bool fenced_stream(std::string_view stream) { return !stream.starts_with(kUnfencedPrefix); }

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
