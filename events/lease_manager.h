// One node's shard leases in cluster mode (docs/cluster.md, "Leases"): it heartbeats in
// cluster_node, computes which shards it should own by rendezvous hashing over the live
// nodes (events/rendezvous.h), acquires those that are free or expired by bumping their
// epoch (the fencing token), renews what it holds every TTL/3, and hands off (hook, then
// release) the shards another live node should own.
//
// Expiry is decided by PostgreSQL's clock alone (expires_at = now() + ttl, compared with
// now()), so node clocks never meet. Locally a lease counts as held only until
//   (steady time just BEFORE the statement that set expires_at was sent) + ttl - margin:
// PostgreSQL's now() for that statement is later than that instant, so the database's
// expiry is later still; `margin` covers the drift between this node's monotonic clock and
// the database's wall clock (and small steps of the latter). held_epoch() says nothing after
// that: the node stops serving the shard before anyone else can take it. Correctness does
// not rest on this: a node that believes wrongly (paused, partitioned) is stopped by the
// journal's check in the append transaction.
//
// Thread-safety: held_epoch(), held() and node() are safe from any thread; tick() and the
// other statements are serialised by the manager (one connection); start() runs tick() on a
// thread of its own every ttl/3 until stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/pg_connection.h"
#include "events/shard_fence.h"

namespace gh {

struct LeaseOptions {
  std::string conninfo;  // libpq connection string of the cluster's database
  std::string node;      // this node's id, unique in the cluster ("gh-a")
  std::string address;   // where other nodes reach it (for forwarding, a later step)
  std::chrono::milliseconds ttl{10000};
  // Stop serving a shard this long before its lease could expire (clock drift allowance).
  std::chrono::milliseconds margin{2000};
  // Shards move in this many groups (events/rendezvous.h): a power of two dividing 1024,
  // the same on every node of the cluster. 1024: each shard on its own.
  uint32_t groups = 1024;
  // A node whose heartbeat is older than this is not live (0: the lease ttl).
  std::chrono::milliseconds node_timeout{0};
  // This node's monotonic clock; tests inject one to stand for a paused process.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // Hand-off, called with a shard before its lease is released to the node that should own
  // it: stop intake for the shard and flush its appends. Runs on the ticking thread.
  std::function<void(uint32_t shard)> before_release;
  // Called on the ticking thread with a shard whose renewal was refused (another node took
  // it, or it ran out while this node was paused or cut off), after this node stopped
  // serving it: the server evicts its actors there, since the other node may have written.
  std::function<void(uint32_t shard)> after_loss;
  // Called on the ticking thread (start()) after every round, whether it succeeded or not:
  // the server refreshes its view of the other shards' owners there.
  std::function<void()> after_round;
};

// The node that holds a shard's lease, and where other nodes reach it (its heartbeat's
// address).
struct ShardOwner {
  std::string node;
  std::string address;
};

// What one tick() changed.
struct LeaseRound {
  std::vector<std::string> live_nodes;  // sorted
  std::vector<uint32_t> acquired, renewed, released, lost;
};

class LeaseManager final : public ShardFence {
 public:
  // Connects and creates the tables if missing (ensure_pg_schema). kInvalidArgument for an
  // empty node id or a margin not below the ttl; kUnavailable when PostgreSQL cannot be reached.
  static Result<std::unique_ptr<LeaseManager>> open(LeaseOptions options);
  ~LeaseManager() override;

  const std::string& node() const override { return options_.node; }
  std::optional<uint64_t> held_epoch(uint32_t shard) const override;
  // Every shard this node holds now (see held_epoch), with its epoch.
  std::map<uint32_t, uint64_t> held() const;

  // One round: heartbeat, renew, then hand off the shards another live node should own and
  // acquire the free or expired ones this node should own.
  Result<LeaseRound> tick();

  // Acquires `shards` that are free or expired; returns those acquired, with their epoch.
  Result<std::map<uint32_t, uint64_t>> acquire(const std::vector<uint32_t>& shards);
  // Extends every lease this node holds; returns the shards renewed. A lease whose row no
  // longer names this node at the epoch held is lost: forgotten and returned in `lost`.
  Result<std::vector<uint32_t>> renew(std::vector<uint32_t>* lost = nullptr);
  // Releases `shard` (owner NULL, expiry now) if this node holds it, without the hand-off hook.
  Status release(uint32_t shard);
  // Records this node as live now.
  Status heartbeat();
  // The nodes whose heartbeat is recent, sorted.
  Result<std::vector<std::string>> live_nodes();
  // The owner of every shard whose lease is held and unexpired by the database's clock, with
  // the address of its latest heartbeat; shards nobody holds are absent.
  Result<std::map<uint32_t, ShardOwner>> owners();
  // The address written by the next heartbeat (a server learns its HTTP port after open()).
  void set_address(std::string address);
  // Leaves the cluster: stops ticking, hands off and releases every shard held, and deletes
  // this node's heartbeat so the others take over at once.
  Status leave();

  void start();
  void stop();

 private:
  struct Held {
    uint64_t epoch = 0;
    std::chrono::steady_clock::time_point serve_until;
  };
  LeaseManager(LeaseOptions options, std::unique_ptr<PgConnection> connection);
  std::chrono::steady_clock::time_point now() const { return options_.clock(); }
  Status release_locked(uint32_t shard);

  LeaseOptions options_;
  std::mutex db_mutex_;  // the connection, and the statements that change `held_`
  std::unique_ptr<PgConnection> connection_;

  mutable std::mutex held_mutex_;
  std::map<uint32_t, Held> held_;

  std::mutex run_mutex_;
  std::condition_variable run_wake_;
  bool running_ = false;
  std::thread ticker_;
};

}  // namespace gh
