#include "server/admin_socket.h"

#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <ostream>
#include <streambuf>

#include "tools/ctl/admin_wire.h"
#include "tools/ctl/cli.h"

namespace gh::server {
namespace {

// A follower that falls this far behind is ended rather than let grow without bound.
constexpr size_t kMaxFollowerQueue = 100000;

// An ostream's buffer that sends what is written as frames of `kind` on each flush; after a
// failed write the stream goes bad (the tool hung up).
class FrameBuf : public std::streambuf {
 public:
  FrameBuf(int fd, ctl::FrameKind kind) : fd_(fd), kind_(kind) {}
  ~FrameBuf() override { sync(); }

 protected:
  int_type overflow(int_type ch) override {
    if (ch != traits_type::eof()) pending_.push_back(static_cast<char>(ch));
    if (pending_.size() >= 16384 && sync() != 0) return traits_type::eof();
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    pending_.append(s, static_cast<size_t>(n));
    if (pending_.size() >= 16384 && sync() != 0) return 0;
    return n;
  }
  int sync() override {
    if (pending_.empty()) return failed_ ? -1 : 0;
    auto status = ctl::write_all(fd_, ctl::encode_frame({kind_, pending_}));
    pending_.clear();
    if (!status.is_ok()) failed_ = true;
    return failed_ ? -1 : 0;
  }

 private:
  int fd_;
  ctl::FrameKind kind_;
  std::string pending_;
  bool failed_ = false;
};

// The login name of `uid`, or "uid<N>" when it has none.
std::string login_name(uid_t uid) {
  struct passwd entry {};
  struct passwd* found = nullptr;
  char buffer[4096];
  if (getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr)
    return found->pw_name;
  return "uid" + std::to_string(uid);
}

// True when the tool on `fd` has hung up.
bool hung_up(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

bool admin_peer_allowed(uid_t peer, uid_t server) { return peer == server || peer == 0; }

Result<std::unique_ptr<AdminSocket>> AdminSocket::start(const std::string& path,
                                                        ctl::LiveServer live, bool shared_log) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    return invalid_argument("the admin socket path " + path + " is longer than " +
                            std::to_string(sizeof address.sun_path - 1) +
                            " bytes: choose a shorter store path");
  std::memcpy(address.sun_path, path.data(), path.size());
  // On RocksDB the store's lock already says no other server runs; on PostgreSQL nothing
  // would stop two nodes configured with one run directory from taking each other's socket.
  if (auto other = ctl::connect_admin_socket(path)) {
    ::close(*other);
    return failed_precondition("another gatehouse answers on the admin socket " + path +
                               ": give each server its own run directory");
  }
  ::unlink(path.c_str());  // a socket left by a server that is gone
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable("admin socket: " + std::string(std::strerror(errno)));
  // 0600 from the start: no moment when another user could connect.
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::umask(old_mask);
  if (bound != 0 || ::listen(fd, 16) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return unavailable("admin socket " + path + ": " + why);
  }
  std::unique_ptr<AdminSocket> socket(new AdminSocket(path, fd, std::move(live), shared_log));
  socket->acceptor_ = std::thread([s = socket.get()] { s->accept_loop(); });
  return socket;
}

AdminSocket::AdminSocket(std::string path, int listen_fd, ctl::LiveServer live, bool shared_log)
    : path_(std::move(path)),
      listen_fd_(listen_fd),
      live_(std::move(live)),
      shared_log_(shared_log) {}

AdminSocket::~AdminSocket() { stop(); }

void AdminSocket::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    for (auto& f : followers_) f->wake.notify_all();
    stopped_.notify_all();
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::list<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::unlink(path_.c_str());
}

void AdminSocket::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    connections_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void AdminSocket::serve(int fd) {
  auto finish = [&] {
    std::lock_guard lock(mu_);
    connections_.remove(fd);
    ::close(fd);
  };
  ucred peer{};
  socklen_t size = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 ||
      !admin_peer_allowed(peer.uid, ::geteuid())) {
    (void)ctl::write_all(fd, ctl::encode_frame({ctl::FrameKind::kErr,
                                                "gatehousectl: the admin socket takes only the "
                                                "user gatehouse runs as\n"}) +
                                 ctl::encode_frame({ctl::FrameKind::kExit, "1"}));
    return finish();
  }
  auto request = ctl::read_request(fd);
  if (!request) {
    (void)ctl::write_all(
        fd, ctl::encode_frame(
                {ctl::FrameKind::kErr, "gatehousectl: " + request.status().to_string() + "\n"}) +
                ctl::encode_frame({ctl::FrameKind::kExit, "2"}));
    return finish();
  }
  ctl::LiveServer live = live_;
  live.peer = login_name(peer.uid);
  live.files = std::move(request->files);
  live.follow = [this, fd](uint64_t after,
                           const std::function<bool(const events::Envelope&)>& on_event) {
    if (shared_log_) return follow_shared_log(fd, after, on_event);
    follow(fd, after, on_event);
  };
  int code = 0;
  {
    FrameBuf out_buf(fd, ctl::FrameKind::kOut), err_buf(fd, ctl::FrameKind::kErr);
    std::ostream out(&out_buf), err(&err_buf);
    code = ctl::run_in_server(request->args, live, out, err);
    out.flush();
    err.flush();
  }
  (void)ctl::write_all(fd, ctl::encode_frame({ctl::FrameKind::kExit, std::to_string(code)}));
  finish();
}

void AdminSocket::on_durable(const events::Envelope& event) {
  std::lock_guard lock(mu_);
  for (auto& f : followers_) {
    std::lock_guard follower_lock(f->mu);
    if (f->queue.size() >= kMaxFollowerQueue) {
      f->overflowed = true;
    } else {
      f->queue.push_back(event);
    }
    f->wake.notify_one();
  }
}

void AdminSocket::follow(int fd, uint64_t after,
                         const std::function<bool(const events::Envelope&)>& on_event) {
  auto follower = std::make_shared<Follower>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    followers_.push_back(follower);
  }
  auto unregister = [&] {
    std::lock_guard lock(mu_);
    followers_.remove(follower);
  };
  // Registered first, then the log read from `after`: nothing falls between the two, and
  // what both saw is skipped by position.
  uint64_t delivered = after;
  bool going = true;
  auto status = live_.journal->read_all(after + 1, [&](const events::Envelope& e) {
    delivered = e.position();
    going = on_event(e);
    return going;
  });
  while (going && status.is_ok()) {
    std::deque<events::Envelope> batch;
    {
      std::unique_lock lock(follower->mu);
      // Woken by new events and by stop(); every second also looks for a tool that left.
      follower->wake.wait_for(lock, std::chrono::seconds(1),
                              [&] { return !follower->queue.empty() || follower->overflowed; });
      if (follower->overflowed) break;
      batch.swap(follower->queue);
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    if (batch.empty() && hung_up(fd)) break;
    for (const auto& e : batch) {
      if (e.position() <= delivered) continue;
      delivered = e.position();
      if (!(going = on_event(e))) break;
    }
  }
  unregister();
}

// Positions are gapless and committed in order across every node (the journal head's lock),
// so reading after the last position delivered misses nothing. A read that fails (a
// failover) is tried again at the next interval: the operator's follow outlives it.
void AdminSocket::follow_shared_log(int fd, uint64_t after,
                                    const std::function<bool(const events::Envelope&)>& on_event) {
  uint64_t delivered = after;
  bool going = true;
  for (;;) {
    (void)live_.journal->read_all(delivered + 1, [&](const events::Envelope& e) {
      delivered = e.position();
      going = on_event(e);
      return going;
    });
    if (!going || hung_up(fd)) return;
    std::unique_lock lock(mu_);
    stopped_.wait_for(lock, std::chrono::milliseconds(250), [&] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace gh::server
