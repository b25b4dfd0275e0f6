#include "events/pg_schema.h"

#include <string>

namespace gh {
namespace {

// Stream names use the "C" collation: bytewise order, as in RocksDB, so prefix
// ranges and list order are the same on both backends.
constexpr const char* kTables = R"sql(
CREATE TABLE IF NOT EXISTS gh_schema (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version integer NOT NULL);
-- The last global position handed out. Every append transaction locks this row first: it
-- serialises writers (of any node) so positions are gapless and become visible in order.
CREATE TABLE IF NOT EXISTS gh_journal_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL CHECK (position >= 0));
INSERT INTO gh_journal_head (position) VALUES (0) ON CONFLICT DO NOTHING;
-- One row per event. The primary key is the last line of defence against two writers of
-- one stream; position is the global order.
CREATE TABLE IF NOT EXISTS gh_events (
  stream text COLLATE "C" NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  position bigint NOT NULL UNIQUE CHECK (position > 0),
  envelope bytea NOT NULL,
  PRIMARY KEY (stream, version));
-- The original result of each command id per stream (idempotency).
CREATE TABLE IF NOT EXISTS gh_commands (
  stream text COLLATE "C" NOT NULL,
  command_id bytea NOT NULL,  -- any bytes the caller chose
  first_version bigint NOT NULL,
  last_version bigint NOT NULL,
  last_position bigint NOT NULL,
  PRIMARY KEY (stream, command_id));
CREATE TABLE IF NOT EXISTS gh_blobs (
  key bytea PRIMARY KEY,
  bytes bytea NOT NULL);
-- Snapshots: a cache, the newest two per stream.
CREATE TABLE IF NOT EXISTS gh_snapshots (
  stream text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  snapshot bytea NOT NULL,
  PRIMARY KEY (stream, version));
-- Schema version 2: shard leases and live nodes (docs/cluster.md). One row per virtual
-- shard, created here and never deleted; epoch is the fencing token, bumped by every
-- acquisition and never lowered; owner is NULL when released.
CREATE TABLE IF NOT EXISTS shard_lease (
  shard integer PRIMARY KEY CHECK (shard BETWEEN 0 AND 1023),
  epoch bigint NOT NULL CHECK (epoch >= 0),
  owner text,
  expires_at timestamptz NOT NULL);
INSERT INTO shard_lease (shard, epoch, owner, expires_at)
  SELECT g, 0, NULL, '-infinity' FROM generate_series(0, 1023) AS g ON CONFLICT DO NOTHING;
-- Live nodes: each heartbeats its row; a node that leaves deletes it.
CREATE TABLE IF NOT EXISTS cluster_node (
  node text PRIMARY KEY,
  address text NOT NULL,
  seen_at timestamptz NOT NULL);
-- The system streams' events by position, for the nodes' log followers: each reads only
-- these rather than the whole log (PgJournal::read_all_with_prefix). An index, which older
-- versions of this schema can do without: no version of its own.
CREATE INDEX IF NOT EXISTS gh_events_system_position ON gh_events (position)
  WHERE stream LIKE 'system/%';
)sql";

// Any constant of our own: the advisory lock that serialises schema creation.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7243043200)";

}  // namespace

Status ensure_pg_schema(PgConnection& connection) {
  if (auto s = connection.exec("BEGIN", "starting the schema check"); !s.is_ok()) return s;
  auto rollback_with = [&](Status status) {
    (void)connection.exec("ROLLBACK", "abandoning the schema check");
    return status;
  };
  if (auto s = connection.exec(kSchemaLock, "locking the schema"); !s.is_ok())
    return rollback_with(s);
  if (auto s = connection.exec(kTables, "creating the tables"); !s.is_ok()) return rollback_with(s);
  auto version = connection.exec("SELECT version FROM gh_schema", PgParams(), "reading the schema");
  if (!version) return rollback_with(version.status());
  if (version->size() == 0) {
    auto inserted =
        connection.exec("INSERT INTO gh_schema (version) VALUES ($1)",
                        PgParams().number(kPgSchemaVersion), "recording the schema version");
    if (!inserted) return rollback_with(inserted.status());
  } else if (version->number(0, 0) > uint64_t(kPgSchemaVersion)) {
    return rollback_with(failed_precondition(
        "the database holds gatehouse schema version " + std::to_string(version->number(0, 0)) +
        "; this gatehouse knows version " + std::to_string(kPgSchemaVersion) + ": upgrade it"));
  } else if (version->number(0, 0) < uint64_t(kPgSchemaVersion)) {
    // Older versions lack only tables, which the CREATE ... IF NOT EXISTS above just added.
    auto raised =
        connection.exec("UPDATE gh_schema SET version = $1", PgParams().number(kPgSchemaVersion),
                        "raising the schema version");
    if (!raised) return rollback_with(raised.status());
  }
  return connection.exec("COMMIT", "committing the schema");
}

}  // namespace gh
