// The snapshot store of the embedded default: snapshots in the `snapshots` column family of
// the Database under keys::versioned(stream, version). Contract: snapshots/snapshot_store.h.
//
// Thread-safety: all methods may be called from any thread; write() calls are serialized
// internally so that the keep-the-last-two rule holds under concurrent writers.
#pragma once

#include <mutex>

#include "events/database.h"
#include "snapshots/snapshot_store.h"

namespace gh {

class RocksdbSnapshotStore final : public SnapshotStore {
 public:
  // `database` must outlive the store; it may be read-only (write() then fails with
  // kFailedPrecondition). RocksDB failures are mapped by from_rocksdb().
  explicit RocksdbSnapshotStore(Database* database) : database_(database) {}

  Status write(const snapshots::Snapshot& snapshot) override;
  // kDataLoss when RocksDB itself reports corruption of the family.
  Result<SnapshotListing> list(const std::string& stream) const override;
  // kDataLoss on a malformed key.
  Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const override;

 private:
  Database* database_;
  std::mutex write_mutex_;
};

}  // namespace gh
