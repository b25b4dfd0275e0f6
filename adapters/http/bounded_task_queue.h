// The worker pool of the HTTP server: a fixed number of threads and a bounded queue of
// accepted connections. httplib 0.11's own ThreadPool queues without limit; here, when the
// queue is full, enqueue() blocks httplib's accept thread, so further connections wait in
// the kernel's listen backlog instead of piling up in memory (back-pressure).
//
// Note that a keep-alive connection holds one worker until it closes or idles out
// (keep-alive timeout), so `threads` bounds the number of connections served at once.
//
// Thread-safety: enqueue() and shutdown() are called by httplib's accept thread; jobs run
// on the workers.
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
