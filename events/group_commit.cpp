#include "events/group_commit.h"

#include "events/journal_support.h"

namespace gh {

using journal_support::bucket_of;

void GroupCommit::start(WriteBatch write) {
  write_ = std::move(write);
  writer_ = std::thread([this] { writer_loop(); });
}

void GroupCommit::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void GroupCommit::submit(AppendRequest request, AppendCallback done) {
  if (auto valid = journal_support::check_appendable(request); !valid.is_ok()) {
    done(std::move(valid));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(request), std::move(done), std::chrono::steady_clock::now()});
      // An idle writer needs the first append; a lingering one only the one that fills its
      // batch. Waking it for every append cost a context switch each (64 per batch).
      const bool wake = linger_target_ == 0 ? queue_.size() == 1 : queue_.size() >= linger_target_;
      if (wake) wake_.notify_one();
      return;
    }
  }
  done(unavailable("the journal is shutting down"));
}

void GroupCommit::writer_loop() {
  std::vector<QueuedAppend> batch;
  size_t previous_batch = 1;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Writers that were answered by the last batch come back one by one. Syncing as soon
      // as the first is queued splits them into two half-size batches that each pay a full
      // fsync (measured: 64 busy streams fell from 64 to 32 events per batch and lost half
      // the throughput). So under load the writer lingers, at most max_linger, until as
      // many appends are queued as the last batch held; under light load that batch was
      // small and there is no wait.
      if (queue_.size() < previous_batch && options_.max_linger.count() > 0) {
        linger_target_ = previous_batch;
        wake_.wait_until(lock, std::chrono::steady_clock::now() + options_.max_linger,
                         [&] { return stopping_ || queue_.size() >= previous_batch; });
        linger_target_ = 0;
      }
      size_t events = 0, bytes = 0;
      while (!queue_.empty() && events < options_.max_batch_events &&
             bytes < options_.max_batch_bytes) {
        auto& next = queue_.front();
        events += next.request.events.size();
        // Events count too: max_batch_bytes bounds the whole write, not only pictures.
        for (const auto& event : next.request.events) bytes += event.ByteSizeLong();
        for (const auto& blob : next.request.blobs) bytes += blob.bytes.size();
        batch.push_back(std::move(next));
        queue_.pop_front();
      }
    }
    previous_batch = batch.size();
    BatchResult result = write_(batch);
    complete(batch, result);
    batch.clear();
  }
}

void GroupCommit::complete(std::vector<QueuedAppend>& batch, BatchResult& result) {
  JournalStats& local = result.local;
  auto& outcomes = result.outcomes;
  if (!result.failure.is_ok()) {
    ++local.failures;
    for (size_t i = 0; i < batch.size(); ++i)
      if (!outcomes[i] ||
          (outcomes[i]->is_ok() && (!outcomes[i]->value().duplicate || result.repeats_in_batch[i])))
        outcomes[i] = result.failure;
    result.events_written = 0;
  } else {
    if (result.wrote) {
      ++local.batches_synced;
      local.batch_size_buckets[bucket_of(kBatchSizeBounds, double(result.events_written))]++;
    }
    for (size_t i = 0; i < batch.size(); ++i)
      if (outcomes[i]->is_ok() && !outcomes[i]->value().duplicate)
        outcomes[i]->value().events = std::move(batch[i].request.events);
  }
  local.events_appended = result.events_written;

  const auto done_at = std::chrono::steady_clock::now();
  for (const auto& pending : batch) {
    double ms = std::chrono::duration<double, std::milli>(done_at - pending.queued_at).count();
    local.append_latency_buckets[bucket_of(kAppendLatencyBoundsMs, ms)]++;
    local.append_latency_sum_ms += ms;
  }
  local.appends = batch.size();
  {
    std::lock_guard lock(stats_mutex_);
    journal_support::add_stats(stats_, local);
  }
  if (observer_ && result.events_written > 0) {
    for (const auto& outcome : outcomes) {
      if (!outcome->is_ok() || outcome->value().duplicate) continue;
      for (const auto& event : outcome->value().events) observer_(event);
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(*outcomes[i]));
}

JournalStats GroupCommit::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

}  // namespace gh
