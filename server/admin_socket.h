// AdminSocket: the running server's door for gatehousectl (docs/operations.md "How
// gatehousectl reaches a running server"). It listens on `<store>/admin.sock` (on PostgreSQL,
// `<run-dir>/admin.sock`: docs/cluster.md), created with mode 0600, and serves each connection on
// its own thread: it refuses a peer whose uid (SO_PEERCRED) is not the server's own (or root's),
// reads one request (tools/ctl/ admin_wire.h), runs it with ctl::run_in_server() on the server's
// own store, registry and actions, recording the peer's login name as the operator, and streams the
// verb's output back. `events --follow` connections get every event made durable while they last.
//
// Why a socket and not HTTP routes: it needs no secret (the store's file permissions are the
// guard, the same as for opening the store directly), the tool finds it from --store alone,
// and it is never reachable from the network.
//
// Thread-safety: on_durable() from the journal's thread (never blocks); stop() once, from
// the thread that started it.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "events/event.pb.h"
#include "events/status.h"
#include "tools/ctl/live_server.h"

namespace gh::server {

// True when a peer with uid `peer` may use the socket of a server running as `server`: the
// same user, or root.
bool admin_peer_allowed(uid_t peer, uid_t server);

class AdminSocket {
 public:
  // Listens at `path` (a socket file there that no server answers on is replaced).
  // `live` gives the server's parts; its peer, files and follow are filled per request.
  // `shared_log`: other servers append to the log too (cluster mode), so `events --follow`
  // reads the log by position every 250 ms instead of hearing only this server's writes.
  // kInvalidArgument when `path` is too long for a Unix socket, kFailedPrecondition when
  // another server answers there, kUnavailable when it cannot be created.
  static Result<std::unique_ptr<AdminSocket>> start(const std::string& path, ctl::LiveServer live,
                                                    bool shared_log = false);
  ~AdminSocket();  // stop()

  // Every durable event, for the followers. Copies it into each follower's queue.
  void on_durable(const events::Envelope& event);
  // Stops listening, ends every connection (a verb in progress finishes first), removes the
  // socket file. Idempotent.
  void stop();

 private:
  struct Follower {
    std::mutex mu;
    std::condition_variable wake;
    std::deque<events::Envelope> queue;
    bool overflowed = false;
  };
  AdminSocket(std::string path, int listen_fd, ctl::LiveServer live, bool shared_log);
  void accept_loop();
  void serve(int fd);
  void follow(int fd, uint64_t after, const std::function<bool(const events::Envelope&)>& on_event);
  void follow_shared_log(int fd, uint64_t after,
                         const std::function<bool(const events::Envelope&)>& on_event);

  std::string path_;
  int listen_fd_;
  ctl::LiveServer live_;
  bool shared_log_;
  std::thread acceptor_;
  std::mutex mu_;  // guards the members below
  bool stopping_ = false;
  std::condition_variable stopped_;  // wakes shared-log followers at stop()
  std::list<int> connections_;
  std::list<std::thread> workers_;
  std::list<std::shared_ptr<Follower>> followers_;
};

}  // namespace gh::server
