// A throwaway PostgreSQL 15 for the tests of cluster mode's storage: initdb in a fresh
// temporary directory, started with pg_ctl on a free loopback port (no Unix socket outside
// that directory), one empty database per test, stopped and removed when the test binary
// exits. Real PostgreSQL, no mock, and nothing to run beforehand.
//
// initdb refuses to run as root (tests run as root in CI): then every PostgreSQL program
// runs as user `nobody` through setpriv(1), and the directory is handed to that user.
//
// Not thread-safe: used from the test's main thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gh::testing {

class TempPostgres {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

  // The one cluster of this test binary, started on first use.
  static TempPostgres& shared() {
    static TempPostgres instance;
    return instance;
  }

  // Whether the cluster runs; when not, why (the tests fail with it).
  bool running() const { return running_; }
  const std::string& problem() const { return problem_; }

  // A libpq connection string to a new, empty database of its own.
  std::string fresh_database() {
    const std::string name = "test_" + std::to_string(++databases_);
    std::string output;
    if (!run({std::string(kBin) + "/createdb", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U",
              "gatehouse", name},
             &output))
      ADD_FAILURE() << "createdb " << name << " failed: " << output;
    return conninfo(name);
  }

  std::string conninfo(const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=gatehouse dbname=" + database;
  }

  ~TempPostgres() {
    if (running_) {
      std::string output;
      run({std::string(kBin) + "/pg_ctl", "-D", dir_ + "/data", "-m", "fast", "-w", "stop"},
          &output);
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // A loopback port nobody listens on right now.
  static int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
      port = ntohs(address.sin_port);
    close(fd);
    return port;
  }

 private:
  TempPostgres() {
    if (!std::filesystem::exists(std::string(kBin) + "/initdb")) {
      problem_ = std::string(kBin) + "/initdb is missing: install postgresql-15 (scripts/setup)";
      return;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-pg-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      problem_ = "cannot create a temporary directory";
      return;
    }
    dir_ = pattern;
    if (getuid() == 0) {
      const passwd* nobody = getpwnam("nobody");
      if (nobody == nullptr || chown(dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
        problem_ = "running as root, and cannot hand " + dir_ + " to user nobody";
        return;
      }
      as_user_ = {"setpriv", "--reuid=" + std::to_string(nobody->pw_uid),
                  "--regid=" + std::to_string(nobody->pw_gid), "--clear-groups", "--"};
    }
    start_reaper();
    std::string output;
    // --no-sync: the cluster is thrown away; the server itself still fsyncs every commit.
    if (!run({std::string(kBin) + "/initdb", "-D", dir_ + "/data", "-U", "gatehouse",
              "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"},
             &output)) {
      problem_ = "initdb failed: " + output;
      return;
    }
    // A free port can be taken by someone else between our probe and the server's bind:
    // try a few.
    for (int attempt = 0; attempt < 5 && !running_; ++attempt) {
      port_ = free_port();
      running_ = run(
          {std::string(kBin) + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w",
           "-t", "60", "-o", "-p " + std::to_string(port_) + " -h 127.0.0.1 -k " + dir_, "start"},
          &output);
    }
    if (!running_) problem_ = "pg_ctl start failed: " + output + read_file(dir_ + "/server.log");
  }

  // A shell that waits for this process to end, however it ends (a crash, a killed test,
  // SIGPIPE), then stops the server and removes the directory: no PostgreSQL outlives its
  // test binary. It reads a pipe only we hold open; end of file means we are gone.
  void start_reaper() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    std::string stop;
    for (const auto& word : as_user_) stop += word + " ";
    const std::string script = "read ignored; " + stop + kBin + "/pg_ctl -D " + dir_ +
                               "/data -m immediate stop >/dev/null 2>&1; rm -rf " + dir_;
    std::vector<std::string> argv = {"/bin/sh", "-c", script};
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_t child = fork();
    if (child == 0) {
      dup2(fds[0], 0);  // dup2 clears close-on-exec on the copy
      setsid();         // not in the test's process group: a ^C must not kill it first
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[0]);
    reaper_pipe_ = fds[1];  // closed only when this process ends
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Runs a PostgreSQL program (as `nobody` when we are root) in the cluster's directory;
  // true when it exits 0. Its output goes to `output`.
  bool run(std::vector<std::string> argv, std::string* output) const {
    argv.insert(argv.begin(), as_user_.begin(), as_user_.end());
    const std::string log = dir_ + "/command.log";
    // Everything the child needs is built before fork(): other threads may hold malloc's lock.
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_t child = fork();
    if (child == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (chdir(dir_.c_str()) != 0) _exit(126);
      execvp(args[0], args.data());
      _exit(127);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return false;
    *output = read_file(log);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  std::string dir_;
  std::string problem_;
  std::vector<std::string> as_user_;
  int port_ = 0;
  bool running_ = false;
  int databases_ = 0;
  int reaper_pipe_ = -1;
};

}  // namespace gh::testing
