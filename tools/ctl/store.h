// Opening the store for gatehousectl: read-only for read verbs (works while the server runs,
// seeing the data as of the open), read-write for write verbs (needs the server stopped).
// Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "events/status.h"
#include "snapshots/snapshot_store.h"

namespace gh::ctl {

// Owned when gatehousectl opened the store itself; borrowed (borrow_store) when a verb runs
// inside the server on the server's own store (live_server.h). `database` is null on
// PostgreSQL (open_pg_store, or a cluster node's own journal): the verbs that read RocksDB's
// files themselves (verify, backup, user erase) refuse such a store.
struct Store {
  std::shared_ptr<Database> database;
  std::shared_ptr<Journal> journal;
  std::shared_ptr<SnapshotStore> snapshots;
};

// The store at `path`. Never creates one: kNotFound when there is no store there (a typo
// must not produce an empty store). Read-write while gatehouse holds the store fails with
// kUnavailable saying to stop the server first.
Result<Store> open_store(const std::string& path, OpenMode mode);
// A Store that uses the given parts without owning them; they must outlive it.
Store borrow_store(Database* database, Journal* journal, SnapshotStore* snapshots);

}  // namespace gh::ctl
