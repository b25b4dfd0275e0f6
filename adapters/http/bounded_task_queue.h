// The worker pool of the HTTP server: a fixed number of threads and a bounded queue of
// jobs (httplib 0.11's own ThreadPool queues without limit). When the queue is full,
// enqueue() blocks its caller. GatedServer queues one job per request whose head has
// arrived and sizes the queue to its connection limit, so its gate never blocks here; a
// connection holds a worker only while one of its requests is served.
//
// Thread-safety: enqueue() from any thread, shutdown() from the owner; jobs run on the
// workers.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gh::http {

class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  // `threads` >= 1 workers, at most `max_queued` (>= 1) jobs waiting.
  BoundedTaskQueue(size_t threads, size_t max_queued);
  ~BoundedTaskQueue() override;

  void enqueue(std::function<void()> job) override;
  // Runs every queued job, then joins the workers. Idempotent.
  void shutdown() override;

 private:
  void work();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable has_job_;
  std::condition_variable has_room_;
  std::deque<std::function<void()>> jobs_;
  bool shutting_down_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace gh::http
