// gatehousectl backup DIR: a consistent copy of the store that can be opened as a store.
// - Server stopped (the store opens read-write): a RocksDB checkpoint (hard links where the
//   file system allows, so it is fast and small on the same disk).
// - Server running (the store is locked): a logical copy through a read-only open, which
//   sees the store as of the moment it was opened: every family is copied key by key into
//   a new store at DIR. Events appended after that moment are not in the backup.
// Either way DIR must not exist. Thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "events/status.h"

namespace gh::ctl {

struct BackupResult {
  bool logical = false;        // true: copied through a read-only open (server was running)
  uint64_t records = 0;        // records copied (logical copies only)
  uint64_t last_position = 0;  // the last event position the backup holds
};

// Backs up the store at `store_path` into `dir`. kAlreadyExists when `dir` exists;
// kNotFound when there is no store; the copy's failure otherwise (a partial `dir` is
// removed). Progress goes to `progress` (may be null).
Result<BackupResult> backup_store(const std::string& store_path, const std::string& dir,
                                  std::ostream* progress);

}  // namespace gh::ctl
