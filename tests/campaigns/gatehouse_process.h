// The real gatehouse executable as a campaign runs it: started on a store with free ports
// (its private mosquitto included), its banner read for the ports and the first start's
// token, killed with SIGKILL, and the broker it started watched after the kill.
//
// Thread-compatible: one thread starts, kills and inspects a process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gh::testing {

struct GatehouseProcess {
  pid_t pid = -1;
  int http_port = 0;
  int broker_port = 0;
  pid_t broker_pid = -1;        // the private mosquitto (RUN-DIR/mosquitto/mosquitto.pid)
  std::string bootstrap_token;  // printed by the first start on a fresh store only
};

// Starts `binary` with its store in `dir`/store and run directory `dir`/run, `extra`
// options, output appended to `dir`/gatehouse.log; waits (up to `timeout`) for its banner.
// nullopt (with `why` set) when it exited or did not come up in time (it is then killed).
std::optional<GatehouseProcess> start_gatehouse(const std::filesystem::path& binary,
                                                const std::filesystem::path& dir,
                                                const std::vector<std::string>& extra,
                                                std::chrono::seconds timeout, std::string& why);

// Starts gatehouse as start_gatehouse() does, without waiting for it: to kill it while it
// starts (recovers, starts its broker). Its pid, or -1.
pid_t spawn_gatehouse(const std::filesystem::path& binary, const std::filesystem::path& dir,
                      const std::vector<std::string>& extra);

// The pid of a mosquitto running on the config in `dir`/run (as its pid file says, and its
// command line confirms), or -1 when none runs.
pid_t broker_of(const std::filesystem::path& dir);

// SIGKILL, then reaps it.
void kill_gatehouse(GatehouseProcess& process);

// SIGTERM, then reaps it; its exit code (128 + signal when killed by one).
int stop_gatehouse(GatehouseProcess& process);

// True when `pid` is gone (or a zombie: it holds no port any more).
bool process_gone(pid_t pid);

// True when something accepts TCP connections on 127.0.0.1:`port`.
bool port_open(int port);

}  // namespace gh::testing
