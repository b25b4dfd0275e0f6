// A whole gatehouse (App) on a temporary store with a private mosquitto, and an HTTP client
// to it: the base of the integration tests. `configure` may change the Config before each
// start; restart() stops the App and starts it again on the same store.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "server/app.h"
#include "tests/mqtt/test_support.h"

namespace gh::server {

// The API token every integration test configures, and its SHA-256 as auth.tokens wants it.
inline constexpr char kApiToken[] = "integration-secret";
inline std::string api_token_hash() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(kApiToken),
                     sizeof kApiToken - 1);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

class AppFixture : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mqtt_test::temp_dir("integration"); }
  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }

  void start() {
    config_ = std::make_unique<Config>();
    config_->store_path = (dir_ / "store").string();
    config_->run_dir = (dir_ / "run").string();
    config_->http_port = 0;
    config_->mqtt_port = 0;  // tests run side by side: any free port, not 1883
    config_->http_threads = 4;
    config_->command_timeout_ms = 30000;
    config_->bootstrap_token = "off";
    config_->api_tokens = {std::string("ops:") + api_token_hash()};
    config_->argon2_ops = 1;  // libsodium's minimum cost: tests hash quickly
    config_->argon2_mem_kib = 8;
    if (configure) configure(*config_);
    auto app = App::start(*config_);
    ASSERT_TRUE(app.is_ok()) << app.status().to_string();
    app_ = std::move(*app);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", app_->info().http_port);
    http_->set_tcp_nodelay(true);
    http_->set_read_timeout(60, 0);
  }
  virtual void stop() {
    http_.reset();
    app_.reset();
    config_.reset();
  }
  void restart() {
    stop();
    start();
  }

  static httplib::Headers bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  // The answer's status and parsed body (null when there was no answer or no JSON).
  struct Answer {
    int status = 0;
    nlohmann::json body;
  };
  Answer call(const std::string& method, const std::string& path, const httplib::Headers& headers,
              const nlohmann::json& body = nullptr) {
    httplib::Result res{nullptr, httplib::Error::Unknown};
    auto text = body.is_null() ? std::string() : body.dump();
    if (method == "GET") res = http_->Get(path.c_str(), headers);
    if (method == "POST") res = http_->Post(path.c_str(), headers, text, "application/json");
    if (method == "PUT") res = http_->Put(path.c_str(), headers, text, "application/json");
    if (method == "DELETE") res = http_->Delete(path.c_str(), headers);
    if (!res) return {};
    return {res->status, nlohmann::json::parse(res->body, nullptr, false)};
  }

  // The value of the sample `name` (with its labels, as /metrics writes it) on GET /metrics;
  // -1 when the answer has no such sample.
  double metric(const std::string& name) {
    auto res = http_->Get("/metrics");
    if (!res || res->status != 200) return -1;
    const std::string& text = res->body;
    for (size_t at = 0; (at = text.find(name + " ", at)) != std::string::npos; ++at) {
      if (at != 0 && text[at - 1] != '\n') continue;
      return std::strtod(text.c_str() + at + name.size() + 1, nullptr);
    }
    return -1;
  }
  // Events durably written since the start of this App.
  double events_written() { return metric("gatehouse_journal_events_appended_total"); }

  // Runs the real gatehousectl on the store (verbs that write need the server stopped);
  // its output goes to ctl.out in the test's directory. Returns the exit status.
  int gatehousectl(const std::string& args) {
    auto command = std::string(GH_BINARY_DIR) + "/tools/gatehousectl --store " +
                   (dir_ / "store").string() + " " + args + " > " + (dir_ / "ctl.out").string() +
                   " 2>&1";
    int rc = std::system(command.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  std::function<void(Config&)> configure;
  std::filesystem::path dir_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<App> app_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace gh::server
