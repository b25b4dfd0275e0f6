// The snapshot store: the last few snapshots of each stream. Two implementations: the
// embedded default in RocksDB (snapshots/rocksdb_snapshot_store.h) and cluster mode's in
// PostgreSQL (snapshots/pg_snapshot_store.h).
//
// Snapshots are a cache, never the truth (DESIGN.md): writes are not fsync'd, and a
// snapshot that fails to decode is reported by list() in `corrupt` so that recovery can
// skip it and operators can see it, never silently hidden.
//
// Thread-safety: all methods may be called from any thread; writes of one stream are
// serialized so that the keep-the-last-two rule holds under concurrent writers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

  virtual ~SnapshotStore() = default;

  // Stores `snapshot` under its stream and version, and deletes all but the kKept newest
  // of that stream in the same atomic write. Not fsync'd. kInvalidArgument for a bad stream
  // name, version 0 or no state; kFailedPrecondition on a read-only store; storage failures
  // as the implementation maps them.
  virtual Status write(const snapshots::Snapshot& snapshot) = 0;

  // The snapshots of `stream`, decoded ones in `valid` and undecodable or misplaced ones in
  // `corrupt`, each newest first. Empty listing when there are none.
  virtual Result<SnapshotListing> list(const std::string& stream) const = 0;

  // Calls `visit(stream, newest_version)` for every stream with a snapshot whose name starts
  // with `prefix`, in name order, until it returns false.
  virtual Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const = 0;
};

// What both stores share.
namespace snapshot_rules {

// kInvalidArgument naming the problem when `snapshot` may not be stored.
Status check_writable(const snapshots::Snapshot& snapshot);

// The versions that stay after writing `written` next to `existing`: the kKept highest.
std::vector<uint64_t> kept_versions(std::vector<uint64_t> existing, uint64_t written);

// Decodes a snapshot stored under (stream, version) into `out`, or says why it cannot be
// used ("does not decode", "stored under ... but says ...", "holds no state").
std::optional<CorruptSnapshot> decode_stored(const std::string& stream, uint64_t version,
                                             std::string_view bytes, snapshots::Snapshot& out);

}  // namespace snapshot_rules
}  // namespace gh
