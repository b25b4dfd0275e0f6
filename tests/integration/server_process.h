// The real `gatehouse` executable as an operator runs it, for the tests that need its own
// process (signals, its memory): start it, read its output, stop it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace gh::server_process {

namespace fs = std::filesystem;

struct Running {
  pid_t pid = -1;
  int out = -1;  // read end of the child's stdout+stderr
  std::string output;
};

// Starts gatehouse in `dir` with `args`; its output is collected through a pipe.
inline Running start_server(const fs::path& dir, const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    if (chdir(dir.c_str()) != 0) _exit(126);
    std::string binary = std::string(GH_BINARY_DIR) + "/server/gatehouse";
    std::vector<char*> argv{binary.data()};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  return {pid, pipe_fds[0], ""};
}

// Reads output until `pattern` matches (or the child ends); returns the match's group 1.
inline std::optional<std::string> read_until(Running& server, const std::regex& pattern) {
  char buffer[4096];
  std::smatch match;
  for (;;) {
    if (std::regex_search(server.output, match, pattern)) return match[1].str();
    auto n = read(server.out, buffer, sizeof buffer);
    if (n <= 0) return std::nullopt;
    server.output.append(buffer, size_t(n));
  }
}

inline int wait_exit(Running& server) {
  int status = 0;
  waitpid(server.pid, &status, 0);
  read_until(server, std::regex("(\\$^)"));  // drain the rest
  close(server.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// From here on gatehouse's output is read by a thread (a full pipe would stall gatehouse),
// and the server is stopped (SIGTERM) however the test ends; `status` is its exit status.
struct Draining {
  explicit Draining(Running& running) : server(running) {}
  Running& server;
  // Declared before the reader: members are built in this order, and the reader's thread
  // appends to `text` as soon as it starts.
  std::string text;
  int status = -1;
  std::thread reader{[this] {
    char buffer[4096];
    ssize_t n;
    while ((n = read(server.out, buffer, sizeof buffer)) > 0) text.append(buffer, size_t(n));
  }};
  ~Draining() { stop(); }
  void stop() {
    if (!reader.joinable()) return;
    kill(server.pid, SIGTERM);
    reader.join();
    server.output += text;
    status = wait_exit(server);
  }
};

}  // namespace gh::server_process
