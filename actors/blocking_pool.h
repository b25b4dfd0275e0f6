// A small pool of threads for work that may block (RocksDB reads during recovery, snapshot
// writes), so it never runs on a CAF scheduler thread. Tasks run in submission order per
// thread; submit() never blocks and fails when the queue is full.
// Thread-safety: submit() is safe from any thread. Destruction drains queued tasks.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gh {

class BlockingPool {
 public:
  BlockingPool(size_t threads, size_t max_queue);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Queues `task`; false when the queue is full or the pool is stopping.
  bool submit(std::function<void()> task);

  // Runs the queued tasks on the calling thread, in order, including any they queue;
  // returns how many ran. For a pool of 0 threads in deterministic tests.
  size_t run_queued();

 private:
  void run();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  size_t max_queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gh
