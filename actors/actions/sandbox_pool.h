// Threads of our own that run scripted-action calls, each through its own sandbox process
// (sandbox_process.h) under the call's wall-clock limit, with a bounded queue of waiting
// calls. Never a CAF scheduler thread, never the caller's.
//
// A call past its limit is killed with its process and answered at once; the thread starts
// a fresh process for its next call. Stopping (the destructor) cancels the calls in flight
// (their processes are killed) and answers every queued call with RunResult::not_run, so it
// returns promptly whatever the scripts do.
//
// Thread-safety: submit() and queued() are safe from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/actions/lua_sandbox.h"
#include "events/status.h"

namespace gh::actions {

class SandboxPool {
 public:
  // `helper`: gatehouse-lua-sandbox's path; empty: default_helper_path().
  SandboxPool(size_t threads, size_t max_queue, std::string helper = "");
  ~SandboxPool();  // cancels what runs, answers what waits (not_run), then joins
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // Queues the call of handle(message) in `source`; `done` is called once, on a pool thread,
  // with the result. kUnavailable (and `done` is not called) when the queue is full or the
  // pool stops.
  Status submit(std::string source, Message message, Host host, SandboxLimits limits,
                std::function<void(RunResult)> done);

  size_t queued() const;

 private:
  struct Call {
    std::string source;
    Message message;
    Host host;
    SandboxLimits limits;
    std::function<void(RunResult)> done;
  };
  void work();

  const std::string helper_;
  const size_t max_queue_;
  int stop_fd_ = -1;  // an eventfd, readable once the pool stops: cancels calls in flight
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Call> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gh::actions
