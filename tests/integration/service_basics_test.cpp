// The real `gatehouse` executable, as an operator meets it: --help, --version, --dump-config,
// refusals of unknown options and config keys, its log lines, and a /metrics that Prometheus'
// own checker (promtool, Debian's prometheus package) accepts.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "server/config.h"
#include "tests/mqtt/test_support.h"

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A gatehouse process in `dir` whose stdout and stderr go to files there.
struct Process {
  fs::path dir;
  pid_t pid = -1;
  std::string out() const { return slurp(dir / "stdout"); }
  std::string err() const { return slurp(dir / "stderr"); }
  int wait() {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // The banner's last line, or nullopt when the process ended first.
  bool wait_until_up() {
    while (out().find("Ctrl-C stops cleanly") == std::string::npos) {
      if (waitpid(pid, nullptr, WNOHANG) != 0) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }
  std::string banner(const std::string& pattern) const {
    std::smatch match;
    auto text = out();
    return std::regex_search(text, match, std::regex(pattern)) ? match[1].str() : "";
  }
};

Process start(const fs::path& dir, const std::vector<std::string>& args) {
  Process process{dir};
  process.pid = fork();
  if (process.pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    if (!freopen("stdout", "w", stdout) || !freopen("stderr", "w", stderr)) _exit(126);
    std::string binary = std::string(GH_BINARY_DIR) + "/server/gatehouse";
    std::vector<char*> argv{binary.data()};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return process;
}

// Runs gatehouse to its end.
Process run(const fs::path& dir, const std::vector<std::string>& args, int* exit_code) {
  auto process = start(dir, args);
  *exit_code = process.wait();
  return process;
}

class ServiceBasics : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = gh::mqtt_test::temp_dir("service"); }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

TEST_F(ServiceBasics, HelpListsEveryOwnOptionWithItsDefaultOnStdout) {
  int code = -1;
  auto help = run(dir_, {"--help"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(help.err(), "");
  const auto text = help.out();
  gh::server::Config defaults;
  for (const auto* option : defaults.own_options()) {
    std::string name =
        option->category() == "global"
            ? std::string(option->long_name().begin(), option->long_name().end())
            : std::string(option->category().begin(), option->category().end()) + "." +
                  std::string(option->long_name().begin(), option->long_name().end());
    EXPECT_NE(text.find("\n  --" + name + "="), std::string::npos) << name << " missing:\n" << text;
  }
  EXPECT_NE(text.find("  --http.port=8080 "), std::string::npos) << "with its default";
  EXPECT_NE(text.find("  --log.format=\"text\" "), std::string::npos);
  EXPECT_EQ(text.find("opencl"), std::string::npos) << "CAF's options stay behind --long-help";
  EXPECT_EQ(text.find("scheduler."), std::string::npos);
  auto long_help = run(dir_, {"--long-help"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE((long_help.out() + long_help.err()).find("scheduler"), std::string::npos);
}

TEST_F(ServiceBasics, VersionPrintsTheVersion) {
  int code = -1;
  auto version = run(dir_, {"--version"}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(std::regex_match(version.out(), std::regex("gatehouse [0-9]+\\.[0-9]+\\.[0-9]+\n")))
      << version.out();
}

TEST_F(ServiceBasics, DumpConfigPrintsEveryEffectiveValueAsAConfigFile) {
  write("caf-application.ini", "[devices]\ncommand-timeout=1500\n");
  int code = -1;
  auto dump = run(dir_, {"--dump-config", "--http.port=9999"}, &code);
  EXPECT_EQ(code, 0) << dump.err();
  const auto text = dump.out();
  EXPECT_NE(text.find("[http]\naddress=\"127.0.0.1\"\nport=9999\n"), std::string::npos) << text;
  EXPECT_NE(text.find("command-timeout=1500\n"), std::string::npos) << "from the config file";
  EXPECT_NE(text.find("[log]\nlevel=\"info\"\nformat=\"text\"\n"), std::string::npos);
  gh::server::Config defaults;
  for (const auto* option : defaults.own_options())
    EXPECT_NE(
        text.find("\n" + std::string(option->long_name().begin(), option->long_name().end()) + "="),
        std::string::npos)
        << option->long_name().data();
  // Read back as a config file, it gives the same values.
  write("dumped.ini", text);
  fs::remove(dir_ / "caf-application.ini");
  auto again = run(dir_, {"--dump-config", "--config-file=dumped.ini"}, &code);
  EXPECT_EQ(code, 0) << again.err();
  EXPECT_EQ(again.out(), text);
}

TEST_F(ServiceBasics, UnknownOptionsAndConfigKeysAreRefusedByName) {
  int code = -1;
  write("caf-application.ini", "[http]\nprot=9999\n");
  auto key = run(dir_, {}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(key.err().find("unknown option prot in [http]"), std::string::npos) << key.err();
  EXPECT_FALSE(fs::exists(dir_ / "var")) << "nothing is created";

  write("caf-application.ini", "[devcies]\nauto-register=\"off\"\n");
  auto section = run(dir_, {}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(section.err().find("unknown section [devcies]"), std::string::npos) << section.err();
  fs::remove(dir_ / "caf-application.ini");

  auto flag = run(dir_, {"--htp.port=1"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(flag.err().find("unknown option --htp.port"), std::string::npos) << flag.err();
  auto missing = run(dir_, {"--config-file=nope.ini"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(missing.err().find("nope.ini"), std::string::npos) << missing.err();
  auto level = run(dir_, {"--log.level=loud", "--dump-config"}, &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(level.err().find("log.level"), std::string::npos) << level.err();
  EXPECT_FALSE(fs::exists(dir_ / "var"));
}

// JSON log lines with time, level and component; requests and commands at info, never a
// token; and a /metrics that promtool accepts.
TEST_F(ServiceBasics, LogsAreJsonLinesWithoutSecretsAndMetricsPassPromtool) {
  auto server = start(dir_, {"--http.port=0", "--mqtt.port=0", "--log.format=json"});
  ASSERT_TRUE(server.wait_until_up()) << server.out() << server.err();
  const auto port = server.banner("http +http://127\\.0\\.0\\.1:(\\d+)");
  const auto token = server.banner("admin = ([0-9a-f]{32})");
  ASSERT_FALSE(port.empty());
  ASSERT_FALSE(token.empty());
  EXPECT_NE(server.out().find("console     http://127.0.0.1:" + port + "/"), std::string::npos);
  EXPECT_NE(server.out().find("/devices/door1/lock"), std::string::npos)
      << "the example locks one door, not all:\n"
      << server.out();

  httplib::Client http("127.0.0.1", std::stoi(port));
  httplib::Headers auth{{"Authorization", "Bearer " + token}};
  auto provisioned =
      http.Post("/devices", auth, R"({"id":"door1","type":"lock"})", "application/json");
  ASSERT_TRUE(provisioned);
  ASSERT_EQ(provisioned->status, 201);
  const std::string door_secret = nlohmann::json::parse(provisioned->body)["credential"]["secret"];
  auto locked = http.Post("/devices/door1/lock", auth, "", "text/plain");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 202);
  auto refused =
      http.Post("/devices/door1/unlock", {{"Authorization", "Bearer wrong"}}, "", "text/plain");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  // A query string may carry a signature: never logged.
  auto signed_link = http.Get("/pictures/00ff?exp=1&sig=querysecret42");
  ASSERT_TRUE(signed_link);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  write("metrics.txt", metrics->body);
  const std::string promtool = "promtool check metrics < " + (dir_ / "metrics.txt").string() +
                               " > " + (dir_ / "promtool.txt").string() + " 2>&1";
  EXPECT_EQ(std::system(promtool.c_str()), 0) << slurp(dir_ / "promtool.txt");
  EXPECT_EQ(slurp(dir_ / "promtool.txt"), "") << "no lint findings";
  for (const char* line :
       {"gatehouse_doors{presence=\"unknown\"} 1\n", "gatehouse_doors{presence=\"online\"} 0\n",
        "gatehouse_device_command_outcomes_total{result=\"confirmed\"} 0\n",
        "# TYPE gatehouse_journal_fsync_duration_seconds histogram\n",
        "gatehouse_broker_connected 1\n"})
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line;

  ASSERT_EQ(kill(server.pid, SIGTERM), 0);
  EXPECT_EQ(server.wait(), 0);
  const auto log = server.err();
  EXPECT_EQ(log.find(token), std::string::npos) << "the log never holds a token";
  EXPECT_EQ(log.find(door_secret), std::string::npos) << "nor a door's secret";
  EXPECT_EQ(log.find("querysecret42"), std::string::npos) << "nor a query string";
  EXPECT_NE(log.find("\"path\":\"/pictures/00ff\""), std::string::npos) << log;
  std::istringstream lines(log);
  std::string line;
  bool request = false, command = false, refusal = false, stopped = false;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
    EXPECT_TRUE(std::regex_match(j.value("time", ""),
                                 std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z")))
        << line;
    EXPECT_FALSE(j.value("level", "").empty()) << line;
    EXPECT_FALSE(j.value("component", "").empty()) << line;
    if (j["component"] == "http" && j.value("path", "") == "/devices/door1/lock" &&
        j.value("status", "") == "202" && j["level"] == "info")
      request = true;
    if (j["component"] == "http" && j.value("path", "") == "/devices/door1/unlock" &&
        j.value("status", "") == "401")
      refusal = true;
    if (j["component"] == "devices" && j.value("msg", "") == "command requested" &&
        j.value("door", "") == "door1" && j.value("by", "") == "api_token admin")
      command = true;
    if (j.value("msg", "") == "stopped cleanly") stopped = true;
  }
  EXPECT_TRUE(request) << log;
  EXPECT_TRUE(refusal) << log;
  EXPECT_TRUE(command) << log;
  EXPECT_TRUE(stopped) << log;
}

TEST_F(ServiceBasics, LogLevelWarningLeavesOutRequests) {
  auto server = start(dir_, {"--http.port=0", "--mqtt.port=0", "--log.level=warning"});
  ASSERT_TRUE(server.wait_until_up()) << server.out() << server.err();
  httplib::Client http("127.0.0.1",
                       std::stoi(server.banner("http +http://127\\.0\\.0\\.1:(\\d+)")));
  auto res = http.Get("/hello");
  ASSERT_TRUE(res);
  ASSERT_EQ(kill(server.pid, SIGTERM), 0);
  EXPECT_EQ(server.wait(), 0);
  EXPECT_EQ(server.err().find("/hello"), std::string::npos) << server.err();
  EXPECT_EQ(server.err().find(" info "), std::string::npos) << server.err();
}

}  // namespace

namespace {

// Every option named in README.md and docs/*.md (`section.key` in backquotes, or --section.key)
// is one the binary lists: gatehouse's own in --help, CAF's in --long-help. And the docs stand
// alone: they name no file outside the repository.
TEST_F(ServiceBasics, DocsNameOnlyOptionsThatExistAndNoFileOutsideTheRepository) {
  int code = -1;
  auto help = run(dir_, {"--help"}, &code);
  ASSERT_EQ(code, 0);
  auto long_help = run(dir_, {"--long-help"}, &code);
  ASSERT_EQ(code, 0);
  std::set<std::string> options;
  const std::regex listed("--([a-z][a-z0-9-]*(\\.[a-z0-9-]+)*)=");
  for (const auto& text : {help.out(), long_help.out() + long_help.err()})
    for (std::sregex_iterator it(text.begin(), text.end(), listed), end; it != end; ++it)
      options.insert((*it)[1].str());
  ASSERT_TRUE(options.count("http.port") && options.count("scheduler.policy"));

  // A name whose first part is a section of options: `mqtt.max-payload`, --log.format.
  const std::regex named(
      "(?:`|--)((?:store|cluster|mqtt|http|auth|devices|chat|actions|log|scheduler|logger|"
      "middleman)"
      "(?:\\.[A-Za-z0-9_-]+)+)");
  std::vector<fs::path> docs{fs::path(GH_SOURCE_DIR) / "README.md"};
  for (const auto& entry : fs::directory_iterator(fs::path(GH_SOURCE_DIR) / "docs"))
    if (entry.path().extension() == ".md") docs.push_back(entry.path());
  size_t checked = 0;
  for (const auto& doc : docs) {
    const auto text = slurp(doc);
    for (std::sregex_iterator it(text.begin(), text.end(), named), end; it != end; ++it) {
      if ((*it)[1].str() == "cluster.env") continue;  // scripts/cluster-up's file, not an option
      ++checked;
      EXPECT_TRUE(options.count((*it)[1].str()))
          << doc.filename() << " names " << (*it)[1].str() << ", which gatehouse does not have";
    }
    for (const char* outside : {"DESIGN.md", "STYLE.md", "seeds/", "../shared", "/work/"})
      EXPECT_EQ(text.find(outside), std::string::npos)
          << doc.filename() << " refers to " << outside << ", outside the repository";
  }
  EXPECT_GT(checked, 50u) << "the docs name the options they describe";
}

}  // namespace
