#include "tests/campaigns/cluster_doors.h"

#include <httplib.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "adapters/mqtt/tcp_nodelay.h"

namespace gh::testing {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kHost = "127.0.0.1";
// How long a publish may wait for NATS' PUBACK before the door tries the next listener:
// longer than a JetStream leader election (8 to 9 s, docs/cluster.md "Failover, measured"),
// so that a NATS node that lives on does not lose its doors for nothing.
constexpr auto kPubackWait = 12s;
constexpr auto kConnectWait = 5s;

std::string broker_url(int port) {
  return "tcp://" + std::string(kHost) + ":" + std::to_string(port);
}

// The number n of firmware "m<n>", or -1.
long long message_number(const std::string& firmware) {
  if (firmware.size() < 2 || firmware[0] != 'm') return -1;
  try {
    return std::stoll(firmware.substr(1));
  } catch (const std::exception&) {
    return -1;
  }
}

// One door's connection to one NATS listener. A lost connection is never reconnected: the
// door makes a new one to the next listener (a fresh paho client, so that nothing of the old
// session is sent again behind the door's back).
class DoorConnection {
 public:
  DoorConnection(int port, const std::string& client_id) : port_(port) {
    client_ = std::make_unique<mqtt::async_client>(broker_url(port), client_id,
                                                   mqtt::create_options(4), nullptr);
  }
  ~DoorConnection() {
    try {
      client_->set_message_callback([](mqtt::const_message_ptr) {});
      if (client_->is_connected()) client_->disconnect()->wait_for(1s);
    } catch (const std::exception&) {
    }
  }

  template <typename OnMessage>
  bool open(const std::string& user, const std::string& jwt, const std::vector<std::string>& topics,
            OnMessage on_message) {
    try {
      client_->set_message_callback(on_message);
      auto options = mqtt::connect_options_builder()
                         .mqtt_version(MQTTVERSION_3_1_1)
                         .clean_session(true)
                         .keep_alive_interval(10s)
                         .user_name(user)
                         .password(jwt)
                         .finalize();
      if (!client_->connect(options)->wait_for(kConnectWait) || !client_->is_connected())
        return false;
      (void)mqtt_adapter::set_nodelay_to_peer(kHost, uint16_t(port_));
      for (const auto& topic : topics)
        if (!client_->subscribe(topic, 1)->wait_for(kConnectWait)) return false;
      return client_->is_connected();
    } catch (const std::exception&) {
      return false;
    }
  }

  // Publishes at QoS 1; true once NATS acknowledged it. False at once when the connection
  // is lost meanwhile, or after kPubackWait.
  bool publish_acknowledged(const std::string& topic, const std::string& payload) {
    try {
      auto token = client_->publish(topic, payload.data(), payload.size(), 1, false);
      const auto deadline = std::chrono::steady_clock::now() + kPubackWait;
      while (std::chrono::steady_clock::now() < deadline) {
        if (token->wait_for(50ms)) return true;
        if (!client_->is_connected()) return false;
      }
    } catch (const std::exception&) {
    }
    return false;
  }

  bool connected() const { return client_->is_connected(); }

 private:
  int port_;
  std::unique_ptr<mqtt::async_client> client_;
};

// What arrives for the door on its topics (paho's thread), read by the door's thread.
class DoorInbox {
 public:
  void on_message(const mqtt::const_message_ptr& m, const std::string& base,
                  ClientProgress& progress) {
    const std::string topic = m->get_topic();
    const std::string payload = m->get_payload_str();
    if (topic == base + "/command") {
      if (payload != "LOCK" && payload != "UNLOCK") return;  // GET: not answered
      std::lock_guard lock(mu_);
      commands_.push_back(payload);
    } else if (topic == base + "/status") {
      auto status = json::parse(payload, nullptr, false);
      if (!status.is_object() || !status["firmware"].is_string()) return;
      const long long n = message_number(status["firmware"].get<std::string>());
      std::lock_guard lock(mu_);
      if (n > newest_recorded_) {
        newest_recorded_ = n;
        progress.last_recorded_s = wall_seconds();
      }
    }
  }
  std::deque<std::string> take_commands() {
    std::lock_guard lock(mu_);
    return std::exchange(commands_, {});
  }

 private:
  std::mutex mu_;
  std::deque<std::string> commands_;
  long long newest_recorded_ = -1;
};

}  // namespace

std::string provision_nats_door_anywhere(const ClusterTarget& target, const std::string& id,
                                         int rounds) {
  const size_t n = target.http_ports.size();
  for (size_t i = 0; i < n * size_t(rounds); ++i) {
    httplib::Client client(kHost, target.http_ports[i % n]);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(3, 0);
    auto result = client.Post("/devices", {{"Authorization", "Bearer " + target.token}},
                              json{{"id", id}}.dump(), "application/json");
    if (result && result->status == 201) {
      auto body = json::parse(result->body, nullptr, false);
      if (body.is_object() && body["credential"].is_object())
        return body["credential"].value("password", "");
      return "";
    }
    if ((i + 1) % n == 0) std::this_thread::sleep_for(500ms);
  }
  return "";
}

void run_nats_door(const NatsFront& front, size_t first, const std::string& run,
                   const std::string& id, const std::string& jwt, WriteLedger& ledger,
                   ClientProgress& progress, const std::atomic<bool>& stop) {
  const std::string base = front.prefix + "/devices/" + id;
  const std::string subject = "hellos/" + id;
  const size_t listeners = front.mqtt_ports.size();
  size_t listener = first % listeners;
  DoorInbox inbox;
  std::unique_ptr<DoorConnection> connection;
  uint64_t connections = 0;
  // Connected to the current listener, or moved on to the next one after a failure.
  auto ensure_connected = [&]() -> bool {
    if (connection && connection->connected()) return true;
    connection.reset();
    auto fresh = std::make_unique<DoorConnection>(
        front.mqtt_ports[listener], id + "-" + run + "-c" + std::to_string(connections++));
    if (fresh->open(id, jwt, {base + "/command", base + "/status"},
                    [&](mqtt::const_message_ptr m) { inbox.on_message(m, base, progress); })) {
      connection = std::move(fresh);
      return true;
    }
    listener = (listener + 1) % listeners;
    return false;
  };
  auto fail_over = [&]() {
    progress.attempts_failed++;
    connection.reset();
    listener = (listener + 1) % listeners;
    std::this_thread::sleep_for(100ms);
  };

  for (uint64_t n = 0; !stop; ++n) {
    const std::string firmware = "m" + std::to_string(n);
    const std::string hello = json{{"firmware", firmware}}.dump();
    ledger.sent(subject, firmware, firmware);
    while (!stop) {
      if (ensure_connected() && connection->publish_acknowledged(base + "/hello", hello)) {
        ledger.acked(subject, firmware, firmware);
        progress.acked++;
        progress.last_ack_s = wall_seconds();
        break;
      }
      fail_over();
    }
    // A lock answers its commands with the state it reached (not judged: the HTTP lockers'
    // ledger judges the commands).
    for (const auto& word : inbox.take_commands()) {
      if (stop || !connection) break;
      (void)connection->publish_acknowledged(base + "/state",
                                             word == "LOCK" ? "LOCKED" : "UNLOCKED");
    }
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace gh::testing
