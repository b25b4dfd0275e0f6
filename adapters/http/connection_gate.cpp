#include "adapters/http/connection_gate.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "adapters/http/raw_response.h"

namespace gh::http {
namespace {

// How often deadlines are checked: their precision, far below any timeout we offer.
constexpr auto kTick = std::chrono::milliseconds(100);
// Bytes a lingering connection may make us read per wakeup (a flood is cut by its deadline).
constexpr size_t kDrainPerWakeup = 256 * 1024;

void send_best_effort(int fd, const std::string& bytes) {
  // Non-blocking: the answer to a refusal is small and fits the socket's send buffer; a
  // client that does not read it loses nothing the gate must wait for.
  (void)::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

ConnectionGate::ConnectionGate(GateOptions options, std::shared_ptr<ConnectionLimits> limits,
                               RefusalCounters& refusals, Ready ready)
    : options_(std::move(options)),
      refusals_(refusals),
      ready_(std::move(ready)),
      limits_(std::move(limits)) {
  scratch_.resize(std::max<size_t>(options_.head.max_bytes, kDrainPerWakeup / 16));
}

ConnectionGate::~ConnectionGate() {
  stop();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status ConnectionGate::start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return internal_error("cannot create the connection gate");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
    return internal_error("cannot watch the connection gate's wake-up");
  }
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void ConnectionGate::admit(int fd) {
  std::string source;
  int port = 0;
  if (!socket_endpoint(fd, true, source, port)) source = "unknown";
  const auto verdict = limits_->acquire(source);
  std::lock_guard lock(mutex_);
  if (verdict == ConnectionLimits::Admit::kOk) {
    auto connection = std::make_unique<Connection>(fd, std::move(source), limits_);
    if (stopped_) return;  // closed by its destructor
    watch_locked(std::move(connection), Wait::kFirstByte, Clock::now() + options_.header_timeout);
    return;
  }
  auto connection = std::make_unique<Connection>(fd, std::move(source), nullptr);
  int status = 503;
  Refusal reason = Refusal::kTotalConnections;
  Status error = unavailable("the server holds its maximum of " +
                             std::to_string(options_.max_connections) + " connections");
  if (verdict == ConnectionLimits::Admit::kSourceFull) {
    status = 429;
    reason = Refusal::kSourceConnections;
    error = unavailable("this address holds its maximum of " +
                        std::to_string(options_.max_connections_per_source) + " connections");
  }
  // Lingering costs a descriptor: beyond a bound, refused connections are closed at once.
  if (stopped_ || refused_lingering_ >= options_.max_connections / 4 + 16) {
    refusals_.count(reason);
    send_best_effort(fd, raw_error_response(status, error, 1));
    return;
  }
  ++refused_lingering_;
  auto it = watch_locked(std::move(connection), Wait::kHead, Clock::now());
  if (it != entries_.end()) refuse_locked(it, status, reason, error, 1);
}

void ConnectionGate::give_back(std::unique_ptr<Connection> connection) {
  HeadScan scan = HeadScan::kIncomplete;
  if (!connection->pending.empty()) {
    scan = scan_request_head(connection->pending, options_.head);
    if (scan == HeadScan::kComplete) {
      ready_(std::move(connection));  // pipelined: the next head is here already
      return;
    }
  }
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  const bool started = !connection->pending.empty();
  const auto now = Clock::now();
  auto it = watch_locked(std::move(connection), started ? Wait::kHead : Wait::kIdle,
                         now + (started ? options_.header_timeout : options_.keep_alive_timeout));
  if (it == entries_.end() || scan == HeadScan::kIncomplete) return;
  refuse_locked(it, 431,
                scan == HeadScan::kTooLarge ? Refusal::kHeaderTooLarge : Refusal::kTooManyHeaders,
                too_large("the request head exceeds the server's limits"));
}

void ConnectionGate::finish(std::unique_ptr<Connection> connection) {
  int unread = 0;
  if (connection->pending.empty() &&
      (::ioctl(connection->fd, FIONREAD, &unread) != 0 || unread == 0)) {
    return;  // nothing unread: closed now by the destructor
  }
  // Closing with unread input would reset the connection and could destroy the answer
  // before the client reads it.
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  connection->pending.clear();
  ::shutdown(connection->fd, SHUT_WR);
  auto it = watch_locked(std::move(connection), Wait::kLinger, Clock::now() + options_.linger);
  if (it != entries_.end()) drain_locked(it);
}

void ConnectionGate::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) it = erase_locked(it);
}

void ConnectionGate::run() {
  std::array<epoll_event, 128> events;
  auto last_expiry = Clock::now();
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(kTick.count()));
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd != wake_fd_) on_readable(events[i].data.fd);
    }
    const auto now = Clock::now();
    if (now - last_expiry >= kTick) {
      expire(now);
      last_expiry = now;
    }
  }
}

void ConnectionGate::on_readable(int fd) {
  std::unique_ptr<Connection> ready;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(fd);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    if (entry.wait == Wait::kLinger) {
      drain_locked(it);
      return;
    }
    Connection& connection = *entry.connection;
    const size_t max = options_.head.max_bytes;
    const size_t room = max > connection.pending.size() ? max - connection.pending.size() : 0;
    ssize_t n = 0;
    if (room > 0) {
      n = ::recv(fd, scratch_.data(), room, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        erase_locked(it);  // closed or broken before a whole head arrived
        return;
      }
      if (n < 0) return;
    }
    std::string joined;
    std::string_view bytes(scratch_.data(), static_cast<size_t>(n));
    if (!connection.pending.empty()) {
      joined = connection.pending;
      joined.append(bytes);
      bytes = joined;
    }
    switch (scan_request_head(bytes, options_.head)) {
      case HeadScan::kIncomplete:
        if (entry.wait == Wait::kIdle) {
          // The next request has begun: its head gets the full header timeout.
          entry.wait = Wait::kHead;
          entry.deadline = Clock::now() + options_.header_timeout;
        } else {
          entry.wait = Wait::kHead;
        }
        return;
      case HeadScan::kComplete:
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        ready = std::move(entry.connection);
        entries_.erase(it);
        break;
      case HeadScan::kTooLarge:
        refuse_locked(it, 431, Refusal::kHeaderTooLarge,
                      too_large("the request head exceeds " + std::to_string(max) + " bytes"));
        return;
      case HeadScan::kTooManyHeaders:
        refuse_locked(it, 431, Refusal::kTooManyHeaders,
                      too_large("the request has more than " +
                                std::to_string(options_.head.max_headers) + " header lines"));
        return;
    }
  }
  ready_(std::move(ready));
}

void ConnectionGate::expire(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& entry = it->second;
    if (entry.deadline > now) {
      ++it;
      continue;
    }
    switch (entry.wait) {
      case Wait::kFirstByte:
        // Nothing was asked: nothing to answer.
        refusals_.count(Refusal::kHeaderTimeout);
        it = erase_locked(it);
        break;
      case Wait::kHead: {
        auto next = std::next(it);
        refuse_locked(it, 408, Refusal::kHeaderTimeout,
                      timed_out("the request head did not arrive within " +
                                std::to_string(options_.header_timeout.count()) + " ms"));
        it = next;
        break;
      }
      case Wait::kIdle:
      case Wait::kLinger:
        it = erase_locked(it);
        break;
    }
  }
}

ConnectionGate::Entries::iterator ConnectionGate::watch_locked(
    std::unique_ptr<Connection> connection, Wait wait, Clock::time_point deadline) {
  const int fd = connection->fd;
  auto [it, inserted] = entries_.try_emplace(fd);
  if (!inserted) return entries_.end();  // impossible: a descriptor is in one place only
  it->second = Entry{std::move(connection), wait, deadline};
  epoll_event event{};
  // Edge-triggered: a peeked, incomplete head stays in the socket and must not wake the
  // thread again until more bytes arrive. Adding reports bytes that are already there.
  event.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    erase_locked(it);
    return entries_.end();
  }
  return it;
}

ConnectionGate::Entries::iterator ConnectionGate::erase_locked(Entries::iterator it) {
  const int fd = it->first;
  if (!it->second.connection->limits && refused_lingering_ > 0) --refused_lingering_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  return entries_.erase(it);  // the Connection closes its socket
}

void ConnectionGate::refuse_locked(Entries::iterator it, int status, Refusal reason,
                                   const Status& error, int retry_after_s) {
  refusals_.count(reason);
  Entry& entry = it->second;
  send_best_effort(entry.connection->fd, raw_error_response(status, error, retry_after_s));
  ::shutdown(entry.connection->fd, SHUT_WR);
  entry.connection->pending.clear();
  entry.wait = Wait::kLinger;
  entry.deadline = Clock::now() + options_.linger;
  drain_locked(it);
}

void ConnectionGate::drain_locked(Entries::iterator it) {
  const int fd = it->first;
  size_t drained = 0;
  while (drained < kDrainPerWakeup) {
    const ssize_t n = ::recv(fd, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
    if (n > 0) {
      drained += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    erase_locked(it);  // end of input (or a reset): the client has our answer
    return;
  }
}

}  // namespace gh::http
