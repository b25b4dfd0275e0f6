// Opening a cluster's PostgreSQL store for gatehousectl's read verbs (docs/cluster.md,
// "gatehousectl in cluster mode"): the same Journal and SnapshotStore the nodes use, unfenced,
// and only ever read. Writes never go this way: in cluster mode they run inside a node,
// through its admin socket, under its leases. Thread-compatible.
#pragma once

#include <string>

#include "events/status.h"
#include "tools/ctl/store.h"

namespace gh::ctl {

// The store in the database `conninfo` names (libpq's forms; the password as libpq finds it:
// ~/.pgpass, PGPASSFILE, PGPASSWORD). Creates and changes nothing: kNotFound when the database
// holds no gatehouse tables (a wrong dbname must not become an empty store),
// kFailedPrecondition when its schema version is not this gatehousectl's, kInvalidArgument for
// a connection string libpq cannot parse, kUnavailable when the server cannot be reached.
// The Store has no `database` (RocksDB): verify, backup and user erase refuse it.
Result<Store> open_pg_store(const std::string& conninfo);

}  // namespace gh::ctl
