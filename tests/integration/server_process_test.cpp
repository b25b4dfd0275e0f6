// The real `gatehouse` executable as an operator runs it: it starts with defaults on a
// fresh store, says where everything is, and stops cleanly on SIGTERM and SIGINT.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

#include "tests/mqtt/test_support.h"

namespace {

namespace fs = std::filesystem;

struct Running {
  pid_t pid = -1;
  int out = -1;  // read end of the child's stdout+stderr
  std::string output;
};

// Starts gatehouse in `dir` with `args`; its output is collected through a pipe.
Running start_server(const fs::path& dir, const std::vector<std::string>& args) {
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
std::optional<std::string> read_until(Running& server, const std::regex& pattern) {
  char buffer[4096];
  std::smatch match;
  for (;;) {
    if (std::regex_search(server.output, match, pattern)) return match[1].str();
    auto n = read(server.out, buffer, sizeof buffer);
    if (n <= 0) return std::nullopt;
    server.output.append(buffer, size_t(n));
  }
}

int wait_exit(Running& server) {
  int status = 0;
  waitpid(server.pid, &status, 0);
  read_until(server, std::regex("(\\$^)"));  // drain the rest
  close(server.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class ServerProcess : public ::testing::TestWithParam<int> {};

TEST_P(ServerProcess, StartsWithDefaultsAndStopsCleanlyOnSignal) {
  auto dir = gh::mqtt_test::temp_dir("process");
  auto server = start_server(dir, {"--http.port=0", "--mqtt.port=0"});
  ASSERT_GT(server.pid, 0);
  auto port = read_until(server, std::regex("http +http://127\\.0\\.0\\.1:(\\d+)"));
  ASSERT_TRUE(port) << server.output;
  auto token = read_until(server, std::regex("admin = ([0-9a-f]{32})"));
  ASSERT_TRUE(token) << "the first start prints a bootstrap token\n" << server.output;
  EXPECT_NE(server.output.find("private mosquitto"), std::string::npos) << server.output;

  httplib::Client http("127.0.0.1", std::stoi(*port));
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  auto provisioned = http.Post("/devices", {{"Authorization", "Bearer " + *token}},
                               R"({"id":"door1","type":"lock"})", "application/json");
  ASSERT_TRUE(provisioned);
  EXPECT_EQ(provisioned->status, 201) << provisioned->body;

  ASSERT_EQ(kill(server.pid, GetParam()), 0);
  EXPECT_EQ(wait_exit(server), 0) << server.output;
  EXPECT_NE(server.output.find("stopped cleanly"), std::string::npos) << server.output;
  EXPECT_FALSE(http.Get("/healthz")) << "HTTP is closed";

  // The next start on the same store keeps the device and prints no new token.
  auto again = start_server(dir, {"--http.port=0", "--mqtt.port=0"});
  auto port2 = read_until(again, std::regex("http +http://127\\.0\\.0\\.1:(\\d+)"));
  ASSERT_TRUE(port2) << again.output;
  EXPECT_EQ(again.output.find("admin = "), std::string::npos) << again.output;
  httplib::Client http2("127.0.0.1", std::stoi(*port2));
  auto device = http2.Get("/devices/door1", {{"Authorization", "Bearer " + *token}});
  ASSERT_TRUE(device);
  EXPECT_EQ(device->status, 200) << device->body;
  kill(again.pid, SIGTERM);
  EXPECT_EQ(wait_exit(again), 0) << again.output;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Signals, ServerProcess, ::testing::Values(SIGTERM, SIGINT));

TEST(ServerProcessConfig, BadConfigurationIsRefusedWithTheOptionNamed) {
  auto dir = gh::mqtt_test::temp_dir("badconfig");
  auto server = start_server(dir, {"--mqtt.prefix=a/#"});
  EXPECT_EQ(wait_exit(server), 1);
  EXPECT_NE(server.output.find("mqtt.prefix"), std::string::npos) << server.output;
  auto unknown = start_server(dir, {"--no-such-option=1"});
  EXPECT_EQ(wait_exit(unknown), 2);
  fs::remove_all(dir);
}

}  // namespace
