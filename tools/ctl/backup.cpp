#include "tools/ctl/backup.h"

#include <rocksdb/write_batch.h>

#include <filesystem>

#include "tools/ctl/store.h"

namespace gh::ctl {
namespace {

constexpr size_t kBatchBytes = 4 << 20;

Status copy_family(const Database& from, rocksdb::ColumnFamilyHandle* from_family,
                   const Database& to, rocksdb::ColumnFamilyHandle* to_family,
                   const std::string& name, uint64_t& records, std::ostream* progress) {
  std::unique_ptr<rocksdb::Iterator> it(
      from.db()->NewIterator(rocksdb::ReadOptions(), from_family));
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions write;
  write.disableWAL = true;  // the copy is flushed when closed; a crash mid-copy means redo
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    batch.Put(to_family, it->key(), it->value());
    ++records;
    if (batch.GetDataSize() >= kBatchBytes) {
      GH_RETURN_IF_ERROR(from_rocksdb(to.db()->Write(write, &batch), "writing the backup"));
      batch.Clear();
      if (progress) *progress << "backup: " << records << " records copied\n" << std::flush;
    }
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading the " + name + " family");
  return from_rocksdb(to.db()->Write(write, &batch), "writing the backup");
}

Result<BackupResult> logical_copy(const Store& source, const std::string& dir,
                                  std::ostream* progress) {
  auto target = Database::open(dir, OpenMode::kReadWrite);
  if (!target) return target.status();
  const Database& from = *source.database;
  const Database& to = **target;
  BackupResult result;
  result.logical = true;
  result.last_position = source.journal->last_position();
  struct Family {
    const char* name;
    rocksdb::ColumnFamilyHandle* (Database::*handle)() const;
  };
  for (const Family& f :
       {Family{"events", &Database::events}, Family{"positions", &Database::positions},
        Family{"commands", &Database::commands}, Family{"blobs", &Database::blobs},
        Family{"snapshots", &Database::snapshots}}) {
    GH_RETURN_IF_ERROR(copy_family(from, (from.*f.handle)(), to, (to.*f.handle)(), f.name,
                                   result.records, progress));
  }
  // The WAL was off for the copy: only flushed table files hold it, so a failed flush
  // is a failed backup (closing alone would ignore it).
  rocksdb::FlushOptions flush;
  flush.wait = true;
  for (auto* family : {to.events(), to.positions(), to.commands(), to.blobs(), to.snapshots()})
    GH_RETURN_IF_ERROR(from_rocksdb(to.db()->Flush(flush, family), "flushing the backup"));
  GH_RETURN_IF_ERROR(from_rocksdb(to.db()->SyncWAL(), "syncing the backup"));
  target->reset();
  return result;
}

}  // namespace

Result<BackupResult> backup_store(const std::string& store_path, const std::string& dir,
                                  std::ostream* progress) {
  std::error_code error;
  if (std::filesystem::exists(dir, error))
    return already_exists(dir + " exists; give a new directory");
  Result<BackupResult> result = BackupResult{};
  auto writable = open_store(store_path, OpenMode::kReadWrite);
  if (writable) {
    if (progress) *progress << "backup: store not in use, writing a checkpoint\n" << std::flush;
    result.value().last_position = writable->journal->last_position();
    auto status = writable->database->checkpoint(dir);
    if (!status.is_ok()) result = status;
  } else if (writable.status().code() == Code::kUnavailable) {
    if (progress)
      *progress << "backup: store in use by gatehouse, copying through a read-only open\n"
                << std::flush;
    auto readable = open_store(store_path, OpenMode::kReadOnly);
    if (!readable) return readable.status();
    result = logical_copy(*readable, dir, progress);
  } else {
    return writable.status();
  }
  if (!result) std::filesystem::remove_all(dir, error);
  return result;
}

}  // namespace gh::ctl
