// A door on the network listener (issue 9, "Listeners fit for a building"): the whole server
// with its private mosquitto listening on `mqtt.listen` with TLS (a certificate made by the
// real openssl for this test). The door, provisioned over HTTP, connects over TLS with its own
// credential and goes through the whole lock round trip: POST lock -> LOCK on its command
// topic -> it reports LOCKED -> the HTTP answer is `confirmed`. Plain TCP to that listener,
// TLS without a credential and TLS with a wrong secret do not connect at all.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using mqtt_test::Message;
using mqtt_test::TestClient;
using nlohmann::json;

class TlsDoor : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    certs_ = dir_ / "certs";
    ASSERT_TRUE(mqtt_test::make_test_certificates(certs_)) << "openssl failed; see " << certs_;
    port_ = mqtt_test::free_port();
    configure = [this](Config& c) {
      c.mqtt_listen = "127.0.0.1:" + std::to_string(port_);
      c.mqtt_tls_cert = (certs_ / "server.crt").string();
      c.mqtt_tls_key = (certs_ / "server.key").string();
      // The test's listener is on loopback, where `local` would let anonymous clients in; a
      // door on the network is never local, which `off` stands for here.
      c.mqtt_anonymous = "off";
    };
    start();
  }

  std::string tls_url() const { return "ssl://127.0.0.1:" + std::to_string(port_); }
  std::unique_ptr<TestClient> tls_client(const std::string& client_id) {
    auto client = std::make_unique<TestClient>(tls_url(), client_id);
    client->use_tls((certs_ / "ca.crt").string());
    return client;
  }

  std::filesystem::path certs_;
  uint16_t port_ = 0;
};

TEST_F(TlsDoor, ADoorWithItsCredentialLocksOverTlsAndNothingElseConnects) {
  EXPECT_EQ(app_->info().broker_listen, "127.0.0.1:" + std::to_string(port_));
  auto added = call("POST", "/devices", bearer(kApiToken), {{"id", "gate"}, {"type", "lock"}});
  ASSERT_EQ(added.status, 201) << added.body.dump();
  const std::string secret = added.body["credential"].value("secret", "");
  ASSERT_EQ(secret.size(), 32u) << added.body.dump();

  // Refused at CONNECT: no TLS, TLS without a credential, TLS with a wrong secret.
  const double written = events_written();
  EXPECT_FALSE(
      TestClient("tcp://127.0.0.1:" + std::to_string(port_), "gate-plain").connect("gate", secret));
  EXPECT_FALSE(tls_client("gate-anonymous")->connect());
  EXPECT_FALSE(tls_client("gate-wrong")->connect("gate", std::string(32, '0')));
  EXPECT_EQ(events_written(), written);

  // The door, over TLS with its credential (the broker learns a new credential a moment after
  // it is durable: the first attempt may come too early).
  auto door = tls_client("gate-door");
  ASSERT_TRUE(mqtt_test::eventually([&] { return door->connect("gate", secret); }));
  ASSERT_TRUE(door->subscribe_granted("gatehouse/devices/gate/command"));
  ASSERT_TRUE(door->publish("gatehouse/devices/gate/hello", R"({"name":"Gate"})"));
  ASSERT_TRUE(mqtt_test::eventually([&] {
    return call("GET", "/devices/gate", bearer(kApiToken)).body["device"].value("online", false);
  }));

  auto caller = std::async(std::launch::async, [&] {
    httplib::Client http("127.0.0.1", app_->info().http_port);
    http.set_read_timeout(60, 0);
    auto res = http.Post("/devices/gate/lock?wait=30", bearer(kApiToken), "", "application/json");
    return res ? std::make_pair(res->status, json::parse(res->body, nullptr, false))
               : std::make_pair(0, json());
  });
  // Skipping the GET gatehouse sends a door it has not heard from in this broker session.
  auto command = door->wait_for("gatehouse/devices/gate/command",
                                [](const auto& m) { return m.payload != "GET"; });
  ASSERT_TRUE(command);
  EXPECT_EQ(command->payload, "LOCK");
  ASSERT_TRUE(door->publish("gatehouse/devices/gate/state", "LOCKED"));
  auto [status, answer] = caller.get();
  EXPECT_EQ(status, 200) << answer.dump();
  EXPECT_EQ(answer["command"]["status"], "confirmed") << answer.dump();

  auto device = call("GET", "/devices/gate", bearer(kApiToken)).body["device"];
  EXPECT_EQ(device["reported"], "LOCKED") << device.dump();
  EXPECT_EQ(device["desired"], "LOCKED") << device.dump();
  auto history = call("GET", "/devices/gate/history", bearer(kApiToken)).body["history"];
  ASSERT_EQ(history.size(), 1u) << history.dump();
  EXPECT_EQ(history[0]["status"], "confirmed");
  EXPECT_EQ(history[0]["requested_by"]["name"], "ops");

  // Even over TLS the door is only itself: it may not read another door's commands.
  EXPECT_FALSE(door->subscribe_granted("gatehouse/devices/+/command"));
}

// gatehouse refuses to open a network listener without TLS unless told `insecure`.
TEST_F(TlsDoor, ANetworkListenerWithoutTlsIsRefusedAtStart) {
  stop();
  Config config;
  config.store_path = (dir_ / "store").string();
  config.run_dir = (dir_ / "run").string();
  config.http_port = 0;
  config.mqtt_port = 0;
  config.bootstrap_token = "off";
  config.mqtt_listen = "127.0.0.1:" + std::to_string(port_);
  auto app = App::start(config);
  ASSERT_FALSE(app.is_ok());
  EXPECT_NE(app.status().message().find("mqtt.insecure"), std::string::npos)
      << app.status().to_string();
}

}  // namespace
}  // namespace gh::server
