#include "adapters/http/bounded_task_queue.h"

#include <algorithm>

namespace gh::http {

BoundedTaskQueue::BoundedTaskQueue(size_t threads, size_t max_queued)
    : max_queued_(std::max<size_t>(1, max_queued)) {
  threads = std::max<size_t>(1, threads);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

void BoundedTaskQueue::enqueue(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  has_room_.wait(lock, [this] { return jobs_.size() < max_queued_ || shutting_down_; });
  // A job always runs, even after shutdown began: it owns an accepted socket that only the
  // job closes.
  jobs_.push_back(std::move(job));
  lock.unlock();
  has_job_.notify_one();
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  has_job_.notify_all();
  has_room_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void BoundedTaskQueue::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      has_job_.wait(lock, [this] { return !jobs_.empty() || shutting_down_; });
      if (jobs_.empty()) return;  // shutting down with nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    has_room_.notify_one();
    job();
  }
}

}  // namespace gh::http
