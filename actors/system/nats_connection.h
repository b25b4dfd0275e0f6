// One connection to a nats-server over NATS' own client protocol (nats_protocol.h), as a
// user of NATS' operator mode: CONNECT carries the user's JWT and `sig`, the server's nonce
// signed with the user's seed (ed25519, base64url). Just what gatehouse needs to push its
// account's JWT (docs/cluster.md, "Revocation on NATS"): request/reply through a private
// inbox. Every read is bounded (max_payload, the control line) and every wait has a deadline.
//
//   auto connection = NatsConnection::open("nats://127.0.0.1:4222", credentials, 2s);
//   auto answer = (*connection)->request("$SYS.REQ.CLAIMS.UPDATE", jwt, 2s);
//
// Errors: kInvalidArgument (a URL that is not nats://HOST:PORT), kUnavailable (cannot
// connect, the connection closed, a stream NATS would not send), kTimeout (no answer in
// time), kPermissionDenied (NATS answered -ERR, e.g. 'Authorization Violation').
// Thread-compatible: one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/system/nats_nkey.h"
#include "actors/system/nats_protocol.h"
#include "events/status.h"

namespace gh::nats_client {

struct Credentials {
  std::string jwt;  // the user's JWT
  nkeys::KeyPair user{nkeys::Kind::kUser, {}, {}};
};

class NatsConnection {
 public:
  // Connects to `url` (nats://HOST:PORT or HOST:PORT), reads INFO, sends CONNECT and PING,
  // and returns once the server's PONG says it took the user; all within `timeout`.
  static Result<std::unique_ptr<NatsConnection>> open(const std::string& url,
                                                      const Credentials& credentials,
                                                      std::chrono::milliseconds timeout);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  // Publishes `payload` on `subject` with a reply subject of this connection's inbox and
  // returns the first reply's payload (kTimeout after `timeout`).
  Result<std::string> request(std::string_view subject, std::string_view payload,
                              std::chrono::milliseconds timeout);
  // The server's INFO max_payload: the largest payload it takes.
  size_t max_payload() const { return max_payload_; }

 private:
  explicit NatsConnection(int fd) : fd_(fd) {}
  Status send_all(std::string_view data);
  // The next frame, reading as needed until `deadline`; PINGs are answered here.
  Result<nats_protocol::Frame> next_frame(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
  size_t max_payload_ = 1024 * 1024;
  std::string inbox_;  // _INBOX.<random>.
  uint64_t requests_ = 0;
};

// HOST and PORT of `url`; kInvalidArgument otherwise.
struct Endpoint {
  std::string host;
  std::string port;
};
Result<Endpoint> parse_url(std::string_view url);
// The URLs of a comma-separated `list`, each checked by parse_url(); kInvalidArgument for an
// empty list or a bad URL.
Result<std::vector<std::string>> parse_urls(std::string_view list);

}  // namespace gh::nats_client
