// A real mosquitto: started and stopped by BrokerProcess; our connection to it gets
// TCP_NODELAY, subscribes, and comes back (resubscribed) after the broker restarts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "adapters/mqtt/broker_process.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/tcp_nodelay.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::kWait;

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mqtt_test::temp_dir("broker"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<BrokerProcess> start_broker(uint16_t port = 0) {
    BrokerProcessOptions options;
    options.work_dir = dir_;
    options.port = port;
    auto broker = BrokerProcess::start(options);
    EXPECT_TRUE(broker.is_ok()) << broker.status().to_string();
    return broker.is_ok() ? std::move(broker).value() : nullptr;
  }
  std::filesystem::path dir_;
};

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(BrokerTest, StartsListensAndStops) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  EXPECT_GT(broker->port(), 0);
  EXPECT_EQ(broker->url(), "tcp://127.0.0.1:" + std::to_string(broker->port()));
  pid_t pid = broker->pid();
  EXPECT_EQ(::kill(pid, 0), 0);

  std::ifstream config(dir_ / "mosquitto.conf");
  std::stringstream text;
  text << config.rdbuf();
  EXPECT_NE(text.str().find("set_tcp_nodelay true"), std::string::npos);
  EXPECT_NE(text.str().find("listener " + std::to_string(broker->port()) + " 127.0.0.1"),
            std::string::npos);

  mqtt_test::TestClient client(broker->url(), "probe");
  EXPECT_TRUE(client.connect());

  uint16_t port = broker->port();
  ASSERT_TRUE(broker->stop().is_ok());
  EXPECT_FALSE(broker->running());
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid no longer exists
  EXPECT_EQ(connect_to(port), -1);
  EXPECT_TRUE(broker->stop().is_ok());  // idempotent
}

TEST_F(BrokerTest, ReportsAMissingExecutable) {
  BrokerProcessOptions options;
  options.work_dir = dir_;
  options.executable = "/nonexistent/mosquitto";
  auto broker = BrokerProcess::start(options);
  EXPECT_FALSE(broker.is_ok());
  EXPECT_EQ(broker.status().code(), Code::kUnavailable);
}

TEST_F(BrokerTest, ReportsAnEarlyExitWithItsLog) {
  auto first = start_broker();
  ASSERT_TRUE(first);
  // Same port: the second broker cannot bind and exits.
  BrokerProcessOptions options;
  options.work_dir = dir_ / "second";
  options.port = first->port();
  auto second = BrokerProcess::start(options);
  EXPECT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
}

// A broker still running from an earlier (crashed) run in the same directory is stopped
// before the new one starts. Here the "earlier run" is a live BrokerProcess of ours.
TEST_F(BrokerTest, StopsAStaleBrokerOfTheSameDirectory) {
  BrokerProcessOptions options;
  options.work_dir = dir_;
  options.stop_timeout = std::chrono::milliseconds(500);  // a zombie child never "exits"
  auto first = BrokerProcess::start(options);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  uint16_t old_port = (*first)->port();
  auto second = BrokerProcess::start(options);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_TRUE((*first)->stop().is_ok());  // reaps what the second start killed
  EXPECT_EQ(connect_to(old_port), -1);
  int fd = connect_to((*second)->port());
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);
}

// PR_SET_PDEATHSIG: the broker goes when the thread that started it goes (here a short
// thread; in the server, main), so a crash never leaves a broker behind.
TEST_F(BrokerTest, StopsWithTheThreadThatStartedIt) {
  std::unique_ptr<BrokerProcess> broker;
  std::thread([&] { broker = start_broker(); }).join();
  ASSERT_TRUE(broker);
  EXPECT_TRUE(mqtt_test::eventually([&] { return connect_to(broker->port()) == -1; }));
  EXPECT_TRUE(broker->stop().is_ok());
}

// gatehouse blocks SIGTERM in every thread (main() sigwait()s for it). The broker must
// still end on stop()'s SIGTERM, cleanly (it logs "terminating"), not by the SIGKILL that
// follows a timeout.
TEST_F(BrokerTest, StopsCleanlyWhenTheServerBlocksSigterm) {
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &blocked, &previous), 0);
  auto broker = start_broker();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(broker->stop().is_ok());
  std::ifstream log(broker->log_path());
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("terminating"), std::string::npos) << text.str();
}

TEST_F(BrokerTest, NodelayIsSetOnSocketsToThePeer) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  int fd = connect_to(broker->port());
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(nodelay_enabled(fd));  // the kernel default: Nagle on

  auto found = sockets_to_peer("127.0.0.1", broker->port());
  ASSERT_TRUE(found.is_ok());
  EXPECT_NE(std::find(found->begin(), found->end(), fd), found->end());

  auto set = set_nodelay_to_peer("localhost", broker->port());
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  EXPECT_GE(*set, 1);
  EXPECT_TRUE(nodelay_enabled(fd));
  ::close(fd);

  // Another port is left alone.
  EXPECT_TRUE(sockets_to_peer("127.0.0.1", static_cast<uint16_t>(broker->port() + 1))->empty());
}

TEST_F(BrokerTest, ConnectionGetsNodelaySubscribesAndPublishes) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  MqttConnectionOptions options;
  options.url = broker->url();
  options.client_id = "gh-test-conn";
  options.status_topic = "t/server";
  auto conn = MqttConnection::create(options);
  ASSERT_TRUE(conn.is_ok()) << conn.status().to_string();
  std::mutex mu;
  std::vector<std::string> got;
  ASSERT_TRUE((*conn)
                  ->add_handler({"t/in/+"}, 1,
                                [&](const std::string& topic, const std::string& payload, bool) {
                                  std::lock_guard lock(mu);
                                  got.push_back(topic + "=" + payload);
                                })
                  .is_ok());
  ASSERT_TRUE((*conn)->start().is_ok());
  ASSERT_TRUE((*conn)->wait_connected(kWait));
  EXPECT_TRUE((*conn)->connected());
  EXPECT_FALSE((*conn)->add_handler({"x"}, 1, nullptr).is_ok());

  auto fds = sockets_to_peer("127.0.0.1", broker->port());
  ASSERT_TRUE(fds.is_ok());
  ASSERT_FALSE(fds->empty());
  for (int fd : *fds) EXPECT_TRUE(nodelay_enabled(fd)) << fd;
  EXPECT_GE((*conn)->counters().nodelay_sockets.load(), 1u);

  mqtt_test::TestClient peer(broker->url(), "peer");
  ASSERT_TRUE(peer.connect());
  ASSERT_TRUE(peer.subscribe("t/#"));
  // The birth message is retained.
  EXPECT_TRUE(peer.wait_for("t/server", [](auto& m) { return m.payload == "online"; }));
  ASSERT_TRUE(peer.publish("t/in/a", "hi"));
  ASSERT_TRUE(mqtt_test::eventually([&] {
    std::lock_guard lock(mu);
    return !got.empty();
  }));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(got[0], "t/in/a=hi");
  }
  (*conn)->publish("t/out", "there", 1, false);
  EXPECT_TRUE(peer.wait_for("t/out", [](auto& m) { return m.payload == "there"; }));

  (*conn)->stop();
  EXPECT_FALSE((*conn)->connected());
  EXPECT_TRUE(peer.wait_for("t/server", [](auto& m) { return m.payload == "offline"; }));
}

// stop() is a clean shutdown: every QoS 1 message published before it reaches the broker and
// is acknowledged before the connection closes (stop() is called while most of a burst is
// still queued or in flight), and a publish after it is refused and counted, never left
// buffered in paho to be lost with the client.
TEST_F(BrokerTest, StopWaitsForEveryPublishInFlightAndRefusesLaterOnes) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  mqtt_test::TestClient peer(broker->url(), "peer-drain");
  ASSERT_TRUE(peer.connect());
  ASSERT_TRUE(peer.subscribe("t/burst"));
  MqttConnectionOptions options;
  options.url = broker->url();
  options.client_id = "gh-test-drain";
  auto conn = MqttConnection::create(options);
  ASSERT_TRUE(conn.is_ok()) << conn.status().to_string();
  ASSERT_TRUE((*conn)->start().is_ok());
  ASSERT_TRUE((*conn)->wait_connected(kWait));

  constexpr uint64_t kBurst = 500;
  for (uint64_t i = 0; i < kBurst; ++i) {
    (*conn)->publish("t/burst", std::to_string(i), 1, false);
  }
  (*conn)->stop();
  const auto& counters = (*conn)->counters();
  EXPECT_EQ(counters.published.load(), kBurst);
  EXPECT_EQ(counters.delivered.load(), kBurst);  // every PUBACK came back before the close
  EXPECT_EQ(counters.publish_failures.load(), 0u);
  EXPECT_TRUE(
      peer.wait_for("t/burst", [&](auto& m) { return m.payload == std::to_string(kBurst - 1); }));
  EXPECT_EQ(peer.messages_on("t/burst").size(), kBurst);

  (*conn)->publish("t/burst", "after stop", 1, false);
  EXPECT_EQ(counters.published.load(), kBurst);
  EXPECT_EQ(counters.publish_failures.load(), 1u);
}

// A backlog of requests waiting for gatehouse (its handler busy, so no PUBACK goes back) is
// delivered whole once gatehouse catches up: mosquitto's defaults (20 in flight, 1000
// queued per client) silently dropped the rest of a burst of 64 clients x 100 requests.
TEST_F(BrokerTest, ABacklogBeyondMosquittosDefaultQueueIsDeliveredWhole) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  MqttConnectionOptions options;
  options.url = broker->url();
  options.client_id = "gh-test-backlog";
  auto conn = MqttConnection::create(options);
  ASSERT_TRUE(conn.is_ok()) << conn.status().to_string();
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  size_t got = 0;
  ASSERT_TRUE((*conn)
                  ->add_handler({"t/in"}, 1,
                                [&](const std::string&, const std::string&, bool) {
                                  std::unique_lock lock(mu);
                                  cv.wait(lock, [&] { return released; });
                                  ++got;
                                })
                  .is_ok());
  ASSERT_TRUE((*conn)->start().is_ok());
  ASSERT_TRUE((*conn)->wait_connected(kWait));

  // From another process: paho runs every client of a process on one receive thread, which
  // the handler holds. mosquitto_pub returns once the broker has acknowledged each message.
  constexpr size_t kBurst = 3000;
  const std::string publish = "seq " + std::to_string(kBurst) +
                              " | mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker->port()) +
                              " -q 1 -t t/in -l";
  ASSERT_EQ(std::system(publish.c_str()), 0) << publish;
  {
    std::lock_guard lock(mu);
    released = true;
  }
  cv.notify_all();
  EXPECT_TRUE(mqtt_test::eventually([&] {
    std::lock_guard lock(mu);
    return got == kBurst;
  }));
  std::lock_guard lock(mu);
  EXPECT_EQ(got, kBurst);
}

TEST_F(BrokerTest, ReconnectsAndResubscribesAfterABrokerRestart) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  uint16_t port = broker->port();
  MqttConnectionOptions options;
  options.url = broker->url();
  options.client_id = "gh-test-reconnect";
  options.min_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(200);
  auto conn = MqttConnection::create(options);
  ASSERT_TRUE(conn.is_ok());
  std::atomic<int> received{0};
  ASSERT_TRUE((*conn)
                  ->add_handler(
                      {"r/in"}, 1,
                      [&](const std::string&, const std::string&, bool) { received.fetch_add(1); })
                  .is_ok());
  ASSERT_TRUE((*conn)->start().is_ok());
  ASSERT_TRUE((*conn)->wait_connected(kWait));

  ASSERT_TRUE(broker->stop().is_ok());
  ASSERT_TRUE(mqtt_test::eventually([&] { return !(*conn)->connected(); }));
  // No persistence: the new broker knows nothing of our session or subscriptions.
  broker = start_broker(port);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(mqtt_test::eventually([&] { return (*conn)->connected(); }));
  EXPECT_GE((*conn)->counters().reconnects.load(), 1u);
  auto fds = sockets_to_peer("127.0.0.1", port);
  ASSERT_TRUE(fds.is_ok());
  for (int fd : *fds) EXPECT_TRUE(nodelay_enabled(fd)) << fd;

  mqtt_test::TestClient peer(broker->url(), "peer2");
  ASSERT_TRUE(peer.connect());
  ASSERT_TRUE(peer.publish("r/in", "x"));
  EXPECT_TRUE(mqtt_test::eventually([&] { return received.load() >= 1; }));
  (*conn)->stop();
}

// A session group's connection (cluster mode on NATS) must not win its session back from
// the node that took it over: lost, it ends, and only its owner opens it again.
TEST_F(BrokerTest, AConnectionThatMustNotReconnectEndsWhenItsSessionIsTakenOver) {
  auto broker = start_broker();
  ASSERT_TRUE(broker);
  MqttConnectionOptions options;
  options.url = broker->url();
  options.client_id = "gatehouse-group-7";
  options.mqtt_version = 4;
  options.min_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(200);
  options.reconnect_after_loss = false;
  auto old_owner = MqttConnection::create(options);
  ASSERT_TRUE(old_owner.is_ok());
  ASSERT_TRUE((*old_owner)->start().is_ok());
  ASSERT_TRUE((*old_owner)->wait_connected(kWait));

  auto new_owner = MqttConnection::create(options);  // the same client id: a takeover
  ASSERT_TRUE(new_owner.is_ok());
  ASSERT_TRUE((*new_owner)->start().is_ok());
  ASSERT_TRUE((*new_owner)->wait_connected(kWait));
  ASSERT_TRUE(mqtt_test::eventually([&] { return (*old_owner)->ended(); }));
  EXPECT_FALSE((*old_owner)->connected());
  EXPECT_EQ((*old_owner)->counters().reconnects.load(), 0u);

  // The old owner stays away: the new one is never pushed off.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE((*new_owner)->connected());
  EXPECT_EQ((*new_owner)->counters().connection_lost.load(), 0u);
  EXPECT_FALSE((*new_owner)->ended());
  (*new_owner)->stop();
  (*old_owner)->stop();
}

}  // namespace
}  // namespace gh::mqtt_adapter
