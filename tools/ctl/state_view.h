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
};

// The state of `stream` as text lines ("name: value"), starting with the version it
// includes. kInvalidArgument for a bad stream name; kNotFound for a stream with no events
// (at that point); kFailedPrecondition for kinds without a model in gatehousectl yet;
// the journal's kDataLoss when the stream cannot be rebuilt.
Result<std::string> render_state(const Journal& journal, const std::string& stream,
                                 const StateQuery& query);

}  // namespace gh::ctl
