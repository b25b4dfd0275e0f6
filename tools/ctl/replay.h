// Full replays of a stream with the server's own pure models (device, user, room), read in
// pages so that a long stream costs one page of memory plus the state. Shared by state,
// snapshot, verify and the chat verbs. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include "actors/room/room_model.h"
#include "events/journal.h"
#include "events/status.h"
#include "snapshots/snapshot.pb.h"

namespace gh::ctl {

// The kinds gatehousectl has a state and snapshot model for.
enum class ModelKind { kNone, kDevice, kUser, kRoom };

// The kind of `stream` by its prefix ("device/", "user/", "room/"); kNone for the others.
ModelKind model_kind(std::string_view stream);

// The part after the kind: "d1" for "device/d1".
std::string_view entity_id(std::string_view stream);

// Calls `visit` for every event of `stream` with version >= `from`, in order, until it
// returns false; reads kPage events at a time. The journal's error (kDataLoss naming stream
// and version) ends the walk after the events before the damage were visited.
Status for_each_event(const Journal& journal, const std::string& stream, uint64_t from,
                      const std::function<bool(const Envelope&)>& visit);

struct ReplayedSnapshot {
  snapshots::Snapshot snapshot;  // the model's own snapshot of the replayed state
  uint64_t last_version = 0;     // the last version replayed (0: the stream has no events)
};

// The snapshot the model makes of `stream` replayed from version 1 up to `up_to` (the whole
// stream by default), stamped `now_ms`. Rooms keep `max_messages` messages as the server's
// chat configuration does. kFailedPrecondition for a kind without a model; the journal's
// error otherwise.
Result<ReplayedSnapshot> replay_snapshot(const Journal& journal, const std::string& stream,
                                         int64_t now_ms,
                                         uint64_t up_to = std::numeric_limits<uint64_t>::max(),
                                         size_t max_messages = room::kDefaultMaxMessages);

}  // namespace gh::ctl
