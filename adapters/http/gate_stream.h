// The httplib::Stream a worker serves one request on: a Connection's socket, starting with
// the bytes the connection already holds. Whatever it reads past the request stays in
// Connection::pending for the next one, so a keep-alive connection can go back to the gate
// between requests without losing pipelined bytes.
//
// Every read waits at most `read_timeout`, and none succeeds after `read_deadline`: the
// request (its body included) must arrive by then, so a client dripping its body cannot hold
// a worker. Writes wait at most `write_timeout` each (an event stream writes for as long as
// it lasts).
// Thread-compatible: used by the one worker serving the request.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>

#include "adapters/http/connection.h"

namespace gh::http {

class GateStream : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;

  GateStream(Connection& connection, std::chrono::milliseconds read_timeout,
             std::chrono::milliseconds write_timeout, Clock::time_point read_deadline);
  // Keeps the unread bytes in the connection.
  ~GateStream() override;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  using httplib::Stream::write;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return connection_.fd; }

 private:
  // Waits for `events` on the socket for up to `limit` (capped by the read deadline when
  // reading); true when ready.
  bool wait_for(short events, std::chrono::milliseconds limit, bool reading) const;

  Connection& connection_;
  const std::chrono::milliseconds read_timeout_;
  const std::chrono::milliseconds write_timeout_;
  const Clock::time_point read_deadline_;
  size_t offset_ = 0;  // bytes of connection_.pending already consumed
};

}  // namespace gh::http
