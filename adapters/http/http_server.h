// The HTTP listener: one httplib::Server configured for gatehouse's latency and safety
// needs, run on its own thread.
//
// - TCP_NODELAY on every accepted socket and a keep-alive count of thousands: httplib 0.11's
//   defaults (Nagle on, 5 requests per connection) cap a client at ~150 req/s (DESIGN.md
//   "Latency").
// - Connections wait for their request head in a gate, not on a worker (GatedServer,
//   ConnectionGate): caps on the head's size and header count (431), a header timeout (408),
//   connections per source address (429) and in all (503); idle keep-alive connections hold
//   no worker. A bounded worker pool, a payload limit, read/write timeouts; the body of a
//   request must arrive within the read timeout.
// - An answer with `Connection: close` (a refused chunked or compressed body) has no
//   Keep-Alive header and its connection is closed.
// - Every refusal is counted by reason in refusals() (/metrics).
// - Every exception escaping a handler becomes a JSON 500; every error status a handler or
//   httplib leaves without a body (no route: 404, payload too large: 413, unparsable
//   request: 400) gets a JSON error body.
//
// Register routes on router() before start(). Thread-safety: start() and stop() from one
// thread (the owner); handlers run on the worker threads.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "adapters/http/gated_server.h"
#include "adapters/http/refusal_counters.h"
#include "events/status.h"

namespace gh::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests); start() reports it
  size_t threads = 8;
  size_t max_body_bytes = 64 * 1024;
  size_t keep_alive_max_count = 10000;
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::seconds read_timeout{10};  // each read; and the whole body after the head
  std::chrono::seconds write_timeout{10};
  // The request head (request line, headers, blank line): bytes and header lines (431
  // beyond), and the time it may take to arrive from the connection's first byte (408).
  size_t max_header_bytes = 16 * 1024;
  size_t max_headers = 100;
  std::chrono::milliseconds header_timeout{10000};
  // Open connections in all (503 beyond) and per peer address (429 beyond).
  size_t max_connections = 1024;
  size_t max_connections_per_source = 64;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Where routes are registered; only before start().
  httplib::Server& router() { return server_; }
  // Refusals by reason; thread-safe.
  RefusalCounters& refusals() { return refusals_; }
  // Connections open now; thread-safe.
  size_t open_connections() const { return server_.open_connections(); }

  // Binds address:port and starts accepting on a new thread. Returns the bound port;
  // kUnavailable when the address cannot be bound; kFailedPrecondition when started twice.
  Result<int> start();
  // Stops accepting, finishes the requests in progress and joins the thread. Idempotent.
  void stop();
  // The bound port, 0 before start().
  int port() const { return port_; }

 private:
  ServerOptions options_;
  RefusalCounters refusals_;
  GatedServer server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace gh::http
