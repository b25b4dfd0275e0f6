// A TCP proxy on a free loopback port in front of PostgreSQL that can cut one connection at
// its next COMMIT: the network fault of a failover or a dropped link, on real sockets and a
// real server. Everything else passes through unchanged, both ways.
//
// Cut::kBeforeServer drops the COMMIT and closes the connection: the server rolls back.
// Cut::kAfterServer passes the COMMIT on and closes the connection when the server answers,
// before the answer reaches the client: the server committed, the client cannot know.
//
// Thread-safety: cut_next_commit() from any thread; the proxy runs threads of its own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <mutex>
#include <string_view>
#include <thread>

namespace gh::testing {

class CommitCutProxy {
 public:
  enum class Cut { kNone, kBeforeServer, kAfterServer };

  explicit CommitCutProxy(int server_port) : server_port_(server_port) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof(address);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        listen(listener_, 16) == 0 &&
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~CommitCutProxy() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    close(listener_);
    std::lock_guard lock(mutex_);
    for (auto& link : links_) {
      shutdown(link.client, SHUT_RDWR);
      shutdown(link.server, SHUT_RDWR);
    }
    for (auto& link : links_) {
      link.upstream.join();
      link.downstream.join();
      close(link.client);
      close(link.server);
    }
  }

  // 0 when the proxy could not listen.
  int port() const { return port_; }

  // The next COMMIT any connection sends is cut this way; later ones pass.
  void cut_next_commit(Cut how) { next_cut_ = how; }
  // Whether the cut asked for has happened.
  bool cut_done() const { return next_cut_ == Cut::kNone; }

 private:
  struct Link {
    int client = -1;
    int server = -1;
    std::atomic<bool> drop_answer{false};
    std::thread upstream;    // client -> server
    std::thread downstream;  // server -> client
  };

  static sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(uint16_t(port));
    return address;
  }

  void accept_loop() {
    while (!stopping_) {
      const int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      const int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address = loopback(server_port_);
      if (connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        close(client);
        close(server);
        continue;
      }
      std::lock_guard lock(mutex_);
      Link& link = links_.emplace_back();
      link.client = client;
      link.server = server;
      link.upstream = std::thread([this, &link] { pump_upstream(link); });
      link.downstream = std::thread([this, &link] { pump_downstream(link); });
    }
  }

  static void cut(Link& link) {
    shutdown(link.client, SHUT_RDWR);
    shutdown(link.server, SHUT_RDWR);
  }

  // A simple-protocol query message "COMMIT" (libpq's PQexec): 'Q', length, text, NUL.
  static bool is_commit(std::string_view bytes) {
    return bytes.find(std::string_view("COMMIT\0", 7)) != std::string_view::npos;
  }

  void pump_upstream(Link& link) {
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(link.client, buffer, sizeof(buffer));
      if (n <= 0) break;
      const std::string_view bytes(buffer, size_t(n));
      if (next_cut_ != Cut::kNone && is_commit(bytes)) {
        const Cut how = next_cut_.exchange(Cut::kNone);
        if (how == Cut::kBeforeServer) break;
        if (how == Cut::kAfterServer) link.drop_answer = true;
      }
      if (!send_all(link.server, bytes)) break;
    }
    cut(link);
  }

  void pump_downstream(Link& link) {
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(link.server, buffer, sizeof(buffer));
      if (n <= 0 || link.drop_answer) break;
      if (!send_all(link.client, std::string_view(buffer, size_t(n)))) break;
    }
    cut(link);
  }

  static bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(size_t(n));
    }
    return true;
  }

  const int server_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<Cut> next_cut_{Cut::kNone};
  std::mutex mutex_;
  std::list<Link> links_;  // a list: the pumps hold references to their link
  std::thread acceptor_;
};

}  // namespace gh::testing
