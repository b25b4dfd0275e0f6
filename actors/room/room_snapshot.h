// Conversion between the room State and its snapshot message. Pure; thread-compatible.
#pragma once

#include <optional>

#include "actors/room/room_model.h"
#include "snapshots/snapshot.pb.h"

namespace gh::room {

// A snapshot of `state` for stream room/<name> at state.version.
snapshots::Snapshot to_snapshot(const State& state, int64_t now_ms);

// The state in `snapshot` keeping at most `max_messages` of its newest messages (the
// configuration may have shrunk since it was written), or nullopt when it is not a room
// snapshot or is inconsistent (version or name differ from the snapshot's, message ids not
// increasing or not below next_message_id).
std::optional<State> from_snapshot(const snapshots::Snapshot& snapshot,
                                   size_t max_messages = kDefaultMaxMessages);

}  // namespace gh::room
