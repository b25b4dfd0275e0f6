// gatehousectl snapshot: writes a snapshot of streams now, from a full replay (the truth),
// so that the next recovery starts there. Needs the store open read-write (server stopped).
// device/, user/ and room/ streams have a snapshot model; other kinds are skipped.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "events/database.h"
#include "events/journal.h"
#include "events/status.h"
#include "snapshots/snapshot_store.h"

namespace gh::ctl {

// The stream prefixes `snapshot --all` covers: every kind with a snapshot model.
inline constexpr const char* kSnapshotKinds[] = {"device/", "user/", "room/"};

struct SnapshotRun {
  uint64_t written = 0;
  std::vector<std::string> skipped;  // streams without a snapshot model, or empty
};

// Snapshots each of `streams` at its current version, stamped `now_ms`. Stops at the first
// failure (kDataLoss from a stream that cannot be replayed names it).
Result<SnapshotRun> snapshot_streams(const Journal& journal, SnapshotStore& store,
                                     const std::vector<std::string>& streams, int64_t now_ms,
                                     std::ostream* progress);

// Writes a snapshot of `stream` from a full replay and deletes every other snapshot of it,
// so that no older copy of the state stays in the snapshots family (used after an erase:
// older snapshots still hold the hashes and names the erase removed from the state).
// kNotFound for a stream without events; the replay's or RocksDB's failure otherwise.
// RocksDB drops the deleted bytes from its files only when it compacts them.
Status replace_snapshots(const Journal& journal, SnapshotStore& store, Database& database,
                         const std::string& stream, int64_t now_ms);

}  // namespace gh::ctl
