#include "events/database.h"

#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

namespace gh {
namespace {

// A function, not a global: RocksDB::rocksdb is the static librocksdb.a, so a global copy
// of rocksdb::kDefaultColumnFamilyName could be initialized before that string is (static
// initialization order), giving "" and "Default column family not specified" on open.
const std::vector<std::string>& families() {
  static const std::vector<std::string> kFamilies = {
      rocksdb::kDefaultColumnFamilyName, "events", "positions", "commands", "blobs", "snapshots"};
  return kFamilies;
}

rocksdb::Options make_options() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // A torn tail after a crash is cut off at the last consistent point; anything acknowledged
  // was synced before the acknowledgement, so nothing acknowledged is lost.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.paranoid_checks = true;
  options.max_background_jobs = 2;
  options.keep_log_file_num = 4;
  return options;
}

rocksdb::ColumnFamilyOptions family_options() {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.whole_key_filtering = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

Status from_rocksdb(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return Status::ok();
  std::string message = context + ": " + status.ToString();
  if (status.IsCorruption()) return data_loss(message);
  if (status.IsNotFound()) return not_found(message);
  if (status.IsIOError() && status.ToString().find("lock") != std::string::npos)
    return unavailable(message + " (is gatehouse running? stop it first)");
  if (status.IsNoSpace()) return unavailable(message + " (the store's file system is full)");
  if (status.IsBusy() || status.IsTryAgain() || status.IsShutdownInProgress())
    return unavailable(message);
  if (status.IsInvalidArgument()) return invalid_argument(message);
  return internal_error(message);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, OpenMode mode,
                                                 rocksdb::Env* env) {
  std::unique_ptr<Database> database(new Database());
  database->path_ = path;
  database->mode_ = mode;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : families()) descriptors.emplace_back(name, family_options());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status;
  auto options = make_options();
  if (env != nullptr) options.env = env;
  if (mode == OpenMode::kReadOnly) {
    status = rocksdb::DB::OpenForReadOnly(options, path, descriptors, &database->handles_, &raw);
  } else {
    status = rocksdb::DB::Open(options, path, descriptors, &database->handles_, &raw);
  }
  if (!status.ok()) return from_rocksdb(status, "opening store " + path);
  database->db_.reset(raw);
  return database;
}

Database::~Database() {
  if (!db_) return;
  if (mode_ == OpenMode::kReadWrite) {
    rocksdb::FlushOptions flush;
    for (auto* handle : handles_) (void)db_->Flush(flush, handle);
  }
  for (auto* handle : handles_) (void)db_->DestroyColumnFamilyHandle(handle);
  (void)db_->Close();
}

Status Database::checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  auto status = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!status.ok()) return from_rocksdb(status, "creating checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return from_rocksdb(checkpoint->CreateCheckpoint(dir), "writing checkpoint to " + dir);
}

}  // namespace gh
