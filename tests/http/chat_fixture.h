// The fixture of the chat HTTP tests: a real HttpAdapter on port 0 with the real ChatSystem
// and DeviceSystem on a CAF actor system over a RocksDB journal in a temporary directory,
// and real httplib clients. No mocks, no timing assertions: waits are generous.
//
// An operator ("olga") is written into the log before the chat system starts, the way
// gatehousectl grants roles: Register and GrantRole through the pure user model.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "actors/chat/chat_system.h"
#include "actors/device/device_storage.h"
#include "actors/device/device_system.h"
#include "actors/user/user_model.h"
#include "adapters/http/http_adapter.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"

namespace gh::http::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline constexpr const char* kApiSecret = "secret-of-ops";
inline constexpr const char* kOperator = "olga";
inline constexpr const char* kOperatorPassword = "olga-password";
// Generous: the machine is shared by several builds.
inline constexpr std::chrono::seconds kPatience{60};

// Device effects nobody looks at.
class NoEffects : public device::DeviceEffects {
 public:
  void send_command(const std::string&, events::LockAction, const std::string&) override {}
  void publish_status(const device::State&) override {}
  void stranger_alert(const std::string&, const device::Stranger&) override {}
};

// A client of one Server-Sent Events stream, read on its own thread. The tests wait for
// text to appear; close() (or the destructor) ends the stream from the client's side.
class SseClient {
 public:
  SseClient(int port, std::string path, httplib::Headers headers = {})
      : client_("127.0.0.1", port) {
    client_.set_tcp_nodelay(true);
    client_.set_read_timeout(std::chrono::seconds(300));
    thread_ = std::thread([this, path = std::move(path), headers = std::move(headers)] {
      auto result = client_.Get(
          path.c_str(), headers,
          [this](const httplib::Response& response) {
            std::lock_guard lock(mutex_);
            status_ = response.status;
            content_type_ = response.get_header_value("Content-Type");
            content_encoding_ = response.get_header_value("Content-Encoding");
            changed_.notify_all();
            return true;
          },
          [this](const char* data, size_t length) {
            std::lock_guard lock(mutex_);
            text_.append(data, length);
            changed_.notify_all();
            return true;
          });
      std::lock_guard lock(mutex_);
      finished_ = true;
      changed_.notify_all();
    });
  }
  ~SseClient() {
    close();
    thread_.join();
  }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // True once `needle` has arrived (false after kPatience or when the stream ended first).
  bool wait_for(const std::string& needle) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] {
      return text_.find(needle) != std::string::npos || finished_;
    }) && text_.find(needle) != std::string::npos;
  }
  // True once the stream has ended.
  bool wait_finished() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kPatience, [&] { return finished_; });
  }
  void close() { client_.stop(); }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  int status() {
    std::lock_guard lock(mutex_);
    return status_;
  }
  std::string content_type() {
    std::lock_guard lock(mutex_);
    return content_type_;
  }
  std::string content_encoding() {
    std::lock_guard lock(mutex_);
    return content_encoding_;
  }

  // The data of the first frame of `event` whose data contains `needle`, parsed.
  json frame_data(const std::string& event, const std::string& needle = "") {
    const std::string all = text();
    const std::string marker = "event: " + event + "\ndata: ";
    for (size_t at = all.find(marker); at != std::string::npos; at = all.find(marker, at + 1)) {
      size_t start = at + marker.size();
      size_t end = all.find('\n', start);
      std::string data = all.substr(start, end - start);
      if (data.find(needle) != std::string::npos) return json::parse(data, nullptr, false);
    }
    return json();
  }

 private:
  httplib::Client client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
  int status_ = 0;
  std::string content_type_;
  std::string content_encoding_;
  bool finished_ = false;
  std::thread thread_;
};

class ChatHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-chat-http-" + std::to_string(::getpid()) + "-" + device::random_id().substr(0, 8));
    auto database = Database::open(dir_.string(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(database).value();
    journal_ = std::make_unique<RocksdbJournal>(database_.get());
    ASSERT_NO_FATAL_FAILURE(seed_operator());
    config_ = std::make_unique<caf::actor_system_config>();
    system_ = std::make_unique<caf::actor_system>(*config_);
    devices_ = std::make_unique<device::DeviceSystem>(*system_, *journal_,
                                                      device::replay_only_storage(*journal_),
                                                      &effects_, device::DeviceSystemOptions{});
    auto chat_options = chat::ChatSystemOptions::for_tests();
    chat_options.clock = [this] { return now_ms_.load(); };
    chat_ = std::make_unique<chat::ChatSystem>(*system_, *journal_, nullptr, chat_options);
    ASSERT_TRUE(chat_->status().is_ok()) << chat_->status().to_string();
    ASSERT_TRUE(tokens_.add("ops", sha256(kApiSecret)).is_ok());
  }

  void TearDown() override {
    clients_stop();
    if (adapter_) adapter_->stop();
    // The chat system calls the adapter's listener until it shuts down.
    if (chat_) chat_->shutdown();
    chat_.reset();
    adapter_.reset();
    devices_.reset();
    system_.reset();
    config_.reset();
    journal_.reset();
    database_.reset();
    fs::remove_all(dir_);
  }

  // The options of the adapter under test; tests change them before start().
  static HttpOptions default_options() {
    HttpOptions options;
    options.server.port = 0;
    options.server.threads = 4;
    options.server.max_body_bytes = 6144;
    options.max_event_streams = 4;
    return options;
  }

  // Starts the adapter with `options`, the chat service set and its listener registered.
  // Once per test: the chat system keeps the listener until it shuts down.
  void start(HttpOptions options = default_options(), bool with_chat = true) {
    ASSERT_FALSE(adapter_) << "start() once per test";
    adapter_ = std::make_unique<HttpAdapter>(*devices_, tokens_, signer_, HealthProbes{},
                                             MetricsSources{}, std::move(options));
    if (with_chat) {
      adapter_->set_chat(chat_.get());
      chat_->add_listener(&adapter_->room_listener());
    }
    auto port = adapter_->start();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_tcp_nodelay(true);
    client_->set_keep_alive(true);
    client_->set_read_timeout(std::chrono::seconds(120));
  }
  void clients_stop() { client_.reset(); }

  // Replaces the chat system by one with `options` (the test clock kept); before start().
  void use_chat_options(chat::ChatSystemOptions options) {
    ASSERT_FALSE(adapter_) << "before start()";
    chat_->shutdown();
    options.clock = [this] { return now_ms_.load(); };
    chat_ = std::make_unique<chat::ChatSystem>(*system_, *journal_, nullptr, options);
    ASSERT_TRUE(chat_->status().is_ok()) << chat_->status().to_string();
  }

  // An answer read off a raw socket.
  struct RawAnswer {
    int status = 0;  // 0: no answer
    std::string retry_after;
    json body;
  };
  // POSTs `request` to `path` from the local address `from` (another 127.0.0.x than the
  // httplib client's 127.0.0.1): another source for the chat throttle. One request per
  // connection.
  RawAnswer post_from(const std::string& from, const std::string& path, const json& request) {
    RawAnswer answer;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return answer;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<uint16_t>(port_));
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval timeout{120, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      ::close(fd);
      return answer;
    }
    const std::string body = request.dump();
    const std::string text = "POST " + path +
                             " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             "Connection: close\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd, text.data(), text.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(text.size())) {
      ::close(fd);
      return answer;
    }
    std::string received;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) received.append(buffer, n);
    ::close(fd);
    const auto head_end = received.find("\r\n\r\n");
    if (received.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return answer;
    answer.status = std::atoi(received.c_str() + 9);
    const std::string head = received.substr(0, head_end);
    if (auto at = head.find("\r\nRetry-After: "); at != std::string::npos) {
      at += 15;
      answer.retry_after = head.substr(at, head.find("\r\n", at) - at);
    }
    answer.body = json::parse(received.substr(head_end + 4), nullptr, false);
    return answer;
  }

  static httplib::Headers bearer(const std::string& secret) {
    return {{"Authorization", "Bearer " + secret}};
  }
  static json body(const httplib::Result& result) {
    return json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  }
  // Asserts a JSON error answer with `status` and `code`.
  static void expect_error(const httplib::Result& result, int status, const std::string& code) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, status) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    auto answer = body(result);
    EXPECT_EQ(answer["ok"], false) << result->body;
    EXPECT_EQ(answer["error"]["code"], code) << result->body;
    if (status == 401) {
      EXPECT_EQ(result->get_header_value("WWW-Authenticate"), "Bearer realm=\"gatehouse\"");
    }
  }
  httplib::Result post(const std::string& path, const json& request,
                       const httplib::Headers& headers = {}) {
    return client_->Post(path.c_str(), headers, request.dump(), "application/json");
  }
  httplib::Result put(const std::string& path, const json& request,
                      const httplib::Headers& headers = {}) {
    return client_->Put(path.c_str(), headers, request.dump(), "application/json");
  }

  // POST /api/users; asserts 201.
  void register_user(const std::string& name, const std::string& password) {
    auto result = post("/api/users", {{"name", name}, {"password", password}});
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << result->body;
  }
  // POST /api/sessions; the token, or "" after a failed assertion.
  std::string login(const std::string& name, const std::string& password) {
    auto result = post("/api/sessions", {{"name", name}, {"password", password}});
    EXPECT_TRUE(result);
    if (!result) return "";
    EXPECT_EQ(result->status, 201) << result->body;
    return body(result).value("token", "");
  }
  // Registers and logs in `name`; the session token.
  std::string user_session(const std::string& name) {
    register_user(name, name + "-password");
    return login(name, name + "-password");
  }
  // POST /api/rooms/{room}/messages; the message's id (0 after a failed assertion).
  uint64_t post_message(const std::string& token, const std::string& room,
                        const std::string& text) {
    auto result = post("/api/rooms/" + room + "/messages", {{"text", text}}, bearer(token));
    EXPECT_TRUE(result);
    if (!result) return 0;
    EXPECT_EQ(result->status, 201) << result->body;
    return body(result)["message"].value("id", uint64_t{0});
  }

  fs::path dir_;
  NoEffects effects_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> journal_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<device::DeviceSystem> devices_;
  std::unique_ptr<chat::ChatSystem> chat_;
  ApiTokens tokens_;
  UrlSigner signer_ = UrlSigner::create(std::string(UrlSigner::kKeyBytes, 'k')).value();
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::unique_ptr<HttpAdapter> adapter_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;

 private:
  // Appends the decisions of the pure user model for `command`, as gatehousectl does.
  void append_user_command(user::State& state, const user::Command& command) {
    auto events = user::decide(state, command, now_ms_.load());
    ASSERT_TRUE(events.is_ok()) << events.status().to_string();
    AppendRequest request;
    request.stream = user::user_stream(kOperator);
    request.expected_version = state.version;
    request.cause.set_kind(events::Cause::OPERATOR);
    request.cause.set_name("test");
    request.cause.set_channel("tool");
    request.events = *events;
    request.time_unix_ms = now_ms_.load();
    auto appended = journal_->append_and_wait(std::move(request));
    ASSERT_TRUE(appended.is_ok()) << appended.status().to_string();
    for (const auto& event : appended->events) user::apply(state, event);
  }
  void seed_operator() {
    ASSERT_GE(sodium_init(), 0);
    char hash[crypto_pwhash_STRBYTES];
    const std::string password = kOperatorPassword;
    ASSERT_EQ(crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_MIN,
                                crypto_pwhash_MEMLIMIT_MIN),
              0);
    user::State state = user::replay(kOperator, {});
    ASSERT_NO_FATAL_FAILURE(append_user_command(state, user::Register{hash}));
    ASSERT_NO_FATAL_FAILURE(
        append_user_command(state, user::GrantRole{std::string(user::kOperatorRole)}));
    ASSERT_TRUE(user::has_role(state, user::kOperatorRole));
  }
};

}  // namespace gh::http::testing
