// The Journal on PostgreSQL 15, for cluster mode (docs/cluster.md); the embedded default
// stays RocksdbJournal.
//
// Same contract and group commit as RocksdbJournal: one writer thread takes every queued
// append, checks expected versions and command ids, and writes all that pass in ONE
// transaction with multi-row INSERTs; callbacks run after COMMIT returns (PostgreSQL's
// synchronous commit: the WAL is fsync'd). Measured here: single-event transactions run at
// a fraction of batched ones (docs/benchmarks.md), so the batching is ours, as on RocksDB.
//
// Each append transaction first locks the journal head row (gh_journal_head): writers of
// any number of nodes are serialised there, so positions are gapless and committed in
// order. PRIMARY KEY (stream, version) is the last line of defence: if another writer got
// a row in first, the batch is rolled back and checked again against the database, so
// that the losing append gets kConflict and the others of its batch still commit.
//
// Fenced (cluster mode, `fence` set): every append is written under the lease of its
// stream's shard (events/shard.h). The transaction reads the shard's lease row FOR SHARE and
// writes the append only if it still names this node at the epoch the fence says it holds,
// unexpired by the database's clock; otherwise the append fails with kLeaseLost and writes
// nothing (the others of its batch still commit). The row lock keeps any acquisition of the
// shard waiting until COMMIT, so the check cannot go stale before the write is durable.
// Each event carries that epoch (Envelope.lease_epoch). Unfenced, lease_epoch is 0.
//
// A COMMIT whose answer is lost (the connection dropped while committing: a failover, a
// network fault) has an unknown outcome. The writer settles it before answering: on a new
// connection it waits until the old transaction's backend is gone (it committed or rolled
// back), then looks for the batch's last event at its position, byte for byte. Found: the
// batch committed and is answered as such. Not found: its appends fail with kUnavailable and
// the caller recovers the stream from the log, as after any failed append. When the database
// cannot be read within `unknown_commit_wait`, the appends fail with kUnavailable saying the
// outcome is unknown.
//
// Thread-safety: all methods are safe from any thread. Destruction waits for queued
// appends to finish (they are written, not dropped).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <unordered_map>

#include "events/group_commit.h"
#include "events/journal.h"
#include "events/pg_connection.h"
#include "events/shard_fence.h"

namespace gh {

struct PgJournalOptions {
  // libpq connection string: "host=127.0.0.1 port=5432 dbname=gatehouse user=gatehouse".
  std::string conninfo;
  JournalOptions batching;
  // Cluster mode: the leases this node holds (outlives the journal); null: unfenced.
  const ShardFence* fence = nullptr;
  // How long the writer tries to settle a COMMIT whose answer was lost (above): about a
  // failover's length (Patroni promotes a standby within its TTL, 30 s by default).
  std::chrono::milliseconds unknown_commit_wait{30000};
};

class PgJournal final : public Journal {
 public:
  // Connects, creates the tables if missing (ensure_pg_schema) and reads the head position.
  // kUnavailable when PostgreSQL cannot be reached.
  static Result<std::unique_ptr<PgJournal>> open(PgJournalOptions options);
  ~PgJournal() override;

  void append(AppendRequest request, AppendCallback done) override;
  Result<std::vector<Envelope>> read_stream(const std::string& stream, uint64_t from_version,
                                            size_t max = SIZE_MAX) const override;
  Status read_all(uint64_t from_position,
                  const std::function<bool(const Envelope&)>& visit) const override;
  // Filtered in the database: only the matching rows are sent (with an index for
  // "system/", what the log follower reads); returns the committed head at the start.
  Result<uint64_t> read_all_with_prefix(
      uint64_t from_position, const std::string& prefix,
      const std::function<bool(const Envelope&)>& visit) const override;
  Result<uint64_t> stream_version(const std::string& stream) const override;
  Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const override;
  Result<std::string> read_blob(const std::string& key) const override;
  Result<AppendResult> find_command(const std::string& stream,
                                    const std::string& command_id) const override;
  uint64_t last_position() const override { return last_position_.load(); }
  JournalStats stats() const override { return group_.stats(); }

  // Stops accepting appends (they fail with kUnavailable) and drains the queue.
  void shutdown();

  // As RocksdbJournal::set_durable_observer: called on the writer thread with every event of
  // a batch once committed, in position order, before any append of that batch is answered.
  // Set before the first append; must not block.
  void set_durable_observer(std::function<void(const Envelope&)> observer) {
    group_.set_durable_observer(std::move(observer));
  }

 private:
  struct BatchOutcome;

  PgJournal(PgJournalOptions options, std::unique_ptr<PgConnection> writer, uint64_t head);
  // The one transaction of a group commit; runs on the writer thread.
  BatchResult write_batch(std::vector<QueuedAppend>& batch);
  // One attempt at writing `batch` in a transaction; the caller retries once after a
  // unique violation with the version cache cleared.
  BatchOutcome try_batch(std::vector<QueuedAppend>& batch);
  // Fenced only: refuses with kLeaseLost (in `out`) every append of `batch` whose shard this
  // node does not hold, by the fence and by shard_lease read FOR SHARE; fills `epochs`.
  Status check_leases(const std::vector<QueuedAppend>& batch, BatchOutcome& out,
                      std::vector<uint64_t>& epochs);
  // read_all's loop, with `condition` (" AND ...") added to its WHERE clause.
  Status read_by_position(uint64_t from_position, const std::string& condition,
                          const std::function<bool(const Envelope&)>& visit) const;
  // Reads the version of every stream of `batch` not cached under the epoch it is written at.
  Status load_versions(const std::vector<QueuedAppend>& batch, const std::vector<uint64_t>& epochs);
  Status load_commands(const std::vector<QueuedAppend>& batch,
                       std::unordered_map<std::string, AppendResult>& found);
  // After COMMIT's answer was lost: whether the batch is in the log decides its outcome.
  void settle_unknown_commit(BatchOutcome& out);

  PgJournalOptions options_;
  std::unique_ptr<PgConnection> writer_connection_;  // writer thread only
  mutable PgPool readers_;
  std::atomic<uint64_t> last_position_{0};

  // Writer-thread only: the last version of streams this journal wrote or read, and the lease
  // epoch it was learnt under. Another epoch means the shard was owned by another node in
  // between (it may have written), so the entry is read again.
  struct CachedVersion {
    uint64_t version = 0;
    uint64_t epoch = 0;
  };
  std::unordered_map<std::string, CachedVersion> versions_;

  GroupCommit group_;  // last: its writer thread uses the members above
};

}  // namespace gh
