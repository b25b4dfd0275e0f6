#include "actors/system/nats_connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "actors/system/nats_jwt.h"

namespace gh::nats_client {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 60'000));
}

// A TCP connection to `endpoint` within `deadline` (non-blocking connect, then poll).
Result<int> dial(const Endpoint& endpoint, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (::getaddrinfo(endpoint.host.c_str(), endpoint.port.c_str(), &hints, &list) != 0)
    return unavailable("cannot resolve " + endpoint.host);
  std::string why = "no address";
  int fd = -1;
  for (auto* at = list; at != nullptr && fd < 0; at = at->ai_next) {
    fd = ::socket(at->ai_family, at->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, at->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, at->ai_addr, at->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, remaining_ms(deadline)) == 1 ? 0 : -1;
      int error = rc == 0 ? 0 : ETIMEDOUT;
      socklen_t size = sizeof(error);
      if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) {
        why = std::strerror(error);
        rc = -1;
      }
    } else if (rc != 0) {
      why = std::strerror(errno);
    }
    if (rc != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(list);
  if (fd < 0)
    return unavailable("cannot connect to " + endpoint.host + ":" + endpoint.port + ": " + why);
  int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return fd;
}

std::string random_token() {
  unsigned char bytes[12];
  randombytes_buf(bytes, sizeof(bytes));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace

Result<Endpoint> parse_url(std::string_view url) {
  if (url.substr(0, 7) == "nats://") url.remove_prefix(7);
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == url.size())
    return invalid_argument("a NATS URL is nats://HOST:PORT, got '" + std::string(url) + "'");
  for (char ch : url.substr(colon + 1))
    if (ch < '0' || ch > '9')
      return invalid_argument("a NATS URL's port is a number, got '" + std::string(url) + "'");
  return Endpoint{std::string(url.substr(0, colon)), std::string(url.substr(colon + 1))};
}

Result<std::vector<std::string>> parse_urls(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto one = list.substr(0, comma);
    auto parsed = parse_url(one);
    if (!parsed) return parsed.status();
    out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (out.empty()) return invalid_argument("no NATS URL");
  return out;
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::open(const std::string& url,
                                                             const Credentials& credentials,
                                                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto endpoint = parse_url(url);
  if (!endpoint) return endpoint.status();
  auto fd = dial(*endpoint, deadline);
  if (!fd) return fd.status();
  std::unique_ptr<NatsConnection> connection(new NatsConnection(*fd));
  auto first = connection->next_frame(deadline);
  if (!first) return first.status();
  if (first->op != nats_protocol::Op::kInfo)
    return unavailable(url + " did not open with INFO: not a NATS client port");
  auto info = nats_protocol::parse_info(first->body);
  if (!info) return Status(Code::kUnavailable, url + ": " + info.status().message());
  if (info->contains("max_payload") && (*info)["max_payload"].is_number_unsigned())
    connection->max_payload_ = (*info)["max_payload"].get<size_t>();
  nlohmann::json options = {{"verbose", false},      {"pedantic", false}, {"tls_required", false},
                            {"name", "gatehouse"},   {"lang", "c++"},     {"version", "1"},
                            {"protocol", 1},         {"echo", false},     {"headers", false},
                            {"jwt", credentials.jwt}};
  // The nonce NATS sends in operator mode: the user proves it holds the seed of its JWT.
  if (info->contains("nonce") && (*info)["nonce"].is_string())
    options["sig"] =
        nats_jwt::base64url(credentials.user.sign((*info)["nonce"].get<std::string>()));
  connection->inbox_ = "_INBOX." + random_token() + ".";
  // One write: a server that refuses CONNECT closes at once, and data sent after its close
  // would reset the connection before its -ERR is read.
  GH_RETURN_IF_ERROR(connection->send_all(nats_protocol::connect_line(options) +
                                          nats_protocol::sub_line(connection->inbox_ + "*", "1") +
                                          std::string(nats_protocol::kPing)));
  for (;;) {
    auto frame = connection->next_frame(deadline);
    if (!frame) return frame.status();
    if (frame->op == nats_protocol::Op::kErr)
      return permission_denied(url + " refused the connection: " + frame->body);
    if (frame->op == nats_protocol::Op::kPong) return connection;
  }
}

NatsConnection::~NatsConnection() {
  if (fd_ >= 0) ::close(fd_);
}

Status NatsConnection::send_all(std::string_view data) {
  while (!data.empty()) {
    const auto sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 5000) != 1) return unavailable("NATS: cannot send (the socket is full)");
      continue;
    }
    if (sent <= 0) return unavailable(std::string("NATS: send failed: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return Status::ok();
}

Result<nats_protocol::Frame> NatsConnection::next_frame(Clock::time_point deadline) {
  for (;;) {
    // The payload limit of a frame: what the server said, plus what an INFO may carry.
    auto frame = nats_protocol::take_frame(buffer_, max_payload_);
    if (!frame) return Status(Code::kUnavailable, "NATS: " + frame.status().message());
    if (*frame) {
      if ((*frame)->op == nats_protocol::Op::kPing) {
        GH_RETURN_IF_ERROR(send_all(nats_protocol::kPong));
        continue;
      }
      return std::move(**frame);
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready == 0) return timed_out("NATS: no answer in time");
    if (ready < 0) return unavailable(std::string("NATS: poll failed: ") + std::strerror(errno));
    char chunk[16384];
    const auto got = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (got == 0) return unavailable("NATS closed the connection");
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return unavailable(std::string("NATS: read failed: ") + std::strerror(errno));
    if (got > 0) buffer_.append(chunk, static_cast<size_t>(got));
  }
}

Result<std::string> NatsConnection::request(std::string_view subject, std::string_view payload,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (payload.size() > max_payload_)
    return too_large("NATS takes payloads up to " + std::to_string(max_payload_) + " bytes, not " +
                     std::to_string(payload.size()));
  const std::string reply = inbox_ + std::to_string(++requests_);
  GH_RETURN_IF_ERROR(send_all(nats_protocol::pub_lines(subject, reply, payload)));
  for (;;) {
    auto frame = next_frame(deadline);
    if (!frame) return frame.status();
    if (frame->op == nats_protocol::Op::kErr)
      return permission_denied("NATS refused " + std::string(subject) + ": " + frame->body);
    // An answer to an earlier request that timed out is skipped.
    if (frame->op == nats_protocol::Op::kMsg && frame->subject == reply) return frame->body;
  }
}

}  // namespace gh::nats_client
