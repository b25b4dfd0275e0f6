#include "events/lease_manager.h"

#include <algorithm>
#include <set>

#include "events/pg_schema.h"
#include "events/rendezvous.h"

namespace gh {
namespace {

// "{1,2,3}": an integer array parameter in PostgreSQL's text form.
template <class T>
std::string array_literal(const std::vector<T>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "}";
}

}  // namespace

Result<std::unique_ptr<LeaseManager>> LeaseManager::open(LeaseOptions options) {
  if (options.node.empty()) return invalid_argument("a cluster node needs an id");
  if (options.ttl.count() <= 0 || options.margin >= options.ttl)
    return invalid_argument("the lease margin (" + std::to_string(options.margin.count()) +
                            " ms) must be below the lease ttl (" +
                            std::to_string(options.ttl.count()) + " ms)");
  if (!shards::valid_group_count(options.groups))
    return invalid_argument("shard groups (" + std::to_string(options.groups) +
                            ") must be a power of two from 1 to 1024");
  if (options.node_timeout.count() <= 0) options.node_timeout = options.ttl;
  if (!options.clock) options.clock = [] { return std::chrono::steady_clock::now(); };
  auto connection = PgConnection::open(options.conninfo);
  if (!connection) return connection.status();
  if (auto s = ensure_pg_schema(**connection); !s.is_ok()) return s;
  return std::unique_ptr<LeaseManager>(
      new LeaseManager(std::move(options), std::move(*connection)));
}

LeaseManager::LeaseManager(LeaseOptions options, std::unique_ptr<PgConnection> connection)
    : options_(std::move(options)), connection_(std::move(connection)) {}

LeaseManager::~LeaseManager() { stop(); }

std::optional<uint64_t> LeaseManager::held_epoch(uint32_t shard) const {
  const auto at = now();
  std::lock_guard lock(held_mutex_);
  auto it = held_.find(shard);
  if (it == held_.end() || at >= it->second.serve_until) return std::nullopt;
  return it->second.epoch;
}

std::map<uint32_t, uint64_t> LeaseManager::held() const {
  const auto at = now();
  std::lock_guard lock(held_mutex_);
  std::map<uint32_t, uint64_t> out;
  for (const auto& [shard, lease] : held_)
    if (at < lease.serve_until) out.emplace(shard, lease.epoch);
  return out;
}

Status LeaseManager::heartbeat() {
  std::lock_guard db(db_mutex_);
  if (!connection_->ensure_connected()) return unavailable("PostgreSQL: cannot reconnect");
  auto done = connection_->exec(
      "INSERT INTO cluster_node (node, address, seen_at) VALUES ($1, $2, now()) "
      "ON CONFLICT (node) DO UPDATE SET address = EXCLUDED.address, seen_at = now()",
      PgParams().text(options_.node).text(options_.address), "heartbeat");
  return done.status();
}

Result<std::map<uint32_t, ShardOwner>> LeaseManager::owners() {
  std::lock_guard db(db_mutex_);
  if (!connection_->ensure_connected()) return unavailable("PostgreSQL: cannot reconnect");
  auto rows = connection_->query(
      "SELECT l.shard, l.owner, coalesce(n.address, '') FROM shard_lease l "
      "LEFT JOIN cluster_node n ON n.node = l.owner "
      "WHERE l.owner IS NOT NULL AND l.expires_at > now()",
      "reading the shards' owners");
  if (!rows) return rows.status();
  std::map<uint32_t, ShardOwner> out;
  for (int r = 0; r < rows->size(); ++r)
    out[static_cast<uint32_t>(rows->number(r, 0))] =
        ShardOwner{std::string(rows->text(r, 1)), std::string(rows->text(r, 2))};
  return out;
}

void LeaseManager::set_address(std::string address) {
  std::lock_guard db(db_mutex_);
  options_.address = std::move(address);
}

Result<std::vector<std::string>> LeaseManager::live_nodes() {
  std::lock_guard db(db_mutex_);
  auto rows = connection_->exec(
      "SELECT node FROM cluster_node WHERE seen_at > now() - $1::bigint * interval '1 millisecond' "
      "ORDER BY node",
      PgParams().number(uint64_t(options_.node_timeout.count())), "reading live nodes");
  if (!rows) return rows.status();
  std::vector<std::string> nodes;
  for (int r = 0; r < rows->size(); ++r) nodes.emplace_back(rows->text(r, 0));
  return nodes;
}

Result<std::map<uint32_t, uint64_t>> LeaseManager::acquire(const std::vector<uint32_t>& shards) {
  std::map<uint32_t, uint64_t> acquired;
  if (shards.empty()) return acquired;
  std::lock_guard db(db_mutex_);
  if (!connection_->ensure_connected()) return unavailable("PostgreSQL: cannot reconnect");
  const auto sent = now();
  // Rows locked by someone (another acquirer, or an append's FOR SHARE check of the current
  // owner) are skipped, not waited for: the next tick tries again. Locking in shard order
  // keeps two acquirers from deadlocking.
  auto rows = connection_->exec(
      "WITH free AS (SELECT shard FROM shard_lease WHERE shard = ANY($2::int[]) "
      "AND (owner IS NULL OR expires_at < now()) ORDER BY shard FOR UPDATE SKIP LOCKED) "
      "UPDATE shard_lease s SET epoch = s.epoch + 1, owner = $1, "
      "expires_at = now() + $3::bigint * interval '1 millisecond' FROM free "
      "WHERE s.shard = free.shard RETURNING s.shard, s.epoch",
      PgParams()
          .text(options_.node)
          .text(array_literal(shards))
          .number(uint64_t(options_.ttl.count())),
      "acquiring shard leases");
  if (!rows) return rows.status();
  std::lock_guard lock(held_mutex_);
  for (int r = 0; r < rows->size(); ++r) {
    const auto shard = uint32_t(rows->number(r, 0));
    const uint64_t epoch = rows->number(r, 1);
    held_[shard] = {epoch, sent + options_.ttl - options_.margin};
    acquired.emplace(shard, epoch);
  }
  return acquired;
}

Result<std::vector<uint32_t>> LeaseManager::renew(std::vector<uint32_t>* lost) {
  std::lock_guard db(db_mutex_);
  std::vector<uint32_t> shards;
  std::vector<uint64_t> epochs;
  {
    std::lock_guard lock(held_mutex_);
    for (const auto& [shard, lease] : held_) {
      shards.push_back(shard);
      epochs.push_back(lease.epoch);
    }
  }
  std::vector<uint32_t> renewed;
  if (shards.empty()) return renewed;
  if (!connection_->ensure_connected()) return unavailable("PostgreSQL: cannot reconnect");
  const auto sent = now();
  // Only rows still naming this node at the epoch it acquired: a lease someone else took
  // (even if it came back to this node since, under a newer epoch) is not extended.
  auto rows = connection_->exec(
      "WITH mine AS (SELECT l.shard FROM shard_lease l "
      "JOIN unnest($2::int[], $3::bigint[]) AS h(shard, epoch) "
      "ON l.shard = h.shard AND l.epoch = h.epoch WHERE l.owner = $1 ORDER BY l.shard FOR UPDATE) "
      "UPDATE shard_lease s SET expires_at = now() + $4::bigint * interval '1 millisecond' "
      "FROM mine WHERE s.shard = mine.shard RETURNING s.shard",
      PgParams()
          .text(options_.node)
          .text(array_literal(shards))
          .text(array_literal(epochs))
          .number(uint64_t(options_.ttl.count())),
      "renewing shard leases");
  if (!rows) return rows.status();
  std::set<uint32_t> kept;
  for (int r = 0; r < rows->size(); ++r) kept.insert(uint32_t(rows->number(r, 0)));
  std::lock_guard lock(held_mutex_);
  for (const auto shard : shards) {
    if (kept.count(shard)) {
      held_[shard].serve_until = sent + options_.ttl - options_.margin;
      renewed.push_back(shard);
    } else {
      held_.erase(shard);
      if (lost) lost->push_back(shard);
    }
  }
  return renewed;
}

Status LeaseManager::release(uint32_t shard) {
  std::lock_guard db(db_mutex_);
  return release_locked(shard);
}

Status LeaseManager::release_locked(uint32_t shard) {
  uint64_t epoch = 0;
  {
    // Forgotten first: from here on this node does not serve the shard, whatever happens.
    std::lock_guard lock(held_mutex_);
    auto it = held_.find(shard);
    if (it == held_.end()) return Status::ok();
    epoch = it->second.epoch;
    held_.erase(it);
  }
  if (!connection_->ensure_connected()) return unavailable("PostgreSQL: cannot reconnect");
  // The epoch stays: the next owner's acquisition raises it.
  auto done = connection_->exec(
      "UPDATE shard_lease SET owner = NULL, expires_at = now() "
      "WHERE shard = $1 AND owner = $2 AND epoch = $3",
      PgParams().number(shard).text(options_.node).number(epoch), "releasing a shard lease");
  return done.status();
}

Result<LeaseRound> LeaseManager::tick() {
  LeaseRound round;
  if (auto s = heartbeat(); !s.is_ok()) return s;
  auto renewed = renew(&round.lost);
  if (!renewed) return renewed.status();
  round.renewed = std::move(*renewed);
  if (options_.after_loss)
    for (const auto shard : round.lost) options_.after_loss(shard);
  auto live = live_nodes();
  if (!live) return live.status();
  round.live_nodes = std::move(*live);
  if (std::find(round.live_nodes.begin(), round.live_nodes.end(), options_.node) ==
      round.live_nodes.end())
    round.live_nodes.push_back(options_.node);  // its heartbeat just went in
  std::sort(round.live_nodes.begin(), round.live_nodes.end());

  const auto desired = shards::desired_shards(options_.node, round.live_nodes, options_.groups);
  const std::set<uint32_t> wanted(desired.begin(), desired.end());
  std::vector<uint32_t> to_acquire;
  {
    const auto holding = held();
    for (const auto& [shard, epoch] : holding)
      if (!wanted.count(shard)) round.released.push_back(shard);
    for (const auto shard : desired)
      if (!holding.count(shard)) to_acquire.push_back(shard);
  }
  // Hand-off: the node that should own these takes them as soon as they are released,
  // rather than after they expire.
  for (const auto shard : round.released) {
    if (options_.before_release) options_.before_release(shard);
    if (auto s = release(shard); !s.is_ok()) return s;
  }
  auto acquired = acquire(to_acquire);
  if (!acquired) return acquired.status();
  for (const auto& [shard, epoch] : *acquired) round.acquired.push_back(shard);
  return round;
}

Status LeaseManager::leave() {
  stop();
  for (const auto& [shard, epoch] : held()) {
    if (options_.before_release) options_.before_release(shard);
    if (auto s = release(shard); !s.is_ok()) return s;
  }
  std::lock_guard db(db_mutex_);
  auto done = connection_->exec("DELETE FROM cluster_node WHERE node = $1",
                                PgParams().text(options_.node), "leaving the cluster");
  return done.status();
}

void LeaseManager::start() {
  std::lock_guard lock(run_mutex_);
  if (running_) return;
  running_ = true;
  ticker_ = std::thread([this] {
    std::unique_lock lock(run_mutex_);
    while (running_) {
      lock.unlock();
      (void)tick();  // a failed round changes nothing held; held leases run out on their own
      if (options_.after_round) options_.after_round();
      lock.lock();
      run_wake_.wait_for(lock, options_.ttl / 3, [this] { return !running_; });
    }
  });
}

void LeaseManager::stop() {
  {
    std::lock_guard lock(run_mutex_);
    running_ = false;
  }
  run_wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace gh
