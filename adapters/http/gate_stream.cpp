#include "adapters/http/gate_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gh::http {
namespace {

// As httplib's own SocketStream: one recv fills a small buffer that line reads then consume
// byte by byte.
constexpr size_t kReadChunk = 4096;

}  // namespace

GateStream::GateStream(Connection& connection, std::chrono::milliseconds read_timeout,
                       std::chrono::milliseconds write_timeout, Clock::time_point read_deadline)
    : connection_(connection),
      read_timeout_(read_timeout),
      write_timeout_(write_timeout),
      read_deadline_(read_deadline) {}

GateStream::~GateStream() { connection_.pending.erase(0, offset_); }

bool GateStream::wait_for(short events, std::chrono::milliseconds limit, bool reading) const {
  for (;;) {
    auto wait = limit;
    if (reading) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(read_deadline_ - Clock::now());
      wait = std::min(wait, left);
      if (wait.count() <= 0) return false;
    }
    pollfd entry{connection_.fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(wait.count()));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

bool GateStream::is_readable() const {
  return offset_ < connection_.pending.size() || wait_for(POLLIN, read_timeout_, true);
}

bool GateStream::is_writable() const {
  if (!wait_for(POLLOUT, write_timeout_, false)) return false;
  // As httplib: a peer that has gone away is not writable (an event stream ends).
  char byte;
  pollfd entry{connection_.fd, POLLIN, 0};
  if (::poll(&entry, 1, 0) <= 0) return true;
  return ::recv(connection_.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
}

ssize_t GateStream::read(char* ptr, size_t size) {
  std::string& pending = connection_.pending;
  if (offset_ >= pending.size()) {
    pending.clear();
    offset_ = 0;
    if (!wait_for(POLLIN, read_timeout_, true)) return -1;
    pending.resize(kReadChunk);
    ssize_t n;
    do {
      n = ::recv(connection_.fd, pending.data(), kReadChunk, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      pending.clear();
      // Readable yet nothing to read would be a spurious wakeup: report it as a failed read.
      return n == 0 ? 0 : -1;
    }
    pending.resize(static_cast<size_t>(n));
  }
  const size_t count = std::min(size, pending.size() - offset_);
  std::memcpy(ptr, pending.data() + offset_, count);
  offset_ += count;
  return static_cast<ssize_t>(count);
}

ssize_t GateStream::write(const char* ptr, size_t size) {
  if (!wait_for(POLLOUT, write_timeout_, false)) return -1;
  ssize_t n;
  do {
    n = ::send(connection_.fd, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

void GateStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  socket_endpoint(connection_.fd, true, ip, port);
}

void GateStream::get_local_ip_and_port(std::string& ip, int& port) const {
  socket_endpoint(connection_.fd, false, ip, port);
}

}  // namespace gh::http
