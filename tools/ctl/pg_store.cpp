#include "tools/ctl/pg_store.h"

#include "events/pg_connection.h"
#include "events/pg_conninfo.h"
#include "events/pg_journal.h"
#include "events/pg_schema.h"
#include "snapshots/pg_snapshot_store.h"

namespace gh::ctl {
namespace {

// Whether the database holds this version's tables, read before anything opens the journal
// (whose open creates missing tables: right for a node, wrong for a tool given a typo).
Status check_schema(const std::string& conninfo, const std::string& where) {
  auto connection = PgConnection::open(conninfo);
  if (!connection) return connection.status();
  auto found = (*connection)
                   ->exec("SELECT to_regclass('gh_schema') IS NOT NULL", PgParams(),
                          "looking for gatehouse's tables");
  if (!found) return found.status();
  if (found->text(0, 0) != "t") return not_found("no gatehouse store in " + where);
  auto version =
      (*connection)->exec("SELECT version FROM gh_schema", PgParams(), "reading the schema");
  if (!version) return version.status();
  const uint64_t held = version->size() > 0 ? version->number(0, 0) : 0;
  if (held != uint64_t(kPgSchemaVersion))
    return failed_precondition(where + " holds gatehouse schema version " + std::to_string(held) +
                               "; this gatehousectl reads version " +
                               std::to_string(kPgSchemaVersion));
  return Status::ok();
}

}  // namespace

Result<Store> open_pg_store(const std::string& conninfo) {
  auto checked = pg_conninfo(conninfo, "");
  if (!checked) return checked.status();
  const std::string where = "PostgreSQL (" + pg_conninfo_redacted(conninfo) + ")";
  if (auto s = check_schema(*checked, where); !s.is_ok())
    return Status(s.code(), s.code() == Code::kNotFound || s.code() == Code::kFailedPrecondition
                                ? s.message()
                                : "opening " + where + ": " + s.message());
  PgJournalOptions options;  // unfenced: this journal is only read
  options.conninfo = *checked;
  auto journal = PgJournal::open(std::move(options));
  if (!journal) return journal.status();
  auto snapshots = PgSnapshotStore::open(*checked);
  if (!snapshots) return snapshots.status();
  Store store;
  store.journal = std::move(*journal);
  store.snapshots = std::move(*snapshots);
  return store;
}

}  // namespace gh::ctl
