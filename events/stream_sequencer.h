// Applies each event of a stream to a projection once and in version order, whichever of
// several sources hands it over first: in cluster mode this node's durable observer (its own
// writes, before they are answered) and the log follower (every node's writes, a poll later)
// both carry the system streams' events (docs/cluster.md, "What each node keeps in memory").
//
// For a started stream, an event at or below the version applied is dropped (already held);
// the next version is applied; one further ahead (this node's own write, decided on a state
// read from the log, before the follower brought the events in between) first reads and
// applies the missing versions from the journal. Events of streams not started pass through
// as they come.
//
// Thread-safety: every method is safe from any thread; `apply` runs under the sequencer's
// lock, one event at a time, and must not call back into it.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "events/journal.h"

namespace gh {

class StreamSequencer {
 public:
  using Apply = std::function<void(const Envelope&)>;

  // `journal` (outliving the sequencer) fills gaps.
  StreamSequencer(const Journal& journal, Apply apply);

  // The projection holds `stream` up to `version` (0: nothing of it).
  void start_at(const std::string& stream, uint64_t version);

  // Applies `e` and any version missing before it; the journal's error when a gap cannot be
  // read (`e` is then not applied: a later delivery or gap read brings it).
  Status deliver(const Envelope& e);

  // The version of `stream` applied, 0 when not started.
  uint64_t applied(const std::string& stream) const;

 private:
  const Journal& journal_;
  const Apply apply_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> applied_;
};

}  // namespace gh
