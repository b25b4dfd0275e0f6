// Test helpers for the MQTT tests: a temporary directory, a real mosquitto on a free port,
// and a plain paho client playing the device that records what it receives.
#pragma once

#include <arpa/inet.h>
#include <mqtt/async_client.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "adapters/mqtt/broker_process.h"

namespace gh::mqtt_test {

// Generous: the machine is shared and slow at times. Waits end as soon as the condition holds.
inline constexpr auto kWait = std::chrono::seconds(30);

inline std::filesystem::path temp_dir(const std::string& what) {
  static std::mt19937_64 rng{std::random_device{}()};
  auto dir = std::filesystem::temp_directory_path() /
             ("gh-" + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Polls `condition` until it holds or `timeout` passes; for counters without a signal.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A TCP port that was free on 127.0.0.1 a moment ago (the kernel's choice).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A test CA and a server certificate for 127.0.0.1 signed by it, made with the real openssl
// in `dir`: ca.crt (what clients trust), server.crt, server.key. False when openssl failed
// (its output is in dir/openssl.log).
inline bool make_test_certificates(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
  const std::string script =
      "(cd '" + dir.string() +
      "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2"
      " -subj /CN=gh-test-ca"
      " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr"
      " -subj /CN=127.0.0.1"
      " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
      " -out server.crt -days 2 -extfile san.ext) > '" +
      (dir / "openssl.log").string() + "' 2>&1";
  return std::system(script.c_str()) == 0;
}

struct Message {
  std::string topic;
  std::string payload;
  bool retained = false;
  int qos = 0;  // as delivered
};

// A device (or any other client) built on paho directly, independent of our adapter.
class TestClient {
 public:
  TestClient(const std::string& url, const std::string& client_id)
      : client_(url, client_id, mqtt::create_options(4), nullptr) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      std::lock_guard lock(mu_);
      messages_.push_back({m->get_topic(), m->get_payload_str(), m->is_retained(), m->get_qos()});
      cv_.notify_all();
    });
  }
  ~TestClient() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(std::chrono::seconds(5));
    } catch (const std::exception&) {
    }
  }

  bool connect() {
    try {
      auto builder = mqtt::connect_options_builder();
      builder.mqtt_version(MQTTVERSION_3_1_1).clean_session(true);
      if (!ca_file_.empty()) {
        builder.ssl(mqtt::ssl_options_builder().trust_store(ca_file_).finalize());
      }
      auto opts = builder.finalize();
      return client_.connect(opts)->wait_for(kWait);
    } catch (const std::exception&) {
      return false;
    }
  }
  // TLS for an ssl:// URL, trusting the certificates of `ca_file`.
  void use_tls(const std::string& ca_file) { ca_file_ = ca_file; }
  // With a user name and password; false when the broker refuses them.
  bool connect(const std::string& username, const std::string& password) {
    try {
      auto builder = mqtt::connect_options_builder();
      // One protocol version: paho's default retries a refused 3.1.1 CONNECT as 3.1.
      builder.mqtt_version(MQTTVERSION_3_1_1);
      builder.clean_session(true).user_name(username).password(password);
      if (!ca_file_.empty()) {
        builder.ssl(mqtt::ssl_options_builder().trust_store(ca_file_).finalize());
      }
      auto opts = builder.finalize();
      return client_.connect(opts)->wait_for(kWait);
    } catch (const std::exception& e) {
      last_error_ = e.what();
      return false;
    }
  }
  // Why the last connect(username, password) failed (paho's words).
  const std::string& last_error() const { return last_error_; }
  bool connected() { return client_.is_connected(); }
  // True only when the broker grants the subscription (SUBACK below 0x80).
  bool subscribe_granted(const std::string& filter) {
    try {
      auto token = client_.subscribe(filter, 1);
      if (!token->wait_for(kWait)) return false;
      const auto response = token->get_subscribe_response();
      const auto codes = response.get_reason_codes();
      for (auto code : codes) {
        if (static_cast<int>(code) >= 0x80) return false;
      }
      return !codes.empty();
    } catch (const std::exception&) {
      return false;
    }
  }
  bool subscribe(const std::string& filter) {
    try {
      return client_.subscribe(filter, 1)->wait_for(kWait);
    } catch (const std::exception&) {
      return false;
    }
  }
  bool publish(const std::string& topic, const std::string& payload, bool retain = false) {
    try {
      return client_.publish(mqtt::make_message(topic, payload, 1, retain))->wait_for(kWait);
    } catch (const std::exception&) {
      return false;
    }
  }
  bool publish_qos0(const std::string& topic, const std::string& payload) {
    try {
      return client_.publish(mqtt::make_message(topic, payload, 0, false))->wait_for(kWait);
    } catch (const std::exception&) {
      return false;
    }
  }
  // `count` QoS 1 messages without waiting in between; true once the broker acknowledged all.
  bool publish_many(const std::string& topic, const std::string& payload, int count) {
    try {
      std::vector<mqtt::delivery_token_ptr> tokens;
      for (int i = 0; i < count;) {
        try {
          tokens.push_back(client_.publish(mqtt::make_message(topic, payload, 1, false)));
          ++i;
        } catch (const mqtt::exception&) {  // paho's queue of unsent messages is full
          if (!tokens.back()->wait_for(kWait)) return false;
        }
      }
      for (auto& token : tokens) {
        if (!token->wait_for(kWait)) return false;
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  // The first message (in arrival order, from index `from`) on `topic` satisfying `pred`.
  std::optional<Message> wait_for(const std::string& topic,
                                  const std::function<bool(const Message&)>& pred = nullptr,
                                  std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    std::optional<Message> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& m : messages_) {
        if (m.topic == topic && (!pred || pred(m))) {
          found = m;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<Message> messages_on(const std::string& topic) {
    std::lock_guard lock(mu_);
    std::vector<Message> out;
    for (const auto& m : messages_) {
      if (m.topic == topic) out.push_back(m);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
  std::string ca_file_;
  std::string last_error_;
  mqtt::async_client client_;  // last: its callbacks use the members above
};

}  // namespace gh::mqtt_test
