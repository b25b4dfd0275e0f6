// What the cluster chaos campaign checks in the shared log (scripts/cluster-chaos,
// docs/cluster.md "Chaos"), read with Journal::read_all in position order:
//   - every stream's versions are contiguous: 1, 2, 3, ... in position order;
//   - per shard, the lease epoch of the appends never decreases in position order (fenced
//     streams only: system/* is written by any node at epoch 0); a decrease is a write by a
//     node whose lease had been taken over: a zombie writer;
//   - no event of a fenced stream carries epoch 0 (written without a lease).
// Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "events/journal.h"

namespace gh::testing {

struct LogFigures {
  uint64_t events = 0;
  uint64_t streams = 0;
  uint64_t fenced_events = 0;
  uint64_t shards_written = 0;
  uint64_t highest_epoch = 0;
  uint64_t version_gaps = 0;          // an event whose version is not the previous + 1
  uint64_t epoch_regressions = 0;     // an append at a lower epoch than an earlier one of its shard
  uint64_t unfenced_writes = 0;       // an event of a fenced stream at epoch 0
  std::vector<std::string> problems;  // the first few, described
  bool clean() const { return version_gaps == 0 && epoch_regressions == 0 && unfenced_writes == 0; }
};

// Reads the whole log of `journal` and checks it; `each`, when given, sees every event too.
// An error when the log cannot be read (then the figures are not complete).
Status check_log(const Journal& journal, LogFigures& figures,
                 const std::function<void(const Envelope&)>& each = {});

}  // namespace gh::testing
