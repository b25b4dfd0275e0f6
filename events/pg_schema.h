// The PostgreSQL tables of cluster mode's journal and snapshots (docs/cluster.md), created
// if missing. Every statement is idempotent, and creation runs under an advisory lock so
// that several nodes starting at once do not race each other.
//
// Thread-safety: a free function over one connection.
#pragma once

#include "events/pg_connection.h"

namespace gh {

// The version of the tables: 1, the journal and snapshots; 2 adds shard_lease and
// cluster_node (docs/cluster.md).
inline constexpr int kPgSchemaVersion = 2;

// Creates the journal's and the snapshot store's tables if they do not exist. kFailedPrecondition
// when the database holds a newer schema than this binary knows.
Status ensure_pg_schema(PgConnection& connection);

}  // namespace gh
