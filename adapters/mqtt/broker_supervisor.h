// Keeps the private mosquitto running: a thread watches the broker child and, when it exits
// (killed, crashed, out of memory), starts it again with the same configuration on the same
// port, so that doors and gatehouse's own connection reconnect to where they were. Failed
// starts are retried with exponential backoff. A broker that is merely paused (SIGSTOP) is
// not restarted: it still runs, and gatehouse's connection notices it through the MQTT
// keep-alive (docs/protocol.md "Connection behaviour").
//
// The restarted broker starts empty (no persistence): gatehouse's connection resubscribes
// and pushes the identity table again on reconnect (mqtt_connection.h, broker_sync.h).
//
// Thread-safety: every public member may be called from any thread. Restarted brokers are
// children of the watching thread (PR_SET_PDEATHSIG follows that thread), which lives until
// stop().
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/mqtt/broker_process.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

struct BrokerSupervisorOptions {
  std::chrono::milliseconds check_interval{100};  // how often the child is looked at
  std::chrono::milliseconds min_backoff{100};     // after a failed start, doubling
  std::chrono::milliseconds max_backoff{10000};
};

class BrokerSupervisor {
 public:
  // Starts the broker (BrokerProcess::start, same errors) and the thread that watches it.
  // Restarts use the port the first start bound (options.port 0 picks it once).
  static Result<std::unique_ptr<BrokerSupervisor>> start(BrokerProcessOptions broker,
                                                         BrokerSupervisorOptions options = {});
  ~BrokerSupervisor();  // stop()
  BrokerSupervisor(const BrokerSupervisor&) = delete;
  BrokerSupervisor& operator=(const BrokerSupervisor&) = delete;

  // Stops watching, then stops the broker (BrokerProcess::stop). Idempotent.
  Status stop();

  std::string url() const;  // "tcp://127.0.0.1:PORT", the same across restarts
  uint16_t port() const { return port_; }
  std::filesystem::path log_path() const;
  pid_t pid() const;                               // the current broker's; 0 while it is down
  uint64_t restarts() const { return restarts_; }  // brokers started after the first
  uint64_t restart_failures() const { return restart_failures_; }  // starts that failed

 private:
  BrokerSupervisor(BrokerProcessOptions options, BrokerSupervisorOptions supervision,
                   std::unique_ptr<BrokerProcess> broker);
  void watch();
  bool restart();  // true when a broker runs again

  BrokerProcessOptions options_;  // with the bound port
  const BrokerSupervisorOptions supervision_;
  const uint16_t port_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::unique_ptr<BrokerProcess> broker_;  // null while down
  std::atomic<uint64_t> restarts_{0};
  std::atomic<uint64_t> restart_failures_{0};
  std::thread thread_;
};

}  // namespace gh::mqtt_adapter
