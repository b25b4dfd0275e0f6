// Cluster mode's polite layer over the fence (docs/cluster.md, "Routing"): which streams this
// node serves now, and who serves the others. A node serves a stream while it holds its
// shard's lease (LeaseManager::held_epoch); a call for any other stream is answered
// kLeaseLost naming the owner's node and HTTP address, before it reaches an actor or the
// journal. The journal's fence stays the guarantee; this spares a refused write.
//
// The owners of other shards are read from PostgreSQL after every lease round (refresh(), on
// the lease manager's thread), never on the caller's: serves() does no I/O and may be called
// from actor threads.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "events/lease_manager.h"
#include "events/status.h"

namespace gh::server {

class ShardRouting {
 public:
  // `leases` outlives this object.
  explicit ShardRouting(LeaseManager& leases) : leases_(leases) {}

  // Ok when this node serves `stream` ("device/door1") now; kLeaseLost otherwise, with the
  // owner's node and address when one is known ("device/door1 is in shard 712, served by
  // node gh-b at http://10.0.0.2:8080"), or saying that none serves it right now.
  Status serves(const std::string& stream) const;
  // The owner of `stream`'s shard when it is another node with an address; nullopt when this
  // node serves it or no owner is known.
  std::optional<ShardOwner> owner_elsewhere(const std::string& stream) const;
  // Reads the owners of every shard again (after a lease round); keeps the last view when
  // PostgreSQL cannot be reached.
  void refresh();

 private:
  LeaseManager& leases_;
  mutable std::mutex mutex_;
  std::map<uint32_t, ShardOwner> owners_;
};

}  // namespace gh::server
