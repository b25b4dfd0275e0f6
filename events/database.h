// The RocksDB instance behind the journal and the snapshot store, with its column families
// (layout in keys.h). Opened read-write by the server, read-only by gatehousectl while the
// server runs (RocksDB's lock lets only one writer open it).
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh {

enum class OpenMode { kReadWrite, kReadOnly };

class Database {
 public:
  // Opens (creating when read-write) the store at `path`. kUnavailable when another process
  // holds it open read-write; kDataLoss when RocksDB reports corruption.
  // `env` is what RocksDB does its file I/O through: nullptr for the default; the power-loss
  // campaign (tests/events/power_loss_test.cpp) passes one that can lose unsynced writes.
  static Result<std::unique_ptr<Database>> open(const std::string& path, OpenMode mode,
                                                rocksdb::Env* env = nullptr);
  ~Database();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* events() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* positions() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* commands() const { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* blobs() const { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* snapshots() const { return handles_[5]; }
  bool read_only() const { return mode_ == OpenMode::kReadOnly; }
  const std::string& path() const { return path_; }

  // A consistent copy of the store in `dir` (which must not exist) via RocksDB Checkpoint.
  Status checkpoint(const std::string& dir) const;

 private:
  Database() = default;
  std::string path_;
  OpenMode mode_ = OpenMode::kReadWrite;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Maps a RocksDB status to ours; `context` says what was being done ("reading device/d1").
Status from_rocksdb(const rocksdb::Status& status, const std::string& context);

}  // namespace gh
