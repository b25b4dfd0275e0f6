// gatehousectl snapshot: writes a snapshot of streams now, from a full replay (the truth),
// so that the next recovery starts there. Needs the store open read-write (server stopped).
// Only device/ streams have a snapshot model in this build; other kinds are skipped.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "events/journal.h"
#include "events/status.h"
#include "snapshots/snapshot_store.h"

namespace gh::ctl {

struct SnapshotRun {
  uint64_t written = 0;
  std::vector<std::string> skipped;  // streams without a snapshot model, or empty
};

// Snapshots each of `streams` at its current version, stamped `now_ms`. Stops at the first
// failure (kDataLoss from a stream that cannot be replayed names it).
Result<SnapshotRun> snapshot_streams(const Journal& journal, SnapshotStore& store,
                                     const std::vector<std::string>& streams, int64_t now_ms,
                                     std::ostream* progress);

}  // namespace gh::ctl
