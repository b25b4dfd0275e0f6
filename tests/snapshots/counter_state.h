// A tiny test-only entity for the generic snapshot code: a counter folded from events, kept
// in a DeviceState snapshot (its `strangers_seen` and `version` fields) so no test schema is
// needed. Pure; thread-compatible.
#pragma once

#include <optional>

#include "events/event.pb.h"
#include "snapshots/snapshot.pb.h"

namespace gh::testing {

struct Counter {
  uint64_t sum = 0;      // sum of LockStateReported states
  uint64_t events = 0;   // events folded
  uint64_t version = 0;  // last version folded
  friend bool operator==(const Counter&, const Counter&) = default;
};

inline void apply_counter(Counter& counter, const events::Envelope& envelope) {
  counter.sum = counter.sum * 3 + uint64_t(envelope.lock_state_reported().state());
  ++counter.events;
  counter.version = envelope.version();
}

inline snapshots::Snapshot counter_snapshot(const std::string& stream, const Counter& counter) {
  snapshots::Snapshot snapshot;
  snapshot.set_stream(stream);
  snapshot.set_version(counter.version);
  snapshot.set_taken_at_unix_ms(1);
  snapshot.mutable_device()->set_strangers_seen(counter.sum);
  snapshot.mutable_device()->set_last_seen_ms(int64_t(counter.events));
  snapshot.mutable_device()->set_version(counter.version);
  return snapshot;
}

inline std::optional<Counter> decode_counter(const snapshots::Snapshot& snapshot) {
  if (!snapshot.has_device() || snapshot.device().version() != snapshot.version())
    return std::nullopt;
  return Counter{snapshot.device().strangers_seen(), uint64_t(snapshot.device().last_seen_ms()),
                 snapshot.device().version()};
}

}  // namespace gh::testing
