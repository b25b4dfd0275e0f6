// Conversion between the device State and its snapshot message. Pure; thread-compatible.
#pragma once

#include <optional>

#include "actors/device/device_model.h"
#include "snapshots/snapshot.pb.h"

namespace gh::device {

// A snapshot of `state` for stream device/<id> at state.version.
snapshots::Snapshot to_snapshot(const State& state, int64_t now_ms);

// The state in `snapshot`, or nullopt when it is not a device snapshot, is inconsistent
// (its state's version differs from the snapshot's version), or predates schema v4 (no
// device_format: it lacks the kept pictures and the unexpected report), v10 (no alerts_format)
// or v8 (no drift_format: it cannot tell since when the door differs); the stream is then
// replayed instead.
std::optional<State> from_snapshot(const snapshots::Snapshot& snapshot);

}  // namespace gh::device
