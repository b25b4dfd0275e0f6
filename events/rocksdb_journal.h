// The Journal on RocksDB with explicit group commit.
//
// One writer thread takes every queued append, checks each one's expected version and
// command id, and writes all that pass in a single WriteBatch with sync=true; callbacks
// run after that write returns. RocksDB alone groups concurrent sync writers only loosely
// (27k events/s from 64 threads vs 138k/s for one writer of batches of 64, measured here),
// so the batching is ours.
//
// Thread-safety: all methods are safe from any thread. Destruction waits for queued
// appends to finish (they are written, not dropped).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <unordered_map>

#include "events/database.h"
#include "events/group_commit.h"
#include "events/journal.h"

namespace gh {

class RocksdbJournal final : public Journal {
 public:
  // `database` must outlive the journal. A read-only database gives a journal whose
  // append() fails with kFailedPrecondition.
  RocksdbJournal(Database* database, JournalOptions options = {});
  ~RocksdbJournal() override;

  void append(AppendRequest request, AppendCallback done) override;
  Result<std::vector<Envelope>> read_stream(const std::string& stream, uint64_t from_version,
                                            size_t max = SIZE_MAX) const override;
  Status read_all(uint64_t from_position,
                  const std::function<bool(const Envelope&)>& visit) const override;
  Result<uint64_t> stream_version(const std::string& stream) const override;
  Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const override;
  Result<std::string> read_blob(const std::string& key) const override;
  Result<AppendResult> find_command(const std::string& stream,
                                    const std::string& command_id) const override;
  uint64_t last_position() const override { return last_position_.load(); }
  JournalStats stats() const override { return group_.stats(); }

  // Ok while writes succeed. After a failed write (a full disk, say) RocksDB refuses every
  // write, even once space is back, until it is resumed: this tries DB::Resume() and is ok
  // once it succeeds. The writer calls it before each write; GET /healthz calls it too.
  Status writable();

  // Stops accepting appends (they fail with kUnavailable) and drains the queue.
  void shutdown();

  // Called on the writer thread with every event of a batch once it is durable, in position
  // order, before any append of that batch is answered: read models (such as the broker's
  // identities) learn of an event before anyone is told it happened. Set before the first
  // append (not synchronised); the observer must not block.
  void set_durable_observer(std::function<void(const Envelope&)> observer) {
    group_.set_durable_observer(std::move(observer));
  }

 private:
  // The one WriteBatch of a group commit; runs on the writer thread.
  BatchResult write_batch(std::vector<QueuedAppend>& batch);
  Result<uint64_t> current_version(const std::string& stream,
                                   const std::unordered_map<std::string, uint64_t>& in_batch);
  uint64_t read_last_position() const;

  Database* database_;
  JournalOptions options_;
  std::atomic<uint64_t> last_position_{0};
  std::atomic<bool> write_failed_{false};  // a write failed and RocksDB was not resumed since

  // Writer-thread only.
  std::unordered_map<std::string, uint64_t> versions_;

  GroupCommit group_;  // last: its writer thread uses the members above
};

}  // namespace gh
