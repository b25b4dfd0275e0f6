#include "tests/campaigns/gatehouse_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace gh::testing {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> find(const std::string& text, const std::regex& pattern) {
  std::smatch match;
  if (!std::regex_search(text, match, pattern)) return std::nullopt;
  return match[1].str();
}

}  // namespace

pid_t spawn_gatehouse(const fs::path& binary, const fs::path& dir,
                      const std::vector<std::string>& extra) {
  const fs::path log = dir / "gatehouse.log";
  std::vector<std::string> args{binary.string(), "--store.path=" + (dir / "store").string(),
                                "--store.run-dir=" + (dir / "run").string(), "--http.port=0",
                                "--mqtt.port=0"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) ::_exit(126);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid < 0 ? -1 : pid;
}

std::optional<GatehouseProcess> start_gatehouse(const fs::path& binary, const fs::path& dir,
                                                const std::vector<std::string>& extra,
                                                std::chrono::seconds timeout, std::string& why) {
  const fs::path log = dir / "gatehouse.log";
  // Each start reads only its own banner: remember where it begins.
  std::error_code ec;
  const auto offset = fs::exists(log) ? fs::file_size(log, ec) : 0;
  const pid_t pid = spawn_gatehouse(binary, dir, extra);
  if (pid < 0) {
    why = "fork failed";
    return std::nullopt;
  }
  GatehouseProcess process;
  process.pid = pid;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string text = read_file(log).substr(offset);
    if (text.find("Ctrl-C stops cleanly") != std::string::npos) {
      auto http = find(text, std::regex("http +http://127\\.0\\.0\\.1:(\\d+)"));
      auto broker = find(text, std::regex("broker +tcp://127\\.0\\.0\\.1:(\\d+)"));
      if (!http || !broker) {
        why = "no ports in the banner:\n" + text;
        kill_gatehouse(process);
        return std::nullopt;
      }
      process.http_port = std::stoi(*http);
      process.broker_port = std::stoi(*broker);
      process.bootstrap_token = find(text, std::regex("admin = ([0-9a-f]{32})")).value_or("");
      const auto pid_text = read_file(dir / "run" / "mosquitto" / "mosquitto.pid");
      if (!pid_text.empty()) process.broker_pid = std::stoi(pid_text);
      return process;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      why = "gatehouse exited at start:\n" + text;
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      why = "gatehouse did not come up:\n" + text;
      kill_gatehouse(process);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void kill_gatehouse(GatehouseProcess& process) {
  if (process.pid <= 0) return;
  ::kill(process.pid, SIGKILL);
  int status = 0;
  ::waitpid(process.pid, &status, 0);
  process.pid = -1;
}

int stop_gatehouse(GatehouseProcess& process) {
  if (process.pid <= 0) return -1;
  ::kill(process.pid, SIGTERM);
  int status = 0;
  ::waitpid(process.pid, &status, 0);
  process.pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

pid_t broker_of(const fs::path& dir) {
  const auto pid_text = read_file(dir / "run" / "mosquitto" / "mosquitto.pid");
  if (pid_text.empty()) return -1;
  const pid_t pid = std::atoi(pid_text.c_str());
  if (pid <= 0 || process_gone(pid)) return -1;
  // A pid of an earlier run may since name another process.
  const auto command = read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
  const bool ours = command.find("mosquitto") != std::string::npos &&
                    command.find((dir / "run").string()) != std::string::npos;
  return ours ? pid : -1;
}

bool process_gone(pid_t pid) {
  if (pid <= 0) return true;
  if (::kill(pid, 0) != 0) return true;
  // Reparented to init, a dead child may stay a zombie until reaped: it holds nothing.
  const auto stat = read_file(fs::path("/proc") / std::to_string(pid) / "stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

}  // namespace gh::testing
