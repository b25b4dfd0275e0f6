// A private mosquitto broker, run as a child process on a free loopback port: what the
// server starts when no broker URL is configured, and what every integration test uses
// (a real broker, never a mock). The broker gets `set_tcp_nodelay true` (DESIGN.md
// "Latency: Nagle's algorithm"), no persistence, and logs to a file in `work_dir`.
//
// Thread-safety: start() is safe from any thread; a BrokerProcess is thread-compatible.
// The broker is stopped when the object is destroyed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh::mqtt_adapter {

// The gatehouse_auth.so installed with this binary (PREFIX/lib/gatehouse, beside PREFIX/bin),
// else the one built with it.
std::filesystem::path default_plugin_path();

// Who may do what on the broker: gatehouse's plugin (broker_plugin/plugin.cpp) and its
// options. Without it the broker lets anyone do anything (only for tests of other parts).
struct BrokerAccess {
  std::filesystem::path plugin = default_plugin_path();
  std::string server_username = "gatehouse";
  std::string server_sha256_hex;  // SHA-256 of gatehouse's password
  std::string server_client_id = "gatehouse";
  std::string prefix = "gatehouse";
  std::string anonymous = "local";  // on | local | off (identity_table.h Anonymous)
  bool legacy = false;
  std::vector<std::string> legacy_topics;
  std::string discovery_prefix;  // Home Assistant discovery; empty: off
  // Messages per second each client connection may publish (0: no limit) and at once
  // (broker_plugin/publish_rate.h); gatehouse's own connection is never limited.
  uint64_t publish_rate = 0;
  uint64_t publish_burst = 0;
};

// A further listener, on the network: TLS unless explicitly insecure (the caller checks that
// it was told so).
struct BrokerListener {
  std::string address;  // "0.0.0.0", an interface address
  uint16_t port = 8883;
  std::filesystem::path certfile, keyfile;  // both empty: no TLS
  std::filesystem::path client_ca;          // set: clients must present a certificate from it
};

struct BrokerProcessOptions {
  std::filesystem::path work_dir;  // required: mosquitto.{conf,log,out,pid} go here
  std::string executable = "/usr/sbin/mosquitto";
  std::optional<BrokerAccess> access;              // unset: anonymous, no rules (tests only)
  std::vector<BrokerListener> listeners;           // besides the loopback listener
  size_t max_packet_bytes = 0;                     // 0: mosquitto's default
  uint16_t port = 0;                               // loopback port; 0: pick a free one
  std::chrono::milliseconds start_timeout{10000};  // until it accepts connections
  std::chrono::milliseconds stop_timeout{5000};    // after SIGTERM, before SIGKILL
  // The kernel sends the broker SIGTERM when the thread that started it ends (normally
  // or by a crash), so no broker outlives a crashed server or test. Start it from a thread
  // that lives as long as the broker (main), or turn this off.
  bool stop_with_parent = true;
};

class BrokerProcess {
 public:
  // Writes the config, starts mosquitto and waits until it listens on its port. A broker
  // left running in `work_dir` by a crashed earlier run (mosquitto.pid, same config file) is
  // stopped first.
  // kInvalidArgument: no work_dir; kUnavailable: the executable cannot be started, exited
  // early (the message quotes its log) or did not listen within start_timeout (it is then
  // killed). With port 0 a lost race for the chosen port is retried on another one; a given
  // port that is taken is kUnavailable naming the port and what to do.
  static Result<std::unique_ptr<BrokerProcess>> start(BrokerProcessOptions options);

  // Stops the broker (see stop()).
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // SIGTERM, wait up to stop_timeout, then SIGKILL; reaps the child. Idempotent. ok when
  // the broker is gone; kInternal if it could not be reaped.
  Status stop();

  // Reaps the broker if it has exited (without waiting): true when it no longer runs
  // (killed, crashed, or stopped before). A paused (SIGSTOP) broker still runs.
  bool exited();

  std::string host() const { return "127.0.0.1"; }
  uint16_t port() const { return port_; }
  std::string url() const;  // "tcp://127.0.0.1:PORT"
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::filesystem::path& log_path() const { return log_path_; }

 private:
  BrokerProcess(BrokerProcessOptions options, uint16_t port, pid_t pid);

  BrokerProcessOptions options_;
  uint16_t port_;
  pid_t pid_;
  std::filesystem::path log_path_;
};

}  // namespace gh::mqtt_adapter
