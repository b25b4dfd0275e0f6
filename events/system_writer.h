// The one synchronous writer for gatehouse's own streams (tokens, credentials, the action
// table) and the operator tool's verbs: append `events` to `stream` at `expected_version`
// as `by`, and wait until they are durable. Never call it on a CAF scheduler thread.
// Returns the journal's AppendResult (the events as written), or its error: kConflict when
// `expected_version` is stale, the RocksDB failure otherwise.
// Thread-safety: as Journal::append_and_wait.
#pragma once

#include <string_view>
#include <vector>

#include "events/journal.h"

namespace gh {

inline Result<AppendResult> write_and_wait(Journal& journal, std::string_view stream,
                                           uint64_t expected_version, const events::Cause& by,
                                           std::vector<Envelope> events) {
  AppendRequest request;
  request.stream = std::string(stream);
  request.expected_version = expected_version;
  request.cause = by;
  request.events = std::move(events);
  return journal.append_and_wait(std::move(request));
}

}  // namespace gh
