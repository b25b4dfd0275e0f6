#include "adapters/http/connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace gh::http {

Connection::~Connection() {
  if (fd >= 0) {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
  if (limits) limits->release(source);
}

bool socket_endpoint(int fd, bool remote, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  auto* raw = reinterpret_cast<sockaddr*>(&address);
  if ((remote ? ::getpeername(fd, raw, &length) : ::getsockname(fd, raw, &length)) != 0) {
    return false;
  }
  if (address.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  } else if (address.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  } else {
    return false;
  }
  std::array<char, NI_MAXHOST> text{};
  if (::getnameinfo(raw, length, text.data(), static_cast<socklen_t>(text.size()), nullptr, 0,
                    NI_NUMERICHOST) != 0) {
    return false;
  }
  ip = text.data();
  return true;
}

}  // namespace gh::http
