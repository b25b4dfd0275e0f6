// The connection gate: where every accepted connection of the HTTP server waits until a
// whole request head has arrived, so that slow, idle or flooding clients hold no worker
// thread. One epoll thread watches every waiting socket; it peeks (MSG_PEEK, nothing is
// consumed) and hands a connection to `ready` (the worker pool) once its head is complete.
// After a request, a worker gives a keep-alive connection back here to wait for the next.
//
// Enforced here, each answered with a JSON error, `Connection: close`, and counted in
// RefusalCounters:
// - the head within head.max_bytes and head.max_headers lines: else 431;
// - the head within header_timeout of the connection's first byte (of accept for a new one):
//   else 408 (a connection that sent nothing is closed without an answer);
// - at most max_connections_per_source connections per peer address (429) and
//   max_connections in all (503), checked at accept.
// An idle keep-alive connection is closed after keep_alive_timeout. A refused connection
// is half-closed and its input discarded for up to `linger` before the close, so the client
// reads the answer instead of a reset.
//
// Thread-safety: admit() from the accepting thread, give_back() and finish() from workers,
// stop() from the owner; `ready` is called on the gate's thread or a worker's, never with a
// lock held.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "adapters/http/connection.h"
#include "adapters/http/connection_limits.h"
#include "adapters/http/refusal_counters.h"
#include "adapters/http/request_head.h"
#include "events/status.h"

namespace gh::http {

struct GateOptions {
  HeadLimits head;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::chrono::milliseconds linger{2000};
  size_t max_connections = 1024;
  size_t max_connections_per_source = 64;
};

class ConnectionGate {
 public:
  using Clock = std::chrono::steady_clock;
  using Ready = std::function<void(std::unique_ptr<Connection>)>;

  // `limits` counts the connections (options.max_connections* are not read again).
  ConnectionGate(GateOptions options, std::shared_ptr<ConnectionLimits> limits,
                 RefusalCounters& refusals, Ready ready);
  ~ConnectionGate();  // stop()
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // Starts the epoll thread. kInternal when epoll cannot be set up.
  Status start();
  // Takes an accepted socket: refused at once over a connection limit, else watched.
  void admit(int fd);
  // Takes a connection whose request was answered and that stays open: it waits here for
  // its next request (at once to `ready` when the next head is already in `pending`).
  void give_back(std::unique_ptr<Connection> connection);
  // Takes a connection to close: closed now, or after lingering when input is unread.
  void finish(std::unique_ptr<Connection> connection);
  // Ends the thread and closes every connection waiting here; later calls close what they
  // are given. Idempotent.
  void stop();
  // Connections holding a slot (waiting here or being served).
  size_t open_connections() const { return limits_->open(); }

 private:
  enum class Wait { kFirstByte, kHead, kIdle, kLinger };
  struct Entry {
    std::unique_ptr<Connection> connection;
    Wait wait = Wait::kFirstByte;
    Clock::time_point deadline;
  };
  using Entries = std::unordered_map<int, Entry>;

  void run();
  void on_readable(int fd);
  void expire(Clock::time_point now);
  // The following need mutex_.
  Entries::iterator watch_locked(std::unique_ptr<Connection> connection, Wait wait,
                                 Clock::time_point deadline);
  Entries::iterator erase_locked(Entries::iterator it);
  // Answers `status`, half-closes and lingers; may erase the entry.
  void refuse_locked(Entries::iterator it, int status, Refusal reason, const Status& error,
                     int retry_after_s = 0);
  // Reads and discards what a lingering connection sent; erases it at its end of input.
  void drain_locked(Entries::iterator it);

  const GateOptions options_;
  RefusalCounters& refusals_;
  const Ready ready_;
  const std::shared_ptr<ConnectionLimits> limits_;
  mutable std::mutex mutex_;
  Entries entries_;
  size_t refused_lingering_ = 0;  // lingering connections refused at accept (no slot)
  bool stopped_ = false;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::string scratch_;  // peek buffer of the gate's thread
  std::thread thread_;
};

}  // namespace gh::http
