#include "actors/actions/sandbox_process.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "actors/actions/sandbox_wire.h"

extern char** environ;

namespace gh::actions {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kChildFd = 3;  // the helper's end of the socket, as it expects it
constexpr const char* kHelperName = "gatehouse-lua-sandbox";

std::string errno_text() { return std::strerror(errno); }

bool readable_now(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

RunResult not_run(std::string why) {
  RunResult r;
  r.outcome = Outcome::kError;
  r.not_run = true;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::string default_helper_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto next_to_us = self.parent_path() / kHelperName;
    if (::access(next_to_us.c_str(), X_OK) == 0) return next_to_us.string();
  }
#ifdef GH_LUA_SANDBOX_BUILD_PATH
  return GH_LUA_SANDBOX_BUILD_PATH;
#else
  return kHelperName;
#endif
}

Status helper_available(const std::string& helper) {
  const std::string path = helper.empty() ? default_helper_path() : helper;
  if (::access(path.c_str(), X_OK) != 0)
    return failed_precondition("the Lua sandbox helper " + path + " cannot be run (" +
                               errno_text() +
                               "); install gatehouse-lua-sandbox next to gatehouse or set "
                               "actions.sandbox-helper");
  return Status::ok();
}

// One call's traffic with the child, against one deadline.
struct ProcessSandbox::Exchange {
  enum class Wait { kReady, kTimeout, kCancelled, kClosed };
  int fd;
  int cancel_fd;
  Clock::time_point deadline;
  std::string buffer;
  bool heard = false;  // a whole frame came from the child during this call

  Wait wait(short events) const {
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Wait::kTimeout;
      pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
      const int n = ::poll(fds, cancel_fd >= 0 ? 2 : 1,
                           static_cast<int>(std::min<int64_t>(left.count(), INT_MAX)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Wait::kClosed;
      if (cancel_fd >= 0 && fds[1].revents != 0) return Wait::kCancelled;
      if (fds[0].revents != 0) return Wait::kReady;
    }
  }

  Wait send_all(std::string_view data) const {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (auto w = wait(POLLOUT); w != Wait::kReady) return w;
        continue;
      }
      return Wait::kClosed;
    }
    return Wait::kReady;
  }

  // One frame's body into `body`.
  Wait read_frame(std::string& body) {
    for (;;) {
      if (buffer.size() >= 4) {
        const uint32_t n = wire::frame_length(buffer);
        if (n > wire::kMaxFrameBytes) return Wait::kClosed;
        if (buffer.size() - 4 >= n) {
          body = buffer.substr(4, n);
          buffer.erase(0, 4 + static_cast<size_t>(n));
          heard = true;
          return Wait::kReady;
        }
      }
      if (auto w = wait(POLLIN); w != Wait::kReady) return w;
      char chunk[64 * 1024];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
        return Wait::kClosed;
      }
    }
  }
};

ProcessSandbox::ProcessSandbox(std::string helper)
    : helper_(helper.empty() ? default_helper_path() : std::move(helper)) {}

ProcessSandbox::~ProcessSandbox() { kill_child(); }

Status ProcessSandbox::spawn() {
  if (::access(helper_.c_str(), X_OK) != 0)
    return unavailable("the Lua sandbox helper " + helper_ + " cannot be run: " + errno_text());
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return unavailable("socketpair for the Lua sandbox: " + errno_text());
  // The child's end must not already be kChildFd: dup2 onto itself would keep FD_CLOEXEC.
  const int child_end = ::fcntl(sv[1], F_DUPFD_CLOEXEC, kChildFd + 1);
  ::close(sv[1]);
  if (child_end < 0) {
    ::close(sv[0]);
    return unavailable("fcntl for the Lua sandbox: " + errno_text());
  }
  // posix_spawn (clone with CLONE_VFORK in glibc): no copy of this process's page tables,
  // and only the socket survives into the helper.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end, kChildFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, kChildFd + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string parent = std::to_string(::getpid());
  char* argv[] = {const_cast<char*>(helper_.c_str()), const_cast<char*>(parent.c_str()), nullptr};
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, helper_.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(child_end);
  if (err != 0) {
    ::close(sv[0]);
    return unavailable("starting " + helper_ + ": " + std::strerror(err));
  }
  pid_ = pid;
  fd_ = sv[0];
  return Status::ok();
}

int ProcessSandbox::kill_child() {
  int status = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);  // ESRCH when it ended by itself: waitpid still has its status
    while (::waitpid(pid_, &status, 0) < 0) {
      if (errno != EINTR) {
        status = -1;
        break;
      }
    }
  }
  if (fd_ >= 0) ::close(fd_);
  pid_ = -1;
  fd_ = -1;
  return status;
}

RunResult ProcessSandbox::exchange(const std::string& request, const Host* host,
                                   const SandboxLimits& limits, int cancel_fd,
                                   std::optional<Status>* checked) {
  using Wait = Exchange::Wait;
  if (readable_now(cancel_fd)) return not_run("the action sandbox is stopping");
  const bool fresh = pid_ < 0;
  if (fresh) {
    if (auto started = spawn(); !started.is_ok()) return not_run(started.message());
  }
  Exchange ex{
      fd_, cancel_fd, Clock::now() + std::chrono::milliseconds(limits.max_call_ms), {}, false};
  // Every way out but a final reply ends the child: it is wedged, dead, or out of step.
  auto end = [&](Wait why) {
    const int status = kill_child();
    if (why == Wait::kCancelled) return not_run("the action sandbox is stopping");
    RunResult r;
    if (why == Wait::kTimeout) {
      r.outcome = Outcome::kBudgetExceeded;
      r.error = "wall-clock limit of " + std::to_string(limits.max_call_ms) + " ms exceeded";
    } else if (fresh && !ex.heard && status != -1 && WIFEXITED(status) &&
               WEXITSTATUS(status) == 127) {
      // posix_spawn's child exits 127 when exec fails: no script ran.
      return not_run("the Lua sandbox helper " + helper_ + " could not be started");
    } else {
      r.outcome = Outcome::kError;
      r.error = "the sandbox process ended during the call";
    }
    return r;
  };
  if (auto w = ex.send_all(request); w != Wait::kReady) return end(w);
  for (;;) {
    std::string body;
    if (auto w = ex.read_frame(body); w != Wait::kReady) return end(w);
    auto reply = wire::decode_reply(body);
    if (!reply) return end(Wait::kClosed);
    if (reply->result) return std::move(*reply->result);
    if (reply->checked) {
      if (checked != nullptr) *checked = std::move(*reply->checked);
      return RunResult{};
    }
    std::optional<DeviceView> device;
    if (host != nullptr && host->device) {
      try {
        device = host->device(*reply->device_query);
      } catch (...) {
        device.reset();  // as in-process: a host bug answers nil
      }
    }
    if (auto w = ex.send_all(wire::encode_device_answer(device)); w != Wait::kReady) return end(w);
  }
}

RunResult ProcessSandbox::run(const std::string& source, const Message& message, const Host& host,
                              const SandboxLimits& limits, int cancel_fd) {
  return exchange(wire::encode_run(source, message, limits), &host, limits, cancel_fd, nullptr);
}

Status ProcessSandbox::check(const std::string& source, const SandboxLimits& limits) {
  if (source.size() > limits.max_source_bytes)
    return too_large("the script has " + std::to_string(source.size()) + " bytes; at most " +
                     std::to_string(limits.max_source_bytes) + " are allowed");
  std::optional<Status> checked;
  RunResult r = exchange(wire::encode_check(source, limits), nullptr, limits, -1, &checked);
  if (checked) return *checked;
  if (r.not_run) return unavailable(r.error);
  return invalid_argument(r.error);  // the top level overran the wall clock, or killed it
}

}  // namespace gh::actions
