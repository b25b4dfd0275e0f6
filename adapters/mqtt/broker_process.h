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
#include <string>

#include "events/status.h"

namespace gh::mqtt_adapter {

struct BrokerProcessOptions {
  std::filesystem::path work_dir;  // required: mosquitto.{conf,log,out,pid} go here
  std::string executable = "/usr/sbin/mosquitto";
  uint16_t port = 0;                               // 0: pick a free loopback port
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
  // killed). With port 0 a lost race for the chosen port is retried on another one.
  static Result<std::unique_ptr<BrokerProcess>> start(BrokerProcessOptions options);

  // Stops the broker (see stop()).
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // SIGTERM, wait up to stop_timeout, then SIGKILL; reaps the child. Idempotent. ok when
  // the broker is gone; kInternal if it could not be reaped.
  Status stop();

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
