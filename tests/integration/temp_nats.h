// A throwaway nats-server 2.9 for the tests of cluster mode on NATS (docs/cluster.md,
// "Session groups"): one node on free loopback ports, JetStream in a temporary directory, an
// MQTT listener, and the subject mappings scripts/cluster-up writes (devices' topics to
// shard-group.{{partition(groups,1)}}.…). Stopped (SIGTERM, then waited for) when destroyed.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/events/temp_postgres.h"

namespace gh::testing {

class TempNats {
 public:
  static constexpr const char* kBin = "/usr/sbin/nats-server";

  TempNats(uint32_t groups, const std::string& prefix = "gatehouse") {
    if (!std::filesystem::exists(kBin)) {
      problem_ = std::string(kBin) + " is missing: install nats-server (scripts/setup)";
      return;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-nats-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      problem_ = "cannot create a temporary directory";
      return;
    }
    dir_ = pattern;
    for (int attempt = 0; attempt < 5 && !running(); ++attempt) {
      client_port_ = TempPostgres::free_port();
      mqtt_port_ = TempPostgres::free_port();
      write_config(groups, prefix);
      start();
    }
  }
  ~TempNats() {
    stop();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  TempNats(const TempNats&) = delete;
  TempNats& operator=(const TempNats&) = delete;

  bool running() const { return pid_ > 0 && problem_.empty(); }
  const std::string& problem() const { return problem_; }
  // The MQTT listener, as gatehouse's mqtt.broker and paho want it.
  std::string mqtt_url() const { return "tcp://127.0.0.1:" + std::to_string(mqtt_port_); }
  std::string log() const {
    std::ifstream in(dir_ + "/log");
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  void write_config(uint32_t groups, const std::string& prefix) {
    std::ofstream conf(dir_ + "/nats.conf");
    conf << "server_name: gh-test-nats\n"
         << "listen: 127.0.0.1:" << client_port_ << "\n"
         << "jetstream { store_dir: \"" << dir_ << "/jetstream\" }\n"
         << "mqtt { listen: 127.0.0.1:" << mqtt_port_ << " }\n"
         << "mappings = {\n";
    for (const char* word : {"hello", "availability", "state", "stranger"})
      conf << "  \"" << prefix << ".devices.*." << word << "\": \"shard-group.{{partition("
           << groups << ",1)}}." << prefix << ".devices.{{wildcard(1)}}." << word << "\"\n";
    conf << "}\n";
  }

  void start() {
    problem_.clear();
    const std::string conf = dir_ + "/nats.conf";
    const std::string log_path = dir_ + "/log";
    std::vector<std::string> argv = {kBin, "-c", conf};
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = freopen(log_path.c_str(), "w", stderr);
      (void)out;
      dup2(2, 1);
      execv(args[0], args.data());
      _exit(127);
    }
    // Ready once the MQTT listener accepts (JetStream and MQTT come up before it listens).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        problem_ = "nats-server exited: " + log();
        return;
      }
      if (log().find("Listening for MQTT clients") != std::string::npos &&
          log().find("Server is ready") != std::string::npos)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    problem_ = "nats-server did not get ready: " + log();
    stop();
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  std::string dir_;
  std::string problem_;
  int client_port_ = 0;
  int mqtt_port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace gh::testing
