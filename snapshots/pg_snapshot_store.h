// The snapshot store of cluster mode: snapshots in PostgreSQL's gh_snapshots table (created
// by ensure_pg_schema, next to the journal's tables). Contract: snapshots/snapshot_store.h.
//
// A write is one transaction under a per-stream advisory lock, so the keep-the-last-two rule
// holds even when writers of several nodes race; it commits with synchronous_commit off:
// a snapshot is a cache, and a lost one costs a longer replay, never correctness.
//
// Thread-safety: all methods may be called from any thread (each borrows a connection).
#pragma once

#include <memory>

#include "events/pg_connection.h"
#include "snapshots/snapshot_store.h"

namespace gh {

class PgSnapshotStore final : public SnapshotStore {
 public:
  // Connects, creates the tables if missing; kUnavailable when PostgreSQL cannot be reached.
  static Result<std::unique_ptr<PgSnapshotStore>> open(const std::string& conninfo);

  // PostgreSQL failures: kUnavailable (connection, server), kInternal (other).
  Status write(const snapshots::Snapshot& snapshot) override;
  Result<SnapshotListing> list(const std::string& stream) const override;
  Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const override;

 private:
  explicit PgSnapshotStore(const std::string& conninfo) : connections_(conninfo) {}
  // The write after BEGIN: lock the stream, read its versions, write, prune, COMMIT.
  Status write_in_transaction(PgConnection& db, const snapshots::Snapshot& snapshot,
                              const std::string& what);

  mutable PgPool connections_;
};

}  // namespace gh
