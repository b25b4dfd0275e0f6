#include "snapshots/pg_snapshot_store.h"

#include <algorithm>

#include "events/pg_schema.h"

namespace gh {

Result<std::unique_ptr<PgSnapshotStore>> PgSnapshotStore::open(const std::string& conninfo) {
  std::unique_ptr<PgSnapshotStore> store(new PgSnapshotStore(conninfo));
  auto db = store->connections_.acquire();
  if (!db) return db.status();
  GH_RETURN_IF_ERROR(ensure_pg_schema(**db));
  return store;
}

Status PgSnapshotStore::write(const snapshots::Snapshot& snapshot) {
  GH_RETURN_IF_ERROR(snapshot_rules::check_writable(snapshot));
  const std::string what =
      "writing " + snapshot.stream() + " snapshot " + std::to_string(snapshot.version());
  for (int attempt = 0;; ++attempt) {
    auto db = connections_.acquire();
    if (!db) return db.status();
    auto begun = (*db)->exec("BEGIN; SET LOCAL synchronous_commit = off", what);
    // A pooled connection that died while idle (a server restart, a failover): nothing was
    // done yet, so once more on a new one.
    if (!begun.is_ok() && attempt == 0 && !(*db)->connected()) continue;
    GH_RETURN_IF_ERROR(begun);
    return write_in_transaction(**db, snapshot, what);
  }
}

Status PgSnapshotStore::write_in_transaction(PgConnection& db, const snapshots::Snapshot& snapshot,
                                             const std::string& what) {
  auto fail = [&](Status status) {
    (void)db.exec("ROLLBACK", "rolling back a snapshot write");
    return status;
  };
  // Writers of one stream, of any node, take turns: read the versions, write, prune.
  auto locked = db.exec("SELECT pg_advisory_xact_lock(hashtext('gh_snapshots/' || $1))",
                        PgParams().text(snapshot.stream()), what);
  if (!locked) return fail(locked.status());
  auto rows = db.exec("SELECT version FROM gh_snapshots WHERE stream = $1",
                      PgParams().text(snapshot.stream()), what);
  if (!rows) return fail(rows.status());
  std::vector<uint64_t> existing;
  for (int r = 0; r < rows->size(); ++r) existing.push_back(rows->number(r, 0));
  const auto kept = snapshot_rules::kept_versions(existing, snapshot.version());
  // A snapshot older than the kept ones (a late writer) is pruned at once: not written.
  if (std::find(kept.begin(), kept.end(), snapshot.version()) != kept.end()) {
    auto put = db.exec(
        "INSERT INTO gh_snapshots (stream, version, snapshot) VALUES ($1, $2, $3) "
        "ON CONFLICT (stream, version) DO UPDATE SET snapshot = EXCLUDED.snapshot",
        PgParams()
            .text(snapshot.stream())
            .number(snapshot.version())
            .bytes(snapshot.SerializeAsString()),
        what);
    if (!put) return fail(put.status());
  }
  // Everything below the oldest kept version goes.
  auto pruned = db.exec("DELETE FROM gh_snapshots WHERE stream = $1 AND version < $2",
                        PgParams().text(snapshot.stream()).number(kept.back()), what);
  if (!pruned) return fail(pruned.status());
  return db.exec("COMMIT", what);
}

Result<SnapshotListing> PgSnapshotStore::list(const std::string& stream) const {
  auto rows = connections_.read(
      "SELECT version, snapshot FROM gh_snapshots WHERE stream = $1 ORDER BY version DESC",
      PgParams().text(stream), "reading snapshots of " + stream);
  if (!rows) return rows.status();
  SnapshotListing listing;
  for (int r = 0; r < rows->size(); ++r) {
    snapshots::Snapshot snapshot;
    if (auto corrupt =
            snapshot_rules::decode_stored(stream, rows->number(r, 0), rows->bytes(r, 1), snapshot))
      listing.corrupt.push_back(std::move(*corrupt));
    else
      listing.valid.push_back(std::move(snapshot));
  }
  return listing;
}

Status PgSnapshotStore::list_streams(
    const std::string& prefix,
    const std::function<bool(const std::string&, uint64_t)>& visit) const {
  // Few streams have snapshots at once (two rows each): one ordered query is enough.
  std::string end = prefix;
  if (!end.empty()) end.back() = char(end.back() + 1);  // stream names are [A-Za-z0-9/._-]
  std::vector<std::pair<std::string, uint64_t>> streams;
  {
    PgParams params;
    params.text(prefix);
    if (!end.empty()) params.text(end);
    auto rows = connections_.read(
        "SELECT stream, max(version) FROM gh_snapshots WHERE stream >= $1" +
            std::string(end.empty() ? "" : " AND stream < $2") + " GROUP BY stream ORDER BY stream",
        params, "listing snapshot streams");
    if (!rows) return rows.status();
    for (int r = 0; r < rows->size(); ++r)
      streams.emplace_back(std::string(rows->text(r, 0)), rows->number(r, 1));
  }
  for (const auto& [stream, version] : streams)
    if (!visit(stream, version)) break;
  return Status::ok();
}

}  // namespace gh
