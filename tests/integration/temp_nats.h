// A throwaway nats-server 2.9 for the tests of cluster mode on NATS (docs/cluster.md,
// "Session groups", "Device identity on NATS"): one node on free loopback ports, JetStream in
// a temporary directory, an MQTT listener, in operator mode with the setup
// `gatehousectl nats-auth create` writes (as scripts/cluster-up does), whose account carries
// the subject mappings of devices' topics to shard-group.{{partition(groups,1)}}.….
// account_seed_file() is gatehouse's cluster.nats-account-seed-file; tools_jwt() a bearer JWT
// with every permission (a stand-in for operators' own clients). Stopped (SIGTERM, then
// waited for) when destroyed.
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

#include "events/clock.h"
#include "tests/events/temp_postgres.h"
#include "tools/ctl/nats_auth_admin.h"

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
    std::ostringstream ignored;
    auto created =
        ctl::create_nats_auth({dir_ + "/auth", {prefix}, groups}, unix_now_ms() / 1000, ignored);
    if (!created.is_ok()) {
      problem_ = "gatehousectl nats-auth create: " + created.to_string();
      return;
    }
    for (int attempt = 0; attempt < 5 && !running(); ++attempt) {
      client_port_ = TempPostgres::free_port();
      mqtt_port_ = TempPostgres::free_port();
      write_config();
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
  // Makes nats-server read its configuration again (SIGHUP), as an operator does after
  // gatehousectl nats-auth revoke; true once it says it reloaded (its log).
  bool reload() {
    const auto before = count_reloads();
    if (pid_ <= 0 || kill(pid_, SIGHUP) != 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (count_reloads() > before) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::string auth_dir() const { return dir_ + "/auth"; }
  std::string account_seed_file() const { return auth_dir() + "/account.seed"; }
  std::string tools_jwt() const {
    std::ifstream in(auth_dir() + "/tools.jwt");
    std::string jwt;
    in >> jwt;
    return jwt;
  }
  std::string log() const {
    std::ifstream in(dir_ + "/log");
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  size_t count_reloads() const {
    const std::string text = log();
    size_t count = 0;
    for (auto at = text.find("Reloaded server configuration"); at != std::string::npos;
         at = text.find("Reloaded server configuration", at + 1))
      ++count;
    return count;
  }
  void write_config() {
    std::ofstream conf(dir_ + "/nats.conf");
    conf << "server_name: gh-test-nats\n"
         << "listen: 127.0.0.1:" << client_port_ << "\n"
         << "jetstream { store_dir: \"" << dir_ << "/jetstream\" }\n"
         << "mqtt { listen: 127.0.0.1:" << mqtt_port_ << " }\n"
         << "include \"auth/nats-auth.conf\"\n";  // relative to this file, as NATS reads it
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
