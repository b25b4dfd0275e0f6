#include "actors/actions/sandbox_pool.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "actors/actions/sandbox_process.h"

namespace gh::actions {

SandboxPool::SandboxPool(size_t threads, size_t max_queue, std::string helper)
    : helper_(helper.empty() ? default_helper_path() : std::move(helper)),
      max_queue_(max_queue),
      stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { work(); });
}

SandboxPool::~SandboxPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof one);  // stays readable
  wake_.notify_all();
  for (auto& t : threads_) t.join();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Status SandboxPool::submit(std::string source, Message message, Host host, SandboxLimits limits,
                           std::function<void(RunResult)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return unavailable("the action sandbox is stopping");
    if (queue_.size() >= max_queue_)
      return unavailable("too many action calls waiting (" + std::to_string(max_queue_) + ")");
    queue_.push_back(
        Call{std::move(source), std::move(message), std::move(host), limits, std::move(done)});
  }
  wake_.notify_one();
  return Status::ok();
}

size_t SandboxPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void SandboxPool::work() {
  ProcessSandbox sandbox(helper_);  // this thread's own child, started on its first call
  for (;;) {
    Call call;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to answer
      call = std::move(queue_.front());
      queue_.pop_front();
    }
    // Once stopping, the stop descriptor is readable: run() answers not_run at once.
    call.done(sandbox.run(call.source, call.message, call.host, call.limits, stop_fd_));
  }
}

}  // namespace gh::actions
