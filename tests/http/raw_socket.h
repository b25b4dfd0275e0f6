// Raw client sockets for the HTTP hardening tests: what httplib's client cannot do (send a
// head in pieces, never finish it, flood it), on real loopback sockets. Test-only helpers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>

namespace gh::http::testing {

// A connected socket to 127.0.0.1:port from the loopback address `source` (any 127.x.y.z: the
// server sees one client address per source; empty: the kernel picks), or -1.
inline int connect_loopback_from(int port, const std::string& source) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A connected socket to 127.0.0.1:port, or -1.
inline int connect_loopback(int port) { return connect_loopback_from(port, ""); }

// Sends all of `bytes`; false when the peer refused them.
inline bool send_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes (eof = true) or `limit` passes; whatever arrived.
inline std::string read_until_close(int fd, std::chrono::milliseconds limit, bool* eof = nullptr) {
  std::string out;
  if (eof) *eof = false;
  const auto end = std::chrono::steady_clock::now() + limit;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, static_cast<int>(left.count())) <= 0) return out;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      if (eof) *eof = true;  // closed (or reset): the server let go of it
      return out;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

// The resident memory in bytes (VmRSS) of process `pid` ("self": this one), 0 when unknown.
inline uint64_t resident_bytes(const std::string& pid = "self") {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace gh::http::testing
