// Issue 12, exhaustion: the real `gatehouse` executable with its defaults, attacked one way
// at a time: 500 idle or half-sent HTTP connections (slowloris) and more than one address
// may hold, a header flood, an MQTT flood of hellos, state flips and pictures from ONE
// provisioned door, and login floods over HTTP and over MQTT. During each attack a good
// client asks /healthz and locks a door every 200 ms from its own address: every such
// request must be answered (its worst latency is printed, not asserted: the machine is
// shared); the server's RSS before, at its peak and after is printed; and each refusal shows
// in /metrics under the counter the docs name (docs/reliability.md "Exhaustion").
//
// GH_EXHAUSTION_SCALE=N multiplies the floods (default 1, the short form in CTest;
// scripts/exhaustion runs 10).
#include <gtest/gtest.h>
#include <httplib.h>
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/http/raw_socket.h"
#include "tests/integration/server_process.h"
#include "tests/mqtt/test_support.h"

namespace {

namespace fs = std::filesystem;
namespace raw = gh::http::testing;
using gh::server_process::Draining;
using gh::server_process::read_until;
using gh::server_process::start_server;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

int scale_from_environment() {
  const char* text = std::getenv("GH_EXHAUSTION_SCALE");
  return text != nullptr && std::atoi(text) > 0 ? std::atoi(text) : 1;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The value of `sample` (name with labels, as /metrics writes it) in `text`; -1 when absent.
double metric_in(const std::string& text, const std::string& sample) {
  for (size_t at = 0; (at = text.find(sample + " ", at)) != std::string::npos; ++at) {
    if (at != 0 && text[at - 1] != '\n') continue;
    return std::strtod(text.c_str() + at + sample.size() + 1, nullptr);
  }
  return -1;
}

// One request on a fresh connection from `source`; the answer's status (0 without one).
int raw_status(int port, const std::string& source, const std::string& method,
               const std::string& path, const std::string& body) {
  int fd = raw::connect_loopback_from(port, source);
  if (fd < 0) return 0;
  raw::send_all(fd, method + " " + path +
                        " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                        "Content-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
  auto answer = raw::read_until_close(fd, std::chrono::seconds(60));
  ::close(fd);
  if (answer.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::atoi(answer.c_str() + 9);
}

// What went wrong, from gatehouse's own words: its warning and error lines (the last 60).
void print_warnings(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    const bool bad =
        line.find("warning") != std::string::npos || line.find("error") != std::string::npos;
    // A door's own refused commands and reports are expected here, and would hide the rest.
    if (bad && line.find("devices:") == std::string::npos) lines.push_back(line);
  }
  const size_t from = lines.size() > 60 ? lines.size() - 60 : 0;
  for (size_t i = from; i < lines.size(); ++i) std::printf("[ server   ] %s\n", lines[i].c_str());
}

class Exhaustion : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = gh::mqtt_test::temp_dir("exhaustion");
    std::vector<std::string> args = {"--http.port=0", "--mqtt.port=0"};
    // In CTest (scale 1) the broker's publish limits are lowered, so that the floods below go
    // past them however slowly this machine sends (a sanitizer build, a loaded machine); the
    // campaign (scripts/exhaustion, scale > 1) measures the defaults.
    if (scale_from_environment() == 1) {
      args.push_back("--mqtt.publish-rate=200");
      args.push_back("--mqtt.publish-burst=400");
    }
    server_ = start_server(dir_, args);
    ASSERT_GT(server_.pid, 0);
    auto port = read_until(server_, std::regex("http +http://127\\.0\\.0\\.1:(\\d+)"));
    ASSERT_TRUE(port) << server_.output;
    auto mqtt = read_until(server_, std::regex("(tcp://127\\.0\\.0\\.1:\\d+)"));
    ASSERT_TRUE(mqtt) << server_.output;
    auto token = read_until(server_, std::regex("admin = ([0-9a-f]{32})"));
    ASSERT_TRUE(token) << server_.output;
    port_ = std::stoi(*port);
    broker_url_ = *mqtt;
    auth_ = {{"Authorization", "Bearer " + *token}};
    draining_ = std::make_unique<Draining>(server_);
    httplib::Client http("127.0.0.1", port_);
    for (const char* door : {"door1", "door2"}) {
      auto res = http.Post("/devices", auth_, json{{"id", door}}.dump(), "application/json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 201) << res->body;
      secrets_[door] = json::parse(res->body)["credential"].value("secret", "");
    }
    auto user = http.Post("/api/users", json{{"name", "alice"}, {"password", kPassword}}.dump(),
                          "application/json");
    ASSERT_TRUE(user);
    ASSERT_EQ(user->status, 201) << user->body;
  }
  void TearDown() override {
    if (draining_) {
      draining_->stop();
      EXPECT_EQ(draining_->status, 0) << server_.output;
      if (HasFailure()) print_warnings(server_.output);
    }
    fs::remove_all(dir_);
  }

  uint64_t rss() { return raw::resident_bytes(std::to_string(server_.pid)); }
  // The private mosquitto's: it queues what gatehouse has not read yet.
  uint64_t broker_rss() {
    std::ifstream in(dir_ / "var" / "run" / "mosquitto" / "mosquitto.pid");
    long pid = 0;
    return (in >> pid) ? raw::resident_bytes(std::to_string(pid)) : 0;
  }
  std::string metrics() {
    httplib::Client http("127.0.0.1", port_);
    auto res = http.Get("/metrics");
    return res && res->status == 200 ? res->body : "";
  }

  // Runs `attack` on its own thread while the good client asks /healthz and locks door2
  // every 200 ms (at least three times). Prints the figures; true when every request of the
  // good client was answered as it should be.
  bool while_attacked(const std::string& name, const std::function<void()>& attack) {
    const uint64_t before = rss();
    std::atomic<bool> done{false};
    std::atomic<uint64_t> peak{before}, broker_peak{broker_rss()};
    std::thread sampler([&] {
      while (!done) {
        peak = std::max<uint64_t>(peak, rss());
        broker_peak = std::max<uint64_t>(broker_peak, broker_rss());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const auto started = Clock::now();
    std::thread attacker([&] {
      attack();
      done = true;
    });
    httplib::Client good("127.0.0.1", port_);
    good.set_connection_timeout(30, 0);
    good.set_read_timeout(30, 0);
    double worst_health = 0, worst_lock = 0;
    int samples = 0, wrong = 0;
    while (!done || samples < 3) {
      auto t0 = Clock::now();
      auto health = good.Get("/healthz");
      worst_health = std::max(worst_health, ms_since(t0));
      t0 = Clock::now();
      auto lock = good.Post("/devices/door2/lock", auth_, "", "text/plain");
      worst_lock = std::max(worst_lock, ms_since(t0));
      if (!health || health->status != 200 || !lock || lock->status != 202) {
        ++wrong;
        ADD_FAILURE() << name << ": healthz " << (health ? health->status : 0) << " "
                      << (health ? health->body : "") << ", lock " << (lock ? lock->status : 0);
      }
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    attacker.join();
    const double attack_ms = ms_since(started);
    done = true;
    sampler.join();
    const uint64_t after = rss();
    std::printf(
        "[ figures  ] %-16s %7.0f ms: RSS %.1f / %.1f / %.1f MB (before/peak/after); good client "
        "%d samples, worst /healthz %.1f ms, worst lock %.1f ms; broker peak RSS %.1f MB\n",
        name.c_str(), attack_ms, before / 1e6, peak / 1e6, after / 1e6, samples, worst_health,
        worst_lock, broker_peak / 1e6);
    return wrong == 0;
  }
  void print_counters(const std::vector<std::string>& samples) {
    const auto text = metrics();
    for (const auto& s : samples)
      std::printf("[ counters ]   %s %.0f\n", s.c_str(), metric_in(text, s));
  }
  // Every sample of `family` that is not 0.
  void print_nonzero(const std::string& family) {
    const auto text = metrics();
    for (size_t at = 0; (at = text.find("\n" + family, at)) != std::string::npos; ++at) {
      const auto line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
      if (line.size() < 2 || line.substr(line.size() - 2) != " 0")
        std::printf("[ counters ]   %s\n", line.c_str());
    }
  }

  static constexpr const char* kPassword = "correct horse";
  fs::path dir_;
  gh::server_process::Running server_;
  std::unique_ptr<Draining> draining_;
  int port_ = 0;
  std::string broker_url_;
  httplib::Headers auth_;
  std::map<std::string, std::string> secrets_;
};

TEST_F(Exhaustion, EveryFloodLeavesHealthAndALockAnsweredAndIsCounted) {
  const int scale = scale_from_environment();

  // Slowloris: 500 (scale > 1: 900; with the 64 below and the good client, just under the
  // 1024 in all, past which everyone gets 503) connections from sixteen
  // addresses, every other one with half a head; then 70 from one address, 6 past its 64.
  // Held 1 s (scale > 1: 11 s, past the 10 s after which an unfinished head gets 408).
  const int held = scale > 1 ? 900 : 500;
  std::vector<int> slow;
  uint64_t refused_by_source = 0;
  double open_during = -1;
  EXPECT_TRUE(while_attacked("slowloris", [&] {
    for (int i = 0; i < held; ++i) {
      int fd = raw::connect_loopback_from(port_, "127.0.9." + std::to_string(1 + i % 16));
      if (fd < 0) continue;
      slow.push_back(fd);
      if (i % 2 == 1) raw::send_all(fd, "POST /devices/door1/lock HTTP/1.1\r\nX-a: b\r\n");
    }
    std::vector<int> one_source;
    for (int i = 0; i < 70; ++i) {
      int fd = raw::connect_loopback_from(port_, "127.0.9.200");
      if (fd >= 0) one_source.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the refusals are sent
    open_during = metric_in(metrics(), "gatehouse_http_open_connections");
    for (int fd : one_source) {
      auto answer = raw::read_until_close(fd, std::chrono::milliseconds(5));
      if (answer.rfind("HTTP/1.1 429", 0) == 0) ++refused_by_source;
    }
    for (int fd : one_source) ::close(fd);
    std::this_thread::sleep_for(std::chrono::seconds(scale > 1 ? 11 : 1));
  }));
  EXPECT_GE(open_during, held);
  EXPECT_EQ(refused_by_source, 6u);
  EXPECT_EQ(metric_in(metrics(), "gatehouse_http_refused_total{reason=\"source_connections\"}"), 6);
  for (int fd : slow) ::close(fd);
  std::printf("[ counters ]   gatehouse_http_open_connections %.0f (during)\n", open_during);
  print_counters({"gatehouse_http_refused_total{reason=\"source_connections\"}",
                  "gatehouse_http_refused_total{reason=\"header_timeout\"}"});

  // Header floods: 60 MiB of header lines from each of `scale` connections at once.
  std::atomic<int> answered_431{0};
  EXPECT_TRUE(while_attacked("header flood", [&] {
    std::vector<std::thread> floods;
    for (int c = 0; c < scale; ++c) {
      floods.emplace_back([&, c] {
        int fd = raw::connect_loopback_from(port_, "127.0.8." + std::to_string(1 + c));
        if (fd < 0) return;
        std::thread sender([fd] {
          timeval limit{5, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
          if (!raw::send_all(fd, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n")) return;
          std::string chunk;
          for (int i = 0; i < 64; ++i) chunk += "X-Flood: " + std::string(1000, 'a') + "\r\n";
          for (uint64_t sent = 0; sent < (60ull << 20); sent += chunk.size()) {
            if (!raw::send_all(fd, chunk)) return;
          }
        });
        auto answer = raw::read_until_close(fd, std::chrono::seconds(60));
        sender.join();
        ::close(fd);
        if (answer.rfind("HTTP/1.1 431", 0) == 0) answered_431++;
      });
    }
    for (auto& t : floods) t.join();
  }));
  EXPECT_EQ(answered_431, scale);
  EXPECT_GE(metric_in(metrics(), "gatehouse_http_refused_total{reason=\"header_too_large\"}"),
            scale);
  print_counters({"gatehouse_http_refused_total{reason=\"header_too_large\"}"});

  // MQTT flood from one door with its own credential: hellos, state flips and pictures, QoS 0
  // as fast as paho sends them. The broker lets through its publish burst (mqtt.publish-burst,
  // 4,000 by default) and then mqtt.publish-rate a second, and drops the rest: at least 6,000
  // messages, so that even the short form goes past the burst.
  const int messages = std::max(3000 * scale, 6000);
  const int pictures = messages / 300;
  const std::string picture = "\x89PNG\r\n\x1a\n" + std::string(32 * 1024, 'p');
  mqtt::async_client door(broker_url_, "door1-flood", mqtt::create_options(4), nullptr);
  auto options = mqtt::connect_options_builder()
                     .mqtt_version(MQTTVERSION_3_1_1)
                     .clean_session(true)
                     .user_name("door1")
                     .password(secrets_["door1"])
                     .finalize();
  ASSERT_TRUE(door.connect(options)->wait_for(gh::mqtt_test::kWait));
  const std::string base = "gatehouse/devices/door1/";
  const double received_before =
      metric_in(metrics(), "gatehouse_mqtt_received_total{topic=\"state\"}");
  const std::string door_limited = "gatehouse_broker_rate_limited_total{kind=\"door\"}";
  const std::string anonymous_limited = "gatehouse_broker_rate_limited_total{kind=\"anonymous\"}";
  EXPECT_TRUE(while_attacked("mqtt flood", [&] {
    mqtt::delivery_token_ptr last;
    for (int i = 0; i < messages; ++i) {
      try {
        if (i < pictures) {  // first, within the broker's burst: past 6 a minute, refused
          last = door.publish(base + "stranger", picture + std::to_string(i), 0, false);
          continue;
        }
        switch (i % 3) {
          case 0:
            last = door.publish(base + "hello", R"({"type":"lock"})", 0, false);
            break;
          default:
            last = door.publish(base + "state", i % 2 ? "LOCKED" : "UNLOCKED", 0, false);
        }
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // paho's buffer is full
      }
    }
    if (last) last->wait_for(gh::mqtt_test::kWait);
    // Until gatehouse has carried out what the broker passed on (or stopped taking more).
    double seen = -1, previous = -2;
    while (seen != previous) {
      previous = seen;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const auto text = metrics();
      seen = metric_in(text, "gatehouse_mqtt_received_total{topic=\"state\"}") +
             metric_in(text, "gatehouse_mqtt_accepted_total");
    }
  }));
  door.disconnect()->wait_for(gh::mqtt_test::kWait);
  // The broker dropped the flood past the door's rate, and said so (its plugin reports every
  // few seconds).
  EXPECT_TRUE(gh::mqtt_test::eventually([&] { return metric_in(metrics(), door_limited) > 0; }));
  const auto after_mqtt = metrics();
  EXPECT_GT(metric_in(after_mqtt, "gatehouse_mqtt_received_total{topic=\"state\"}"),
            received_before);
  // Pictures past 6 a minute are refused rate_limited, or busy while the door is flooding:
  // of those that reached gatehouse, at most 6 were kept.
  EXPECT_GE(metric_in(after_mqtt, "gatehouse_mqtt_received_total{topic=\"stranger\"}"), 7);
  EXPECT_GE(metric_in(after_mqtt, "gatehouse_mqtt_rejected_total{reason=\"rate_limited\"}") +
                metric_in(after_mqtt, "gatehouse_mqtt_rejected_total{reason=\"busy\"}"),
            metric_in(after_mqtt, "gatehouse_mqtt_received_total{topic=\"stranger\"}") - 6);
  print_counters({door_limited, "gatehouse_mqtt_received_total{topic=\"hello\"}",
                  "gatehouse_mqtt_received_total{topic=\"state\"}",
                  "gatehouse_mqtt_received_total{topic=\"stranger\"}",
                  "gatehouse_mqtt_accepted_total", "gatehouse_journal_events_appended_total"});
  print_nonzero("gatehouse_mqtt_rejected_total");

  // HTTP login flood: wrong passwords for alice from one address, 8 at a time.
  const int logins = 400 * scale;
  std::atomic<int> http_throttled{0};
  EXPECT_TRUE(while_attacked("http logins", [&] {
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        const std::string body = json{{"name", "alice"}, {"password", "wrong horse"}}.dump();
        while (next.fetch_add(1) < logins) {
          // From one address of its own, so that the owner's address is not the flood's.
          if (raw_status(port_, "127.0.7.1", "POST", "/api/sessions", body) == 429)
            http_throttled++;
        }
      });
    }
    for (auto& t : threads) t.join();
  }));
  EXPECT_GT(http_throttled, logins / 2);
  print_counters({"gatehouse_chat_attempts_throttled_total", "gatehouse_chat_logins_failed_total",
                  "gatehouse_chat_password_hashes_total", "gatehouse_chat_hashes_refused_total"});

  // MQTT login flood: one anonymous client, wrong passwords, replies to its own inbox. Past
  // its publish burst the broker drops them; gatehouse throttles the rest (at least 6,000, past
  // the burst).
  const int mqtt_logins = std::max(1500 * scale, 6000);
  const double throttled_before = metric_in(metrics(), "gatehouse_chat_attempts_throttled_total");
  const double limited_before = metric_in(metrics(), anonymous_limited);
  // Every login refused, by the broker's rate or by gatehouse's guessing limits.
  auto refused = [&] {
    const auto text = metrics();
    return metric_in(text, "gatehouse_chat_attempts_throttled_total") - throttled_before +
           metric_in(text, anonymous_limited) - limited_before;
  };
  mqtt::async_client evil(broker_url_, "evil", mqtt::create_options(4), nullptr);
  ASSERT_TRUE(
      evil.connect(mqtt::connect_options_builder().mqtt_version(MQTTVERSION_3_1_1).finalize())
          ->wait_for(gh::mqtt_test::kWait));
  EXPECT_TRUE(while_attacked("mqtt logins", [&] {
    for (int i = 1; i <= mqtt_logins; ++i) {
      json request = {{"id", i},
                      {"reply_to", "gatehouse/inbox/evil/replies"},
                      {"name", "alice"},
                      {"password", "wrong horse"}};
      try {
        evil.publish("gatehouse/chat/login", request.dump(), 0, false);
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    gh::mqtt_test::eventually([&] { return refused() >= mqtt_logins * 0.9; });
  }));
  evil.disconnect()->wait_for(gh::mqtt_test::kWait);
  EXPECT_GE(refused(), mqtt_logins * 0.9);
  EXPECT_GT(metric_in(metrics(), anonymous_limited), limited_before);
  print_counters({anonymous_limited, "gatehouse_chat_attempts_throttled_total",
                  "gatehouse_chat_hashes_refused_total", "gatehouse_chat_hash_queue_depth"});

  // The owner still logs in from her own address.
  httplib::Client owner("127.0.0.1", port_);
  owner.set_read_timeout(60, 0);
  auto t0 = Clock::now();
  auto login = owner.Post("/api/sessions", json{{"name", "alice"}, {"password", kPassword}}.dump(),
                          "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 201) << login->body;
  std::printf("[ figures  ] the owner's login after the floods: %d in %.0f ms\n", login->status,
              ms_since(t0));
}

}  // namespace
