// Conversion between the user State and its snapshot message. Pure; thread-compatible.
#pragma once

#include <optional>

#include "actors/user/user_model.h"
#include "snapshots/snapshot.pb.h"

namespace gh::user {

// A snapshot of `state` for stream user/<name> at state.version.
snapshots::Snapshot to_snapshot(const State& state, int64_t now_ms);

// The state in `snapshot`, or nullopt when it is not a user snapshot or is inconsistent (its
// state's version or name differs from the snapshot's).
std::optional<State> from_snapshot(const snapshots::Snapshot& snapshot);

}  // namespace gh::user
