// The snapshot store: the last few snapshots of each stream, in the `snapshots` column
// family of the Database under keys::versioned(stream, version).
//
// Snapshots are a cache, never the truth (DESIGN.md): writes are not fsync'd, and a
// snapshot that fails to decode is reported by list() in `corrupt` so that recovery can
// skip it and operators can see it, never silently hidden.
//
// Thread-safety: all methods may be called from any thread; write() calls are serialized
// internally so that the keep-the-last-two rule holds under concurrent writers.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "events/database.h"
#include "events/status.h"
#include "snapshots/snapshot.pb.h"

namespace gh {

// A stored snapshot that could not be used, and why.
struct CorruptSnapshot {
  std::string stream;
  uint64_t version = 0;  // from the key
  std::string reason;    // "does not decode", "key says version 7, snapshot says 9"
};

struct SnapshotListing {
  std::vector<snapshots::Snapshot> valid;  // decoded, newest (highest version) first
  std::vector<CorruptSnapshot> corrupt;    // newest first
};

class SnapshotStore {
 public:
  // How many snapshots of a stream are kept: the newest, and one to fall back to.
  static constexpr size_t kKept = 2;

  // `database` must outlive the store; it may be read-only (write() then fails).
  explicit SnapshotStore(Database* database) : database_(database) {}

  // Stores `snapshot` under its stream and version, and deletes all but the kKept newest
  // of that stream in the same WriteBatch. Not fsync'd. kInvalidArgument for a bad stream
  // name, version 0 or no state; kFailedPrecondition on a read-only database; RocksDB failures
  // mapped by from_rocksdb().
  Status write(const snapshots::Snapshot& snapshot);

  // The snapshots of `stream`, decoded ones in `valid` and undecodable or misplaced ones in
  // `corrupt`, each newest first. Empty listing when there are none. kDataLoss when RocksDB
  // itself reports corruption of the family.
  Result<SnapshotListing> list(const std::string& stream) const;

  // Calls `visit(stream, newest_version)` for every stream with a snapshot whose name starts
  // with `prefix`, in name order, until it returns false. kDataLoss on a malformed key.
  Status list_streams(const std::string& prefix,
                      const std::function<bool(const std::string&, uint64_t)>& visit) const;

 private:
  Database* database_;
  std::mutex write_mutex_;
};

}  // namespace gh
