// gatehousectl state: an entity's state rebuilt from its events by the same pure model the
// server uses (actors/*_model.h), optionally as it was at a version or at a time.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "events/journal.h"
#include "events/status.h"

namespace gh::ctl {

struct StateQuery {
  std::optional<uint64_t> at_version;  // include events up to this version
  std::optional<int64_t> at_time_ms;   // include events appended at or before this time
  int64_t now_ms = 0;                  // marks expired sessions when no time is asked; 0: never
  size_t newest_messages = 20;         // how many of a room's newest messages are shown
};

// The state of `stream` (device/, user/, room/ or system/tokens) as text lines
// ("name: value"), starting with the version it includes. Users are shown without any hash,
// session hash or security question text; rooms with their newest messages (authors of
// erased users as "[erased]") and who liked them. kInvalidArgument for a bad stream name; kNotFound
// for a stream with no events (at that point); kFailedPrecondition for kinds without a model in
// gatehousectl yet; the journal's kDataLoss when the stream cannot be rebuilt.
Result<std::string> render_state(const Journal& journal, const std::string& stream,
                                 const StateQuery& query);

}  // namespace gh::ctl
