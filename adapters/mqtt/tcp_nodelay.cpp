#include "adapters/mqtt/tcp_nodelay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>

namespace gh::mqtt_adapter {

namespace {

// Addresses compare by family, address bytes and port; an IPv4-mapped IPv6 peer
// (::ffff:127.0.0.1) counts as its IPv4 address, since dual-stack sockets report that.
struct Endpoint {
  int family = 0;
  unsigned char addr[16] = {};
  uint16_t port = 0;
  bool operator==(const Endpoint& o) const {
    size_t n = family == AF_INET ? 4 : 16;
    return family == o.family && port == o.port && std::memcmp(addr, o.addr, n) == 0;
  }
};

bool to_endpoint(const sockaddr* sa, Endpoint& out) {
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    out.family = AF_INET;
    std::memcpy(out.addr, &in->sin_addr, 4);
    out.port = ntohs(in->sin_port);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    out.port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      out.family = AF_INET;
      std::memcpy(out.addr, in6->sin6_addr.s6_addr + 12, 4);
    } else {
      out.family = AF_INET6;
      std::memcpy(out.addr, &in6->sin6_addr, 16);
    }
    return true;
  }
  return false;
}

Result<std::vector<Endpoint>> resolve(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) return invalid_argument("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::vector<Endpoint> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    Endpoint e;
    if (to_endpoint(ai->ai_addr, e)) {
      e.port = port;
      out.push_back(e);
    }
  }
  ::freeaddrinfo(list);
  return out;
}

}  // namespace

Result<std::vector<int>> sockets_to_peer(const std::string& host, uint16_t port) {
  auto wanted = resolve(host, port);
  if (!wanted) return wanted.status();
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return internal_error(std::string("/proc/self/fd: ") + std::strerror(errno));
  std::vector<int> found;
  int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    int fd = -1;
    const char* name = entry->d_name;
    auto [end, ec] = std::from_chars(name, name + std::strlen(name), fd);
    if (ec != std::errc() || *end != '\0' || fd == own) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    Endpoint e;
    if (!to_endpoint(reinterpret_cast<sockaddr*>(&peer), e)) continue;
    for (const auto& w : *wanted) {
      if (w == e) {
        found.push_back(fd);
        break;
      }
    }
  }
  ::closedir(dir);
  return found;
}

Result<int> set_nodelay_to_peer(const std::string& host, uint16_t port) {
  auto fds = sockets_to_peer(host, port);
  if (!fds) return fds.status();
  int count = 0;
  int on = 1;
  for (int fd : *fds) {
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++count;
  }
  return count;
}

bool nodelay_enabled(int fd) {
  int value = 0;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &len) != 0) return false;
  return value != 0;
}

}  // namespace gh::mqtt_adapter
