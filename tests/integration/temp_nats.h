// A throwaway nats-server 2.9 for the tests of cluster mode on NATS (docs/cluster.md,
// "Session groups"): one node on free loopback ports, JetStream in a temporary directory, an
// MQTT listener, and the subject mappings scripts/cluster-up writes (devices' topics to
// shard-group.{{partition(groups,1)}}.…). Stopped (SIGTERM, then waited for) when destroyed.
// TempNatsCluster: three such nodes in one NATS cluster (routes between them, MQTT's streams
// on 3 replicas), as scripts/cluster-up runs them, any of which a test may kill.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/events/temp_postgres.h"

namespace gh::testing {

// One node's place in a NATS cluster: its name and ports, and every node's route port.
struct NatsClusterMember {
  std::string name;
  int client_port = 0;
  int mqtt_port = 0;
  int route_port = 0;
  std::vector<int> route_ports;  // of every node, this one's included
};

class TempNats {
 public:
  static constexpr const char* kBin = "/usr/sbin/nats-server";

  TempNats(uint32_t groups, const std::string& prefix = "gatehouse") {
    if (!make_dir()) return;
    for (int attempt = 0; attempt < 5 && !running(); ++attempt) {
      client_port_ = TempPostgres::free_port();
      mqtt_port_ = TempPostgres::free_port();
      write_config(groups, prefix);
      launch();
      wait_ready();
    }
  }
  // A member of a cluster: started, not waited for (its MQTT listener needs a JetStream
  // quorum, so the others must start too); wait_ready() afterwards.
  TempNats(uint32_t groups, const std::string& prefix, NatsClusterMember member)
      : member_(std::move(member)) {
    if (!make_dir()) return;
    client_port_ = member_.client_port;
    mqtt_port_ = member_.mqtt_port;
    write_config(groups, prefix);
    launch();
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
  // Kills the process at once (SIGKILL: a lost machine) and waits for it.
  void kill_now() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }
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
  bool make_dir() {
    if (!std::filesystem::exists(kBin)) {
      problem_ = std::string(kBin) + " is missing: install nats-server (scripts/setup)";
      return false;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-nats-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      problem_ = "cannot create a temporary directory";
      return false;
    }
    dir_ = pattern;
    return true;
  }

  void write_config(uint32_t groups, const std::string& prefix) {
    std::ofstream conf(dir_ + "/nats.conf");
    const bool clustered = !member_.name.empty();
    conf << "server_name: " << (clustered ? member_.name : "gh-test-nats") << "\n"
         << "listen: 127.0.0.1:" << client_port_ << "\n"
         << "jetstream { store_dir: \"" << dir_ << "/jetstream\" }\n";
    if (clustered) {
      conf << "cluster {\n  name: gh-test\n  listen: 127.0.0.1:" << member_.route_port
           << "\n  routes: [";
      for (size_t i = 0; i < member_.route_ports.size(); ++i)
        conf << (i ? ", " : "") << "nats-route://127.0.0.1:" << member_.route_ports[i];
      conf << "]\n}\n";
    }
    conf << "mqtt { listen: 127.0.0.1:" << mqtt_port_ << (clustered ? ", stream_replicas: 3" : "")
         << " }\n"
         << "mappings = {\n";
    for (const char* word : {"hello", "availability", "state", "stranger"})
      conf << "  \"" << prefix << ".devices.*." << word << "\": \"shard-group.{{partition("
           << groups << ",1)}}." << prefix << ".devices.{{wildcard(1)}}." << word << "\"\n";
    conf << "}\n";
  }

  void launch() {
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
  }

 public:
  // Ready once the MQTT listener accepts (JetStream and MQTT come up before it listens);
  // otherwise problem() says why and the process is stopped.
  void wait_ready() {
    if (pid_ <= 0) return;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
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

 private:
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  NatsClusterMember member_;  // empty name: a node alone
  std::string dir_;
  std::string problem_;
  int client_port_ = 0;
  int mqtt_port_ = 0;
  pid_t pid_ = 0;
};

class TempNatsCluster {
 public:
  static constexpr size_t kNodes = 3;

  explicit TempNatsCluster(uint32_t groups, const std::string& prefix = "gatehouse") {
    std::vector<NatsClusterMember> members(kNodes);
    std::vector<int> routes;
    for (size_t i = 0; i < kNodes; ++i) {
      members[i].name = "gh-test-nats" + std::to_string(i + 1);
      members[i].client_port = TempPostgres::free_port();
      members[i].mqtt_port = TempPostgres::free_port();
      members[i].route_port = TempPostgres::free_port();
      routes.push_back(members[i].route_port);
    }
    for (auto& member : members) {
      member.route_ports = routes;
      nodes_.push_back(std::make_unique<TempNats>(groups, prefix, member));
    }
    for (auto& node : nodes_) node->wait_ready();
  }

  bool running() const {
    for (const auto& node : nodes_)
      if (!node->running()) return false;
    return true;
  }
  std::string problem() const {
    for (const auto& node : nodes_)
      if (!node->problem().empty()) return node->problem();
    return "";
  }
  TempNats& node(size_t i) { return *nodes_.at(i); }
  // mqtt.broker for a gatehouse node: every MQTT listener, node `first` first.
  std::string mqtt_urls(size_t first) const {
    std::string urls = nodes_.at(first)->mqtt_url();
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (i != first) urls += "," + nodes_[i]->mqtt_url();
    return urls;
  }

 private:
  std::vector<std::unique_ptr<TempNats>> nodes_;
};

}  // namespace gh::testing
