// Pieces both journals (RocksDB and PostgreSQL) share, so that they stamp envelopes, name
// conflicts and count their work the same way. Pure functions; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/journal.h"

namespace gh::journal_support {

// Fills what the journal owns in an appended envelope: stream, version, position, time,
// command id and cause of `request`, and the shard lease epoch it is written under (0: none,
// which clears whatever the caller put there).
void stamp(Envelope& envelope, const AppendRequest& request, uint64_t version, uint64_t position,
           int64_t time_unix_ms, uint64_t lease_epoch);

// "device/d1 is at version 3, expected 1" as kConflict.
Status version_conflict(const std::string& stream, uint64_t actual, uint64_t expected);

// ok when `request` may be queued: a valid stream name, and every envelope carries an event
// (one without would be written, then refused as data loss by every reader of the stream).
// kInvalidArgument otherwise.
Status check_appendable(const AppendRequest& request);

// "device/d1 version 7"
std::string describe(std::string_view stream, uint64_t version);

// Decodes one stored event and checks it is where its key or row says it is: kDataLoss
// naming stream and version when it does not decode, sits elsewhere or has no event.
Result<Envelope> decode_stored(std::string_view stream, uint64_t version, std::string_view bytes);

// The histogram bucket of `value` for `bounds` (one past the last for larger values).
template <size_t N>
size_t bucket_of(const std::array<double, N>& bounds, double value) {
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  return i;
}

// Adds the counters of one batch to the totals.
void add_stats(JournalStats& total, const JournalStats& batch);

}  // namespace gh::journal_support
