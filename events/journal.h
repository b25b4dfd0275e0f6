// The journal: gatehouse's only source of truth, an append-only log of Envelopes.
//
// Contract
// - A stream ("device/d1") is one entity's history; versions are 1, 2, ... without gaps.
// - append() checks `expected_version` (the stream's current last version, 0 for a new
//   stream) and fails with kConflict when it is stale: never a lost update.
// - A non-empty `command_id` makes append() idempotent per stream: a repeat returns the
//   original AppendResult with `duplicate = true` and writes nothing.
// - The callback runs only after the events are durable (fsync'd); it runs on the
//   journal's writer thread and must not block.
// - Corrupt or undecodable records are reported as kDataLoss naming stream and version.
// - Blobs are attachments, not history: an append may write blobs (`blobs`) and delete
//   blobs (`delete_blobs`) in the same atomic, fsync'd write as its events, so a blob is
//   never deleted without the event that records why, and never outlives a failed append's
//   event. Deleting an absent key is not an error. Events themselves are never deleted.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "events/event.pb.h"
#include "events/status.h"

namespace gh {

using events::Envelope;

// A blob written in the same batch as the events (for example a picture), addressed by key.
struct Blob {
  std::string key;
  std::string bytes;
};

struct AppendRequest {
  std::string stream;
  uint64_t expected_version = 0;
  std::string command_id;
  events::Cause cause;
  // Only the `event` oneof of each envelope is read; the journal fills the rest.
  std::vector<Envelope> events;
  std::vector<Blob> blobs;
  // Blob keys to delete, in the same write as the events, after `blobs` are written (a key
  // in both ends up deleted). Only done if the append succeeds.
  std::vector<std::string> delete_blobs;
  int64_t time_unix_ms = 0;  // 0: the journal's clock
};

struct AppendResult {
  uint64_t first_version = 0;    // version of the first event written (or originally written)
  uint64_t last_version = 0;     // == expected_version when no events were given
  uint64_t last_position = 0;    // global position of the last event
  bool duplicate = false;        // answered from the command-id record, nothing written
  std::vector<Envelope> events;  // the envelopes as written (empty for a duplicate)
};

using AppendCallback = std::function<void(Result<AppendResult>)>;

// How a journal gathers appends into one durable write (group commit); both journals
// take these.
struct JournalOptions {
  size_t max_batch_events = 4096;          // stop gathering a batch at this many events
  size_t max_batch_bytes = 16 << 20;       // ... or this many bytes
  size_t version_cache_entries = 1 << 20;  // streams whose last version is kept in memory
  // Under load, how long the writer may wait for a batch to fill up to the size of the
  // previous one before syncing (0: never wait). See GroupCommit (events/group_commit.h).
  std::chrono::microseconds max_linger{300};
  std::function<int64_t()> clock;  // unix ms; defaults to the system clock
  // Whether a batch is fsync'd before its appends are answered. Always true in gatehouse;
  // false only for the power-loss campaign's negative control, which must then lose
  // acknowledged appends (tests/events/power_loss_test.cpp).
  bool sync = true;
};

// Upper bounds (milliseconds) of the append latency histogram buckets; one more bucket
// counts everything above the last bound.
inline constexpr std::array<double, 12> kAppendLatencyBoundsMs = {0.1, 0.25, 0.5, 1,   2.5, 5,
                                                                  10,  25,   50,  100, 250, 1000};
// Upper bounds (events) of the synced batch size histogram buckets.
inline constexpr std::array<double, 8> kBatchSizeBounds = {1, 2, 4, 8, 16, 64, 256, 1024};
// Upper bounds (milliseconds) of the histogram of one synced write (RocksDB Write with
// sync=true: the WAL's fsync plus the memtable insert).
inline constexpr std::array<double, 11> kSyncLatencyBoundsMs = {0.1, 0.25, 0.5, 1,   2.5, 5,
                                                                10,  25,   50,  100, 1000};

// A copy of the journal's counters, for /metrics and benchmarks.
struct JournalStats {
  uint64_t events_appended = 0;
  uint64_t batches_synced = 0;
  uint64_t appends = 0;  // append() calls answered, whatever the outcome
  uint64_t conflicts = 0;
  uint64_t duplicates = 0;
  uint64_t failures = 0;  // RocksDB write failures
  std::array<uint64_t, kAppendLatencyBoundsMs.size() + 1> append_latency_buckets{};
  double append_latency_sum_ms = 0;
  std::array<uint64_t, kBatchSizeBounds.size() + 1> batch_size_buckets{};
  std::array<uint64_t, kSyncLatencyBoundsMs.size() + 1> sync_latency_buckets{};
  double sync_latency_sum_ms = 0;  // over every synced write, failed ones included
};

class Journal {
 public:
  virtual ~Journal() = default;

  // Queues the append; `done` is called once, after fsync or with the failure.
  virtual void append(AppendRequest request, AppendCallback done) = 0;

  // append() and wait. Never call from a CAF scheduler thread.
  Result<AppendResult> append_and_wait(AppendRequest request);

  // Events of `stream` with version >= from_version, at most `max` of them, in order.
  // kDataLoss when a record fails to decode or versions have a gap.
  virtual Result<std::vector<Envelope>> read_stream(const std::string& stream,
                                                    uint64_t from_version,
                                                    size_t max = SIZE_MAX) const = 0;

  // Calls `visit` for every event with position >= from_position, in position order,
  // until it returns false. kDataLoss names the first bad record.
  virtual Status read_all(uint64_t from_position,
                          const std::function<bool(const Envelope&)>& visit) const = 0;

  // As read_all, but only the events of streams whose name starts with `prefix`; returns the
  // position read up to: every event up to it was looked at, visited or not (more than the
  // last visited when the rest did not match). A journal that can filter where it stores the
  // events does (PostgreSQL, by an index); this default reads everything and filters here.
  virtual Result<uint64_t> read_all_with_prefix(
      uint64_t from_position, const std::string& prefix,
      const std::function<bool(const Envelope&)>& visit) const;

  // The stream's last version, 0 if it has none.
  virtual Result<uint64_t> stream_version(const std::string& stream) const = 0;

  // Calls `visit(stream, last_version)` for every stream whose name starts with `prefix`.
  virtual Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const = 0;

  // The bytes of a blob written with an append; kNotFound if absent or deleted since.
  virtual Result<std::string> read_blob(const std::string& key) const = 0;

  // The original result of `command_id` on `stream`, kNotFound if never seen.
  virtual Result<AppendResult> find_command(const std::string& stream,
                                            const std::string& command_id) const = 0;

  // Position of the last event in the log, 0 when empty.
  virtual uint64_t last_position() const = 0;

  virtual JournalStats stats() const = 0;
};

}  // namespace gh
