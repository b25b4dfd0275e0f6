// Decoding one stored snapshot (the value under keys::versioned(stream, version) in the
// snapshots family), so that a corrupt one is named and skipped, never trusted. Shared by
// SnapshotStore::list() and the fuzz targets (tests/fuzz). Pure; thread-safe; never throws.
#pragma once

#include <cstdint>
#include <string_view>

#include "events/status.h"
#include "snapshots/snapshot.pb.h"

namespace gh {

// The snapshot in `value`, stored under (`stream`, `key_version`). kDataLoss whose message
// is the reason otherwise: "does not decode", "stored under <stream> snapshot 7 but says
// <other> snapshot 9", "holds no state".
Result<snapshots::Snapshot> decode_snapshot(std::string_view stream, uint64_t key_version,
                                            std::string_view value);

}  // namespace gh
