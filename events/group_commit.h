// Group commit, the part both journals (RocksDB and PostgreSQL) share: a queue of appends, one
// writer thread that gathers them into batches, the failure rule, the counters, the durable
// observer and the answers. A journal gives only the one thing that differs, "write this
// batch" (a RocksDB WriteBatch with sync=true, or one PostgreSQL transaction).
//
// - Batching: the writer takes every queued append, up to JournalOptions::max_batch_events
//   events or max_batch_bytes bytes; under load it lingers (at most max_linger) until as many
//   appends are queued as the last batch held (see writer_loop() for why).
// - Completion: after the batch is written, the observer sees every written event in
//   position order, then every append is answered, in queue order, exactly once.
// - Failure rule: when the write fails, nothing of the batch is durable: every append that
//   would have written (or repeated a command of this same batch) gets the failure;
//   duplicates of earlier batches, conflicts and other per-append refusals keep their
//   answers.
// - Shutdown: submit() then fails with kUnavailable; queued appends are still written.
//
// Thread-safety: submit(), stats() and shutdown() are safe from any thread; the write
// function and the observer run on the writer thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "events/journal.h"

namespace gh {

// One append waiting in the queue or in a batch.
struct QueuedAppend {
  AppendRequest request;
  AppendCallback done;
  std::chrono::steady_clock::time_point queued_at;
};

// What the backend's write of one batch decided, one outcome per append of the batch.
struct BatchResult {
  // Set for every append: its result (a write, a duplicate) or its refusal. An ok,
  // non-duplicate result's events are filled in from the request by GroupCommit.
  std::vector<std::optional<Result<AppendResult>>> outcomes;
  // Answered from a command of this same batch: only true if the batch is written.
  std::vector<bool> repeats_in_batch;
  uint64_t events_written = 0;
  bool wrote = false;  // a durable write happened (false when nothing needed writing)
  Status failure;      // the write failed: nothing of this batch is durable
  JournalStats local;  // what the backend counted: conflicts, duplicates, sync latency

  explicit BatchResult(size_t appends) : outcomes(appends), repeats_in_batch(appends, false) {}
};

class GroupCommit {
 public:
  using WriteBatch = std::function<BatchResult(std::vector<QueuedAppend>&)>;

  explicit GroupCommit(const JournalOptions& options) : options_(options) {}
  ~GroupCommit() { shutdown(); }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Starts the writer thread; `write` is called with each batch. Without start() (a
  // read-only store) nothing is written and submit() queues nothing useful: do not submit.
  void start(WriteBatch write);

  // Checks the request (journal_support::check_appendable) and queues it; `done` is called
  // once: after the batch holding it is durable, with the refusal, or with kUnavailable
  // when shutting down.
  void submit(AppendRequest request, AppendCallback done);

  // Stops accepting appends and waits until the queued ones are written and answered.
  void shutdown();

  JournalStats stats() const;

  // See RocksdbJournal::set_durable_observer. Set before the first append.
  void set_durable_observer(std::function<void(const Envelope&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  void writer_loop();
  // Applies the failure rule and the counters to `result`, tells the observer, answers.
  void complete(std::vector<QueuedAppend>& batch, BatchResult& result);

  const JournalOptions options_;
  WriteBatch write_;
  std::function<void(const Envelope&)> observer_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<QueuedAppend> queue_;
  bool stopping_ = false;
  // While the writer lingers, the queue size that ends the wait; 0 otherwise. submit()
  // wakes the writer only when it has something to do, not on every append.
  size_t linger_target_ = 0;

  mutable std::mutex stats_mutex_;
  JournalStats stats_;
  std::thread writer_;
};

}  // namespace gh
