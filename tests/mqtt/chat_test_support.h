// Test helpers for the chat over MQTT: the server side (a real mosquitto, a real RocksDB
// journal in a temporary directory, a real actor system and ChatSystem, our MqttConnection
// with the chat and/or legacy topics) and an MQTT 5 client that sends chat requests and
// records what it gets back, Response Topic and Correlation Data included.
#pragma once

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/chat/chat_system.h"
#include "adapters/mqtt/broker_process.h"
#include "adapters/mqtt/chat_topics.h"
#include "adapters/mqtt/legacy_chat.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "snapshots/snapshot_store.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_test {

// Calls `start(callback)` on the service and waits for the callback (the test thread may
// block; the service answers every call exactly once).
template <class T, class Start>
Result<T> call(Start&& start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> result) { promise->set_value(std::move(result)); });
  return future.get();
}

struct ChatMessage {
  std::string topic;
  std::string payload;
  std::optional<std::string> correlation;
  nlohmann::json json() const { return nlohmann::json::parse(payload, nullptr, false); }
};

// A chat client on paho directly (MQTT 5), independent of our adapter.
class ChatClient {
 public:
  ChatClient(const std::string& url, const std::string& client_id, int mqtt_version = 5)
      : client_id_(client_id),
        version_(mqtt_version),
        client_(url, client_id, mqtt::create_options(mqtt_version), nullptr) {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      ChatMessage message{m->get_topic(), m->get_payload_str(), std::nullopt};
      const auto& props = m->get_properties();
      if (props.contains(mqtt::property::CORRELATION_DATA)) {
        message.correlation = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
      }
      std::lock_guard lock(mu_);
      messages_.push_back(std::move(message));
      cv_.notify_all();
    });
  }
  ~ChatClient() {
    try {
      if (client_.is_connected()) client_.disconnect()->wait_for(std::chrono::seconds(5));
    } catch (const std::exception&) {
    }
  }

  const std::string& id() const { return client_id_; }
  std::string inbox() const { return "gatehouse/inbox/" + client_id_ + "/replies"; }

  bool connect() {
    try {
      mqtt::connect_options_builder builder;
      builder.mqtt_version(version_);
      if (version_ >= 5) {
        builder.clean_start(true);
      } else {
        builder.clean_session(true);
      }
      return client_.connect(builder.finalize())->wait_for(kWait);
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
  // Connects and subscribes to its own inbox.
  bool start() { return connect() && subscribe("gatehouse/inbox/" + client_id_ + "/#"); }

  bool publish(const std::string& topic, const std::string& payload, bool retain = false,
               const mqtt::properties& props = mqtt::properties()) {
    try {
      auto msg = mqtt::message::create(topic, payload, 1, retain, props);
      return client_.publish(msg)->wait_for(kWait);
    } catch (const std::exception&) {
      return false;
    }
  }

  // Publishes every (topic, payload) at QoS 1, up to `window` in flight at once: a flood
  // without a round trip per message. False when one was not acknowledged.
  bool publish_all(const std::vector<std::pair<std::string, std::string>>& messages,
                   size_t window = 10) {
    try {
      std::vector<mqtt::delivery_token_ptr> pending;
      for (const auto& [topic, payload] : messages) {
        pending.push_back(client_.publish(mqtt::message::create(topic, payload, 1, false)));
        if (pending.size() < window) continue;
        for (auto& token : pending)
          if (!token->wait_for(kWait)) return false;
        pending.clear();
      }
      for (auto& token : pending)
        if (!token->wait_for(kWait)) return false;
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  // Sends `fields` to PREFIX/chat/{op} with a fresh id and reply_to = inbox(), and returns
  // the reply with that id (null JSON when none came within kWait).
  nlohmann::json request(const std::string& op, nlohmann::json fields = nlohmann::json::object()) {
    const int id = ++next_id_;
    fields["id"] = id;
    if (!fields.contains("reply_to")) fields["reply_to"] = inbox();
    if (!publish("gatehouse/chat/" + op, fields.dump())) return nullptr;
    auto reply = wait_for([&](const ChatMessage& m) {
      auto j = m.json();
      return j.is_object() && j.value("id", nlohmann::json()) == id;
    });
    return reply ? reply->json() : nlohmann::json();
  }

  // The first message (in arrival order) satisfying `pred`.
  std::optional<ChatMessage> wait_for(const std::function<bool(const ChatMessage&)>& pred,
                                      std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mu_);
    std::optional<ChatMessage> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& m : messages_) {
        if (pred(m)) {
          found = m;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::optional<ChatMessage> wait_on(const std::string& topic,
                                     std::chrono::milliseconds timeout = kWait) {
    return wait_for([&](const ChatMessage& m) { return m.topic == topic; }, timeout);
  }
  std::vector<ChatMessage> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return messages_.size();
  }

 private:
  std::string client_id_;
  int version_;
  std::atomic<int> next_id_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ChatMessage> messages_;
  mqtt::async_client client_;  // last: its callbacks use the members above
};

// The server side. Tests set chat_options_ / legacy_options_ and call start().
class ChatServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("mqtt-chat");
    mqtt_adapter::BrokerProcessOptions broker_options;
    broker_options.work_dir = dir_ / "broker";
    auto broker = mqtt_adapter::BrokerProcess::start(broker_options);
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    broker_ = std::move(broker).value();
    chat_options_.log = [this](const std::string& line) { log(line); };
    chat_options_.log_interval = std::chrono::milliseconds(0);
    legacy_options_.log = [this](const std::string& line) { log(line); };
    legacy_options_.log_interval = std::chrono::milliseconds(0);
  }

  void start(bool chat_topics, bool legacy) {
    auto database = Database::open((dir_ / "db").string(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(database).value();
    journal_ = std::make_unique<RocksdbJournal>(database_.get());
    snapshots_ = std::make_unique<RocksdbSnapshotStore>(database_.get());
    config_ = std::make_unique<caf::actor_system_config>();
    system_ = std::make_unique<caf::actor_system>(*config_);
    if (before_chat_) before_chat_();
    chat_ = std::make_unique<chat::ChatSystem>(*system_, *journal_, snapshots_.get(),
                                               chat_system_options_);
    ASSERT_TRUE(chat_->status().is_ok()) << chat_->status().to_string();

    mqtt_adapter::MqttConnectionOptions options;
    options.url = broker_->url();
    options.client_id = "gatehouse-chat-test";
    options.mqtt_version = mqtt_version_;
    auto connection = mqtt_adapter::MqttConnection::create(options);
    ASSERT_TRUE(connection.is_ok()) << connection.status().to_string();
    connection_ = std::move(connection).value();
    if (chat_topics) {
      topics_ = std::make_unique<mqtt_adapter::ChatTopics>(*connection_, *chat_, chat_options_);
      ASSERT_TRUE(topics_->install(*connection_).is_ok());
      chat_->add_listener(topics_.get());
    }
    if (legacy) {
      legacy_ = std::make_unique<mqtt_adapter::LegacyChat>(*connection_, *chat_, legacy_options_);
      ASSERT_TRUE(legacy_->install(*connection_).is_ok());
    }
    ASSERT_TRUE(connection_->start().is_ok());
    ASSERT_TRUE(connection_->wait_connected(kWait));
  }

  void TearDown() override {
    if (connection_) connection_->stop();  // no handler runs after this
    if (chat_) chat_->shutdown();          // callbacks still in flight answer now
    chat_.reset();
    topics_.reset();
    legacy_.reset();
    system_.reset();
    config_.reset();
    connection_.reset();
    snapshots_.reset();
    journal_.reset();
    database_.reset();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  void log(const std::string& line) {
    std::lock_guard lock(log_mu_);
    log_lines_.push_back(line);
  }
  std::vector<std::string> log_lines() {
    std::lock_guard lock(log_mu_);
    return log_lines_;
  }

  std::unique_ptr<ChatClient> client(const std::string& id, int mqtt_version = 5) {
    auto c = std::make_unique<ChatClient>(broker_->url(), id, mqtt_version);
    EXPECT_TRUE(c->start());
    return c;
  }

  std::filesystem::path dir_;
  std::unique_ptr<mqtt_adapter::BrokerProcess> broker_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> journal_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<chat::ChatSystem> chat_;
  int mqtt_version_ = 5;
  mqtt_adapter::ChatTopicsOptions chat_options_;
  mqtt_adapter::LegacyChatOptions legacy_options_;
  chat::ChatSystemOptions chat_system_options_ = chat::ChatSystemOptions::for_tests();
  std::function<void()> before_chat_;  // runs on the fresh journal before the ChatSystem
  std::unique_ptr<mqtt_adapter::MqttConnection> connection_;
  std::unique_ptr<mqtt_adapter::ChatTopics> topics_;
  std::unique_ptr<mqtt_adapter::LegacyChat> legacy_;
  std::mutex log_mu_;
  std::vector<std::string> log_lines_;
};

}  // namespace gh::mqtt_test
