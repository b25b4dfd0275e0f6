// A throwaway nats-server 2.9 for the tests of cluster mode on NATS (docs/cluster.md,
// "Session groups", "Device identity on NATS"): one node on free loopback ports, JetStream in
// a temporary directory, an MQTT listener, in operator mode with the setup
// `gatehousectl nats-auth create` writes (as scripts/cluster-up does), whose account carries
// the subject mappings of devices' topics to shard-group.{{partition(groups,1)}}.….
// account_seed_file() is gatehouse's cluster.nats-account-seed-file; tools_jwt() a bearer JWT
// with every permission (a stand-in for operators' own clients); NATS' `full` resolver keeps
// the account JWTs in the node's directory, and client_url(), signing_seed_file() and
// system_creds_file() are what a gatehouse node needs to push revocations (cluster.nats-url
// and its two files). Stopped (SIGTERM, then waited for) when destroyed.
// TempNatsCluster: three such nodes in one NATS cluster (routes between them, MQTT's streams
// on 3 replicas, one setup shared by all three), as scripts/cluster-up runs them, any of which
// a test may kill.
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

#include "actors/system/nats_operator_setup.h"
#include "events/clock.h"
#include "tests/events/temp_postgres.h"
#include "tools/ctl/nats_auth_admin.h"

namespace gh::testing {

// One node's place in a NATS cluster: its name and ports, every node's route port, and the
// directory of the setup all of them share.
struct NatsClusterMember {
  std::string name;
  std::string auth_dir;
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
    if (auto created = create_auth(auth_dir(), groups, prefix); !created.is_ok()) {
      problem_ = created.to_string();
      return;
    }
    for (int attempt = 0; attempt < 5 && !running(); ++attempt) {
      client_port_ = TempPostgres::free_port();
      mqtt_port_ = TempPostgres::free_port();
      write_config();
      launch();
      wait_ready();
    }
  }
  // A member of a cluster: started, not waited for (its MQTT listener needs a JetStream
  // quorum, so the others must start too); wait_ready() afterwards.
  explicit TempNats(NatsClusterMember member) : member_(std::move(member)) {
    if (!make_dir()) return;
    // NATS reads an include relative to the including file: a copy of the shared setup.
    std::error_code failed;
    std::filesystem::copy(member_.auth_dir, auth_dir(), std::filesystem::copy_options::recursive,
                          failed);
    if (failed) {
      problem_ = "cannot copy the NATS setup: " + failed.message();
      return;
    }
    client_port_ = member_.client_port;
    mqtt_port_ = member_.mqtt_port;
    write_config();
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
  void kill_now() { end_with(SIGKILL); }
  const std::string& problem() const { return problem_; }
  // The MQTT listener, as gatehouse's mqtt.broker and paho want it.
  std::string mqtt_url() const { return "tcp://127.0.0.1:" + std::to_string(mqtt_port_); }
  // NATS' own client port (cluster.nats-url).
  std::string client_url() const { return "nats://127.0.0.1:" + std::to_string(client_port_); }
  // Makes nats-server read its configuration again (SIGHUP); true once it says it reloaded
  // (its log). With the full resolver a reload does not change the running account's
  // revocations (docs/cluster.md, "Revocation on NATS").
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
  std::string signing_seed_file() const { return auth_dir() + "/operator-signing.seed"; }
  std::string system_creds_file() const { return auth_dir() + "/system-user.creds"; }
  std::string tools_jwt() const { return read_tools_jwt(auth_dir()); }
  std::string log() const {
    std::ifstream in(dir_ + "/log");
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // The bearer JWT with every permission that `gatehousectl nats-auth create` wrote in `dir`.
  static std::string read_tools_jwt(const std::string& dir) {
    std::ifstream in(dir + "/tools.jwt");
    std::string jwt;
    in >> jwt;
    return jwt;
  }
  // A new directory under the system's temporary one, named `prefix`-XXXXXX; empty if none.
  static std::string temp_dir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    return mkdtemp(pattern.data()) == nullptr ? std::string() : pattern;
  }
  // `gatehousectl nats-auth create` into `dir`, or why it failed.
  static Status create_auth(const std::string& dir, uint32_t groups, const std::string& prefix) {
    std::ostringstream ignored;
    auto created = ctl::create_nats_auth({dir, {prefix}, groups}, unix_now_ms() / 1000, ignored);
    if (created.is_ok()) return created;
    return Status(created.code(), "gatehousectl nats-auth create: " + created.message());
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
  bool make_dir() {
    if (!std::filesystem::exists(kBin)) {
      problem_ = std::string(kBin) + " is missing: install nats-server (scripts/setup)";
      return false;
    }
    dir_ = temp_dir("gh-nats");
    if (dir_.empty()) problem_ = "cannot create a temporary directory";
    return !dir_.empty();
  }

  void write_config() {
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
         // The account's JWT carries the mappings. Relative to this file, as NATS reads it.
         << "include \"auth/nats-auth.conf\"\n"
         << nats_setup::resolver_config(dir_ + "/jwt");
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
  void stop() { end_with(SIGTERM); }
  void end_with(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
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
    const std::string dir = TempNats::temp_dir("gh-nats-auth");
    if (dir.empty()) {
      problem_ = "cannot create a temporary directory";
      return;
    }
    auth_dir_ = dir + "/auth";
    if (auto created = TempNats::create_auth(auth_dir_, groups, prefix); !created.is_ok()) {
      problem_ = created.to_string();
      return;
    }
    std::vector<NatsClusterMember> members(kNodes);
    std::vector<int> routes;
    for (size_t i = 0; i < kNodes; ++i) {
      members[i].name = "gh-test-nats" + std::to_string(i + 1);
      members[i].auth_dir = auth_dir_;
      members[i].client_port = TempPostgres::free_port();
      members[i].mqtt_port = TempPostgres::free_port();
      members[i].route_port = TempPostgres::free_port();
      routes.push_back(members[i].route_port);
    }
    for (auto& member : members) {
      member.route_ports = routes;
      nodes_.push_back(std::make_unique<TempNats>(member));
    }
    for (auto& node : nodes_) node->wait_ready();
  }

  ~TempNatsCluster() {
    nodes_.clear();
    if (!auth_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(std::filesystem::path(auth_dir_).parent_path(), ignored);
    }
  }
  TempNatsCluster(const TempNatsCluster&) = delete;
  TempNatsCluster& operator=(const TempNatsCluster&) = delete;

  bool running() const {
    if (!problem_.empty() || nodes_.empty()) return false;
    for (const auto& node : nodes_)
      if (!node->running()) return false;
    return true;
  }
  std::string problem() const {
    if (!problem_.empty()) return problem_;
    for (const auto& node : nodes_)
      if (!node->problem().empty()) return node->problem();
    return "";
  }
  TempNats& node(size_t i) { return *nodes_.at(i); }
  std::string account_seed_file() const { return auth_dir_ + "/account.seed"; }
  std::string signing_seed_file() const { return auth_dir_ + "/operator-signing.seed"; }
  std::string system_creds_file() const { return auth_dir_ + "/system-user.creds"; }
  std::string tools_jwt() const { return TempNats::read_tools_jwt(auth_dir_); }
  // cluster.nats-url for a gatehouse node: every client port, node `first` first.
  std::string client_urls(size_t first) const {
    std::string urls = nodes_.at(first)->client_url();
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (i != first) urls += "," + nodes_[i]->client_url();
    return urls;
  }
  // mqtt.broker for a gatehouse node: every MQTT listener, node `first` first.
  std::string mqtt_urls(size_t first) const {
    std::string urls = nodes_.at(first)->mqtt_url();
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (i != first) urls += "," + nodes_[i]->mqtt_url();
    return urls;
  }

 private:
  std::string problem_;
  std::string auth_dir_;
  std::vector<std::unique_ptr<TempNats>> nodes_;
};

}  // namespace gh::testing
