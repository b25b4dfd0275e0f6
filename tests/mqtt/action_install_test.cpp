// Remote install over MQTT against a real mosquitto: refused when off and without an
// operator's token, whatever the request says; installed with one when on.
#include "adapters/mqtt/action_install.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::kWait;
using nlohmann::json;

// Records what it is asked; refuses scripts that mention io.
class FakeAdmin : public actions::ActionAdmin {
 public:
  Result<actions::Action> install(const std::string& name, const std::string& source, bool replace,
                                  const events::Cause& by) override {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(name + (replace ? " replace" : "") + " by " + by.name() + "/" + by.channel());
    if (source.find("io.") != std::string::npos)
      return invalid_argument("action:1: attempt to index a nil value (global 'io')");
    actions::Action a;
    a.name = name;
    a.revision = 1;
    a.sha256 = std::string(32, '\xab');
    return a;
  }
  Status change(const actions::Command&, const events::Cause&) override { return Status::ok(); }
  actions::State table() const override { return {}; }
  Result<std::vector<actions::Invocation>> runs(const std::string&, size_t) const override {
    return std::vector<actions::Invocation>{};
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return calls.size();
  }
  std::mutex mu;
  std::vector<std::string> calls;
};

class RemoteInstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mqtt_test::temp_dir("mqtt-action-install");
    BrokerProcessOptions broker_options;
    broker_options.work_dir = dir_ / "broker";
    auto broker = BrokerProcess::start(broker_options);
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    broker_ = std::move(broker).value();
    client_ = std::make_unique<mqtt_test::TestClient>(broker_->url(), "ops-client");
    ASSERT_TRUE(client_->connect());
    ASSERT_TRUE(client_->subscribe("gatehouse/inbox/ops/#"));
  }

  void start(bool enabled) {
    MqttConnectionOptions options;
    options.url = broker_->url();
    options.client_id = "gatehouse-test";
    auto connection = MqttConnection::create(options);
    ASSERT_TRUE(connection.is_ok());
    connection_ = std::move(connection).value();
    RemoteInstallOptions install_options;
    install_options.enabled = enabled;
    remote_ = std::make_unique<RemoteInstall>(
        *connection_, admin_,
        [](const std::string& token) -> Result<events::Cause> {
          if (token != "good-token") return unauthenticated("unknown token");
          events::Cause c;
          c.set_kind(events::Cause::API_TOKEN);
          c.set_name("ops");
          return c;
        },
        install_options);
    ASSERT_TRUE(remote_->install(*connection_).is_ok());
    ASSERT_TRUE(connection_->start().is_ok());
    ASSERT_TRUE(connection_->wait_connected(kWait));
  }

  void TearDown() override {
    if (connection_) connection_->stop();
    remote_.reset();
    connection_.reset();
    client_.reset();
    broker_.reset();
    std::filesystem::remove_all(dir_);
  }

  json ask(json request, const std::string& inbox) {
    request["reply_to"] = "gatehouse/inbox/ops/" + inbox;
    EXPECT_TRUE(client_->publish("gatehouse/actions/install", request.dump()));
    auto reply = client_->wait_for("gatehouse/inbox/ops/" + inbox);
    EXPECT_TRUE(reply.has_value());
    return reply ? json::parse(reply->payload, nullptr, false) : json();
  }

  std::filesystem::path dir_;
  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<mqtt_test::TestClient> client_;
  FakeAdmin admin_;
  std::unique_ptr<MqttConnection> connection_;
  std::unique_ptr<RemoteInstall> remote_;
};

const json kGood = {
    {"token", "good-token"}, {"name", "greet"}, {"source", "function handle(m) return 'hi' end"}};

TEST_F(RemoteInstallTest, RefusedWhenOffEvenWithAnOperatorToken) {
  start(false);
  json reply = ask(kGood, "r1");
  EXPECT_EQ(reply["ok"], false);
  EXPECT_EQ(reply["error"]["code"], "permission_denied") << reply.dump();
  EXPECT_EQ(admin_.count(), 0u);
}

TEST_F(RemoteInstallTest, NeedsAnOperatorTokenWhenOn) {
  start(true);
  json no_token = kGood;
  no_token.erase("token");
  EXPECT_EQ(ask(no_token, "r1")["error"]["code"], "unauthenticated");
  json wrong = kGood;
  wrong["token"] = "guess";
  EXPECT_EQ(ask(wrong, "r2")["error"]["code"], "unauthenticated");
  EXPECT_EQ(admin_.count(), 0u);
  // Refused script: the sandbox's message comes back.
  json evil = kGood;
  evil["source"] = "io.open('x')";
  json refused = ask(evil, "r3");
  EXPECT_EQ(refused["error"]["code"], "invalid_argument");
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("global 'io'"), std::string::npos);
  // A reply topic outside the inboxes: dropped, nothing done.
  json elsewhere = kGood;
  elsewhere["reply_to"] = "devices/x";
  ASSERT_TRUE(client_->publish("gatehouse/actions/install", elsewhere.dump()));
  EXPECT_TRUE(mqtt_test::eventually([&] { return remote_->counters().dropped.load() == 1; }));

  json ok = ask(kGood, "r4");
  ASSERT_EQ(ok["ok"], true) << ok.dump();
  EXPECT_EQ(ok["action"]["name"], "greet");
  EXPECT_EQ(ok["action"]["revision"], 1);
  EXPECT_EQ(admin_.calls.back(), "greet by ops/mqtt");
  EXPECT_EQ(admin_.count(), 2u);
}

}  // namespace
}  // namespace gh::mqtt_adapter
