// The scripted actions in the journal: reading the table ("system/actions") and the recorded
// invocations ("system/action-runs.<name>") back, appending to the table, and the SHA-256 an
// install records. Shared by the action runner (server) and gatehousectl, so both read and
// write the log the same way.
// Thread-safety: stateless; the journal's own rules apply.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actors/actions/action_model.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::actions {

// The current table: the replay of "system/actions"; the journal's error otherwise.
Result<State> load_table(const Journal& journal);

// The recorded invocations of action `name`, oldest first, at most the newest `limit`
// (0: all), with their excerpts read from their blobs (a run past the retention has none and
// excerpts_dropped set). kInvalidArgument for a bad name; an empty list for an action never
// called; kDataLoss when a kept excerpt blob does not decode.
Result<std::vector<Invocation>> load_invocations(const Journal& journal, const std::string& name,
                                                 size_t limit);

// The newest invocations of `name` as the failure rule needs them (at most
// Invocations::kRecent, `version` the stream's last).
Result<Invocations> load_recent_runs(const Journal& journal, const std::string& name);

// Appends `events` to "system/actions" at state.version, caused by `by`, waits until they are
// durable and applies what was written to `state`. Ok and nothing written when `events` is
// empty; the journal's error (kConflict when the table moved on) otherwise.
Status append_to_table(Journal& journal, State& state, std::vector<Envelope> events,
                       const events::Cause& by);

// SHA-256 of `text`, 32 raw bytes (what ActionInstalled records).
std::string sha256_of(const std::string& text);

}  // namespace gh::actions
