// An httplib::Server whose accepted connections wait in a ConnectionGate instead of on a
// worker thread, so that slow or idle clients cost a descriptor, not a thread.
//
// httplib 0.11 gives each accepted socket to its task queue, and a worker then serves every
// request of the connection, blocking on reads. Here the task queue runs the accept job
// inline on the accepting thread; the job (process_and_close_socket, a virtual of httplib's)
// only hands the socket to the gate. Once a whole request head has arrived, the gate hands
// the connection to a bounded pool of `threads` workers; a worker serves that ONE request
// (httplib's process_request on a GateStream) and gives a keep-alive connection back to the
// gate. A streamed answer (Server-Sent Events) keeps its worker for as long as it lasts.
//
// Thread-safety: configure (routes, handlers) before listening; the rest is httplib's.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

#include "adapters/http/bounded_task_queue.h"
#include "adapters/http/connection_gate.h"
#include "adapters/http/refusal_counters.h"

namespace gh::http {

class GatedServer : public httplib::Server {
 public:
  GatedServer(GateOptions gate, size_t threads, RefusalCounters& refusals);
  ~GatedServer() override;

  // Marks the connection of the request being served on this thread to be closed after its
  // answer (a refusal whose body was not read). Call from a handler.
  static void close_after_this_request();
  // Connections open now (waiting in the gate or being served).
  size_t open_connections() const;
  // Raises the listen backlog of the bound socket (httplib 0.11 listens with 5: a burst of
  // connections, or a loaded machine, overflows it and clients wait seconds for SYN-ACK
  // retransmissions). Call after binding, before listening; false when it fails.
  bool set_listen_backlog(int backlog);

 private:
  class ListenQueue;

  bool process_and_close_socket(socket_t sock) override;
  // Called on the listening thread when listening starts and ends.
  void start_serving();
  void stop_serving();
  void serve(std::unique_ptr<Connection> connection);

  const GateOptions gate_options_;
  const size_t threads_;
  RefusalCounters& refusals_;
  const std::shared_ptr<ConnectionLimits> limits_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<ConnectionGate> gate_;
  std::unique_ptr<BoundedTaskQueue> workers_;
};

}  // namespace gh::http
