#include "tools/ctl/store.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "snapshots/rocksdb_snapshot_store.h"

namespace gh::ctl {

Result<Store> open_store(const std::string& path, OpenMode mode) {
  std::error_code error;
  // A server with store.backend=postgres leaves this marker in store.path (server/app.cpp).
  if (std::filesystem::exists(std::filesystem::path(path) / "BACKEND", error))
    return failed_precondition(
        "the gatehouse at " + path +
        " keeps its store in PostgreSQL (store.backend=postgres): read verbs take --postgres "
        "CONNINFO; write verbs run inside that node while it runs (found by this --store, or "
        "--socket RUN_DIR/admin.sock)");
  if (!std::filesystem::exists(std::filesystem::path(path) / "CURRENT", error))
    return not_found("no gatehouse store at " + path + " (use --store PATH)");
  auto database = Database::open(path, mode);
  // A read-only open races the running server: a file listed in the MANIFEST it read can be
  // deleted by a compaction before it is opened. A fresh attempt reads the new MANIFEST.
  for (int attempt = 1; attempt < 3 && mode == OpenMode::kReadOnly && !database &&
                        database.status().code() != Code::kDataLoss;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
    database = Database::open(path, mode);
  }
  if (!database) {
    if (mode == OpenMode::kReadWrite && database.status().code() == Code::kUnavailable)
      return unavailable(
          "the store at " + path +
          " is locked by a running gatehouse that does not answer on its admin socket "
          "(admin.sock): this verb writes, stop the server first (read verbs "
          "work while it runs)");
    return database.status();
  }
  Store store;
  store.database = std::move(*database);
  store.journal = std::make_shared<RocksdbJournal>(store.database.get());
  store.snapshots = std::make_shared<RocksdbSnapshotStore>(store.database.get());
  return store;
}

Store borrow_store(Database* database, Journal* journal, SnapshotStore* snapshots) {
  auto nothing = [](auto*) {};
  Store store;
  store.database = std::shared_ptr<Database>(database, nothing);
  store.journal = std::shared_ptr<Journal>(journal, nothing);
  store.snapshots = std::shared_ptr<SnapshotStore>(snapshots, nothing);
  return store;
}

}  // namespace gh::ctl
