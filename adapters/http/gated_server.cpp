#include "adapters/http/gated_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapters/http/gate_stream.h"

namespace gh::http {
namespace {

thread_local bool close_requested = false;

std::chrono::milliseconds to_ms(time_t sec, time_t usec) {
  return std::chrono::milliseconds(sec * 1000 + usec / 1000);
}

}  // namespace

// httplib's task queue: the accept job runs inline (it only registers the socket), and
// the end of listening stops the gate and the workers.
class GatedServer::ListenQueue : public httplib::TaskQueue {
 public:
  explicit ListenQueue(GatedServer& server) : server_(server) { server_.start_serving(); }
  void enqueue(std::function<void()> job) override { job(); }
  void shutdown() override { server_.stop_serving(); }

 private:
  GatedServer& server_;
};

GatedServer::GatedServer(GateOptions gate, size_t threads, RefusalCounters& refusals)
    : gate_options_(std::move(gate)),
      threads_(threads),
      refusals_(refusals),
      limits_(std::make_shared<ConnectionLimits>(gate_options_.max_connections,
                                                 gate_options_.max_connections_per_source)) {
  // httplib owns and deletes the queue when listening ends.
  new_task_queue = [this] { return new ListenQueue(*this); };
}

GatedServer::~GatedServer() { stop_serving(); }

void GatedServer::close_after_this_request() { close_requested = true; }

size_t GatedServer::open_connections() const { return limits_->open(); }

bool GatedServer::set_listen_backlog(int backlog) {
  // listen() on a listening socket only updates its backlog (Linux).
  const int fd = svr_sock_;
  return fd >= 0 && ::listen(fd, backlog) == 0;
}

void GatedServer::start_serving() {
  stopping_ = false;
  // Each connection is at most once in the queue: as many places as connections means the
  // gate never blocks on a full queue.
  workers_ = std::make_unique<BoundedTaskQueue>(threads_, gate_options_.max_connections + 1);
  gate_ = std::make_unique<ConnectionGate>(
      gate_options_, limits_, refusals_, [this](std::unique_ptr<Connection> connection) {
        // std::function needs a copyable job; a job dropped unrun still closes its socket.
        auto held = std::make_shared<std::unique_ptr<Connection>>(std::move(connection));
        workers_->enqueue([this, held] { serve(std::move(*held)); });
      });
  // A gate that cannot start leaves every connection waiting: fail loudly in tests, and
  // leave the listener to time clients out rather than crash a running server.
  if (auto started = gate_->start(); !started.is_ok()) stopping_ = true;
}

void GatedServer::stop_serving() {
  stopping_ = true;
  // The gate first: connections waiting for a head are closed and none comes back; then the
  // workers finish the requests queued and in progress.
  if (gate_) gate_->stop();
  if (workers_) workers_->shutdown();
  workers_.reset();
  gate_.reset();
}

bool GatedServer::process_and_close_socket(socket_t sock) {
  // Set on each accepted socket rather than trusting inheritance from the listener.
  int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (stopping_ || !gate_) {
    ::close(sock);
    return false;
  }
  gate_->admit(sock);
  return true;
}

void GatedServer::serve(std::unique_ptr<Connection> connection) {
  const auto read_timeout = to_ms(read_timeout_sec_, read_timeout_usec_);
  const auto write_timeout = to_ms(write_timeout_sec_, write_timeout_usec_);
  const bool last = stopping_ || connection->served + 1 >= keep_alive_max_count_;
  bool closed = false;
  close_requested = false;
  bool ok = false;
  {
    GateStream stream(*connection, read_timeout, write_timeout,
                      GateStream::Clock::now() + read_timeout);
    ok = process_request(stream, last, closed, nullptr);
  }
  ++connection->served;
  if (!ok || closed || last || close_requested || stopping_) {
    gate_->finish(std::move(connection));
  } else {
    gate_->give_back(std::move(connection));
  }
}

}  // namespace gh::http
