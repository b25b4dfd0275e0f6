// One accepted client connection as the connection gate and the HTTP workers hand it to
// each other: its socket, the bytes read from it that no request has consumed yet
// (pipelined requests), and its slot in ConnectionLimits. Destroying it closes the socket
// and gives the slot back. Thread-compatible: one owner at a time (the gate or a worker).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "adapters/http/connection_limits.h"

namespace gh::http {

struct Connection {
  Connection(int fd_in, std::string source_in, std::shared_ptr<ConnectionLimits> limits_in)
      : fd(fd_in), source(std::move(source_in)), limits(std::move(limits_in)) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const int fd;
  const std::string source;  // numeric peer address
  // Null for a connection refused at accept: it holds no slot.
  const std::shared_ptr<ConnectionLimits> limits;
  std::string pending;  // received, not yet consumed by a request
  size_t served = 0;    // requests answered on this connection
};

// The numeric address and port of the socket's peer (`remote`) or its own end, as httplib
// spells them ("127.0.0.1", "::1"); false when the socket has none.
bool socket_endpoint(int fd, bool remote, std::string& ip, int& port);

}  // namespace gh::http
