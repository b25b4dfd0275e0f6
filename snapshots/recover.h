// recover(): an entity's state from its latest usable snapshot plus the events after it.
//
// Rules (DESIGN.md "Event sourcing rules"):
// - Snapshots are tried newest first; one that is corrupt, that `decode` rejects, or whose
//   version is beyond the log's last version is skipped (and the reason recorded in
//   `skipped`), falling back to the older one, then to a full replay from version 1.
// - A snapshot beyond the log's end means events were lost (a restored or damaged log): it
//   is ignored, never trusted, and `skipped` says so; run `gatehousectl verify`.
// - Journal errors (kDataLoss for an undecodable event or a version gap) are returned as
//   they are: the caller must refuse the stream rather than serve wrong state.
// - Failures of the snapshot store itself are not fatal: snapshots are a cache.
//
// Header-only template. Thread-safety: as the journal and store (any thread); the functions
// passed in must be safe to call on the calling thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/journal.h"
#include "events/status.h"
#include "snapshots/snapshot.pb.h"
#include "snapshots/snapshot_store.h"

namespace gh {

template <class State>
struct Recovered {
  State state;
  uint64_t version = 0;              // the stream version `state` includes (0: empty stream)
  uint64_t snapshot_version = 0;     // the snapshot it started from; 0 = full replay
  uint64_t replayed = 0;             // events applied on top of the snapshot (or empty state)
  std::vector<std::string> skipped;  // why snapshots were not used, newest first
};

// `decode(const snapshots::Snapshot&) -> std::optional<State>`,
// `apply(State&, const Envelope&)` (total, no I/O), `make_empty() -> State`.
// Returns the recovered state, or the journal's error (kDataLoss names stream and version).
template <class State, class Decode, class Apply, class MakeEmpty>
Result<Recovered<State>> recover(const Journal& journal, const SnapshotStore& store,
                                 const std::string& stream, Decode&& decode, Apply&& apply,
                                 MakeEmpty&& make_empty) {
  auto last = journal.stream_version(stream);
  if (!last) return last.status();

  Recovered<State> out{make_empty(), 0, 0, 0, {}};
  auto listing = store.list(stream);
  if (!listing) {
    out.skipped.push_back("snapshots unreadable (" + listing.status().to_string() + ")");
  } else {
    for (const auto& bad : listing->corrupt)
      out.skipped.push_back("snapshot " + std::to_string(bad.version) + ": " + bad.reason);
    for (const auto& snapshot : listing->valid) {
      const auto at = std::to_string(snapshot.version());
      if (snapshot.version() > *last) {
        out.skipped.push_back("snapshot " + at + " is beyond the log's last version " +
                              std::to_string(*last) + ": events were lost, run verify");
        continue;
      }
      std::optional<State> state = decode(snapshot);
      if (!state) {
        out.skipped.push_back("snapshot " + at + ": rejected by the decoder");
        continue;
      }
      out.state = std::move(*state);
      out.version = out.snapshot_version = snapshot.version();
      break;
    }
  }

  auto tail = journal.read_stream(stream, out.version + 1);
  if (!tail) return tail.status();
  for (const auto& envelope : *tail) {
    apply(out.state, envelope);
    out.version = envelope.version();
    ++out.replayed;
  }
  return out;
}

}  // namespace gh
