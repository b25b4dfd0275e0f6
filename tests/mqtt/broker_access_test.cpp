// The broker as a trust boundary, for real: a private mosquitto with gatehouse's plugin, our
// own MqttConnection synchronising the identities (BrokerSync), and paho clients playing doors,
// chat clients and attackers. Every refused publish is followed by an allowed marker from the
// same client: the broker handles one client's messages in order, so once the marker has
// arrived, the refused message has been dropped for good (0 deliveries).
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include "actors/system/secret.h"
#include "adapters/mqtt/broker_plugin/identity_table.h"
#include "adapters/mqtt/broker_sync.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::TestClient;

constexpr const char* kServerSecret = "server-secret-for-tests";

// The plugin with gatehouse's password kServerSecret and the default rules.
BrokerAccess test_access() {
  BrokerAccess access;
  access.server_sha256_hex = secrets::to_hex(secrets::sha256_of(kServerSecret));
  return access;
}

class BrokerAccessTest : public ::testing::Test {
 protected:
  // The plugin's options for this fixture's broker.
  virtual BrokerAccess access() const { return test_access(); }
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    dir_ = mqtt_test::temp_dir("access");
    BrokerProcessOptions options;
    options.work_dir = dir_;
    options.access = access();
    auto broker = BrokerProcess::start(options);
    ASSERT_TRUE(broker.is_ok()) << broker.status().message();
    broker_ = std::move(*broker);

    identities_.doors.push_back({"d1", secrets::sha256_of("d1-secret")});
    identities_.doors.push_back({"d2", secrets::sha256_of("d2-secret")});
    identities_.tokens.push_back({"ops", secrets::sha256_of("ops-secret")});
    identities_.keys.push_back({"batch1", secrets::sha256_of("keysecret")});
    identities_.sessions.push_back({"alice", secrets::sha256_of("alice.s1"), INT64_MAX});

    MqttConnectionOptions conn;
    conn.url = broker_->url();
    conn.username = "gatehouse";
    conn.password = kServerSecret;
    conn.status_topic = "gatehouse/server/status";
    conn.on_connected = [this] { sync_->full_sync(); };
    auto created = MqttConnection::create(conn);
    ASSERT_TRUE(created.is_ok());
    server_ = std::move(*created);
    sync_ = std::make_unique<BrokerSync>(*server_, [this] {
      std::lock_guard lock(mu_);
      return identities_;
    });
    ASSERT_TRUE(server_
                    ->add_handler({"gatehouse/devices/+/+", "gatehouse/chat/+",
                                   "gatehouse/provision/+/+", "$CONTROL/gatehouse/v1/response"},
                                  1,
                                  [this](const std::string& t, const std::string& p, bool) {
                                    if (t == BrokerSync::kResponseTopic) sync_->on_response(p);
                                    std::lock_guard lock(mu_);
                                    received_.push_back({t, p});
                                  })
                    .is_ok());
    ASSERT_TRUE(server_->start().is_ok());
    ASSERT_TRUE(server_->wait_connected(mqtt_test::kWait));
    ASSERT_TRUE(server_received("$CONTROL/gatehouse/v1/response")) << "no commit answer";
  }

  void TearDown() override {
    if (server_) server_->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool server_received(const std::string& topic, const std::string& payload = "") {
    return mqtt_test::eventually([&] {
      std::lock_guard lock(mu_);
      for (const auto& [t, p] : received_)
        if (t == topic && (payload.empty() || p == payload)) return true;
      return false;
    });
  }
  size_t server_count(const std::string& topic) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [t, p] : received_) n += t == topic;
    return n;
  }
  std::unique_ptr<TestClient> client(const std::string& id) {
    return std::make_unique<TestClient>(broker_->url(), id);
  }

  std::filesystem::path dir_;
  std::unique_ptr<BrokerProcess> broker_;
  std::mutex mu_;
  BrokerIdentities identities_;
  std::vector<std::pair<std::string, std::string>> received_;
  std::unique_ptr<MqttConnection> server_;
  std::unique_ptr<BrokerSync> sync_;
};

TEST_F(BrokerAccessTest, ADoorWithItsCredentialReachesGatehouseAndNothingElse) {
  auto door = client("door-d1");
  ASSERT_TRUE(door->connect("d1", "d1-secret"));
  ASSERT_TRUE(door->subscribe_granted("gatehouse/devices/d1/command"));
  EXPECT_FALSE(door->subscribe_granted("gatehouse/devices/d2/command"));
  EXPECT_FALSE(door->subscribe_granted("#"));
  door->publish("gatehouse/devices/d2/state", "UNLOCKED");                   // another door
  door->publish("gatehouse/devices/d1/state", "UNLOCKED", /*retain=*/true);  // retained
  door->publish("gatehouse/devices/d1/hello", "marker");
  ASSERT_TRUE(server_received("gatehouse/devices/d1/hello", "marker"));
  EXPECT_EQ(server_count("gatehouse/devices/d2/state"), 0u);
  EXPECT_EQ(server_count("gatehouse/devices/d1/state"), 0u);
  // Counted: the plugin reports its refusals to gatehouse (for /metrics).
  EXPECT_TRUE(mqtt_test::eventually([&] {
    auto r = sync_->report();
    return r.publishes_denied >= 2 && r.subscribes_denied >= 2 && r.doors == 2;
  }));
  // Commands reach the door from gatehouse only.
  server_->publish("gatehouse/devices/d1/command", "LOCK", 1, false);
  EXPECT_TRUE(door->wait_for("gatehouse/devices/d1/command").has_value());
}

// The same broker with a publish rate of 1 message a second and a burst of 100 per client.
class BrokerPublishRateTest : public BrokerAccessTest {
 protected:
  BrokerAccess access() const override {
    auto limited = test_access();
    limited.publish_rate = 1;
    limited.publish_burst = 100;
    return limited;
  }
};

TEST_F(BrokerPublishRateTest, AFloodPastTheRateIsDroppedAndCountedAndNobodyElseIsLimited) {
  auto flood = client("door-d1");
  ASSERT_TRUE(flood->connect("d1", "d1-secret"));
  auto calm = client("door-d2");
  ASSERT_TRUE(calm->connect("d2", "d2-secret"));
  ASSERT_TRUE(calm->subscribe_granted("gatehouse/devices/d2/command"));
  // QoS 1: mosquitto acknowledges every message, the dropped ones too.
  ASSERT_TRUE(flood->publish_many("gatehouse/devices/d1/state", "LOCKED", 300));
  // Another client has a bucket of its own; its messages reach gatehouse after every one of
  // the flood's that the broker let through (one broker thread, one queue to gatehouse).
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(calm->publish("gatehouse/devices/d2/state", "m" + std::to_string(i)));
  }
  ASSERT_TRUE(server_received("gatehouse/devices/d2/state", "m19"));
  EXPECT_EQ(server_count("gatehouse/devices/d2/state"), 20u);
  // The burst passed; past it, one message a second (the flood took far less than 200 s).
  const size_t passed = server_count("gatehouse/devices/d1/state");
  EXPECT_GE(passed, 100u);
  EXPECT_LT(passed, 300u);
  // Every dropped message is counted, under the kind of client that sent it.
  EXPECT_TRUE(mqtt_test::eventually([&] {
    auto r = sync_->report();
    return r.rate_limited["door"] == 300 - passed && r.rate_limited["user"] == 0;
  })) << sync_->report().rate_limited["door"]
      << " counted, " << 300 - passed << " dropped";
  // gatehouse's own connection is never limited, and stayed connected throughout.
  for (int i = 0; i < 300; ++i) server_->publish("gatehouse/devices/d2/command", "LOCK", 1, false);
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return calm->messages_on("gatehouse/devices/d2/command").size() == 300; }));
  EXPECT_TRUE(server_->connected());
  EXPECT_EQ(server_->counters().connection_lost.load(), 0u);
}

// upgrade_outgoing_qos (broker_process.cpp): gatehouse acknowledges every message it reads,
// so a backlog of QoS 0 messages cannot leave it silent until the broker's keep-alive ends it.
TEST_F(BrokerAccessTest, AClientsQos0MessageReachesGatehouseAtItsSubscriptionsQos1) {
  auto listener = client("gatehouse-listener");  // gatehouse's identity, another client id
  ASSERT_TRUE(listener->connect("gatehouse", kServerSecret));
  ASSERT_TRUE(listener->subscribe("gatehouse/devices/d1/state"));
  auto door = client("door-d1");
  ASSERT_TRUE(door->connect("d1", "d1-secret"));
  ASSERT_TRUE(door->publish_qos0("gatehouse/devices/d1/state", "LOCKED"));
  auto delivered = listener->wait_for("gatehouse/devices/d1/state");
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->qos, 1);
}

TEST_F(BrokerAccessTest, WithoutARateNoClientIsLimited) {
  auto door = client("door-d1");
  ASSERT_TRUE(door->connect("d1", "d1-secret"));
  ASSERT_TRUE(door->publish_many("gatehouse/devices/d1/state", "LOCKED", 300));
  ASSERT_TRUE(door->publish("gatehouse/devices/d1/hello", "marker"));
  ASSERT_TRUE(server_received("gatehouse/devices/d1/hello", "marker"));
  EXPECT_EQ(server_count("gatehouse/devices/d1/state"), 300u);
}

TEST_F(BrokerAccessTest, WrongOrMissingCredentialsCannotActAsADoor) {
  EXPECT_FALSE(client("a")->connect("d1", "guess"));
  EXPECT_FALSE(client("b")->connect("d9", "d1-secret"));
  auto anonymous = client("anon-1");
  ASSERT_TRUE(anonymous->connect());
  anonymous->publish("gatehouse/devices/d1/state", "LOCKED");
  anonymous->publish("gatehouse/devices/d1/hello", "{}");
  anonymous->publish("gatehouse/devices/d1/stranger", "\xFF\xD8\xFF");
  auto door = client("door-d1");
  ASSERT_TRUE(door->connect("d1", "d1-secret"));
  ASSERT_TRUE(door->subscribe_granted("gatehouse/devices/d1/command"));
  anonymous->publish("gatehouse/devices/d1/command", "UNLOCK");  // nobody but gatehouse
  anonymous->publish("gatehouse/chat/login", "marker");
  ASSERT_TRUE(server_received("gatehouse/chat/login", "marker"));
  EXPECT_EQ(server_count("gatehouse/devices/d1/state"), 0u);
  EXPECT_EQ(server_count("gatehouse/devices/d1/hello"), 0u);
  EXPECT_EQ(server_count("gatehouse/devices/d1/stranger"), 0u);
  server_->publish("gatehouse/devices/d1/command", "LOCK", 1, false);
  ASSERT_TRUE(door->wait_for("gatehouse/devices/d1/command").has_value());
  EXPECT_EQ(door->messages_on("gatehouse/devices/d1/command").size(), 1u);
  EXPECT_EQ(door->messages_on("gatehouse/devices/d1/command")[0].payload, "LOCK");
}

TEST_F(BrokerAccessTest, ChatClientsReadOnlyTheirOwnInbox) {
  auto alice = client("alice-phone");
  ASSERT_TRUE(alice->connect("alice", "alice.s1"));
  EXPECT_FALSE(alice->subscribe_granted("#"));
  EXPECT_FALSE(alice->subscribe_granted("gatehouse/inbox/bob-phone/#"));
  EXPECT_FALSE(alice->subscribe_granted("gatehouse/devices/d1/command"));
  EXPECT_FALSE(alice->subscribe_granted("gatehouse/chat/+"));
  ASSERT_TRUE(alice->subscribe_granted("gatehouse/inbox/alice-phone/#"));
  auto bob = client("bob-phone");
  ASSERT_TRUE(bob->connect());
  ASSERT_TRUE(bob->subscribe_granted("gatehouse/inbox/bob-phone/#"));
  server_->publish("gatehouse/inbox/bob-phone/replies", "bob's token", 1, false);
  server_->publish("gatehouse/inbox/alice-phone/replies", "alice's", 1, false);
  ASSERT_TRUE(alice->wait_for("gatehouse/inbox/alice-phone/replies").has_value());
  ASSERT_TRUE(bob->wait_for("gatehouse/inbox/bob-phone/replies").has_value());
  EXPECT_TRUE(alice->messages_on("gatehouse/inbox/bob-phone/replies").empty());
  // Anonymous may log in, not post.
  bob->publish("gatehouse/chat/post", "{}");
  bob->publish("gatehouse/chat/login", "marker");
  ASSERT_TRUE(server_received("gatehouse/chat/login", "marker"));
  EXPECT_EQ(server_count("gatehouse/chat/post"), 0u);
}

TEST_F(BrokerAccessTest, NobodyTakesGatehousesIdentityOrClientId) {
  EXPECT_FALSE(client("gatehouse")->connect());
  EXPECT_FALSE(client("gatehouse")->connect("d1", "d1-secret"));
  EXPECT_FALSE(client("x")->connect("gatehouse", "guess"));
  EXPECT_TRUE(server_->connected());
  // Nor another connection's client id.
  auto door = client("door-d1");
  ASSERT_TRUE(door->connect("d1", "d1-secret"));
  EXPECT_FALSE(client("door-d1")->connect("d2", "d2-secret"));
  EXPECT_FALSE(client("door-d1")->connect());
  EXPECT_TRUE(door->connected());
}

TEST_F(BrokerAccessTest, ARevokedDoorIsDisconnectedAndCannotComeBack) {
  auto door = client("door-d1");
  ASSERT_TRUE(door->connect("d1", "d1-secret"));
  sync_->remove("door", "d1");
  EXPECT_TRUE(mqtt_test::eventually([&] { return !door->connected(); }));
  EXPECT_FALSE(client("door-d1b")->connect("d1", "d1-secret"));
  // A rotation: the new secret works, the old one not.
  sync_->set("door", "d2", secrets::sha256_of("d2-new"));
  EXPECT_TRUE(mqtt_test::eventually([&] { return client("c2")->connect("d2", "d2-new"); }));
  EXPECT_FALSE(client("c3")->connect("d2", "d2-secret"));
  sync_->remove("token", "ops");
  EXPECT_FALSE(client("c4")->connect("ops", "ops-secret"));
}

TEST_F(BrokerAccessTest, AProvisioningKeyOnlyAsksForANewDoorsCredential) {
  EXPECT_FALSE(client("p0")->connect("d1", "pk.batch1.keysecret"));  // d1 has a credential
  EXPECT_FALSE(client("p1")->connect("d7", "pk.batch1.wrong"));
  auto p = client("p2");
  ASSERT_TRUE(p->connect("d7", "pk.batch1.keysecret"));
  EXPECT_FALSE(p->subscribe_granted("gatehouse/provision/batch1/d8/reply"));
  ASSERT_TRUE(p->subscribe_granted("gatehouse/provision/batch1/d7/reply"));
  p->publish("gatehouse/devices/d7/hello", "{}");
  p->publish("gatehouse/provision/batch1/d7", "marker");
  ASSERT_TRUE(server_received("gatehouse/provision/batch1/d7", "marker"));
  EXPECT_EQ(server_count("gatehouse/devices/d7/hello"), 0u);
  // Once d7 has its credential, the provisioning connection stays to read its reply (which
  // gatehouse publishes after the credential is recorded), but no new one is let in; when
  // the key is revoked, it ends.
  sync_->set("door", "d7", secrets::sha256_of("d7-secret"));
  EXPECT_TRUE(
      mqtt_test::eventually([&] { return !client("p3")->connect("d7", "pk.batch1.keysecret"); }));
  EXPECT_TRUE(p->connected());
  sync_->remove("key", "batch1");
  EXPECT_TRUE(mqtt_test::eventually([&] { return !p->connected(); }));
}

TEST_F(BrokerAccessTest, AfterABrokerRestartGatehouseSynchronisesAgain) {
  const auto port = broker_->port();
  ASSERT_TRUE(broker_->stop().is_ok());
  BrokerProcessOptions options;
  options.work_dir = dir_;
  options.port = port;
  options.access = test_access();
  auto again = BrokerProcess::start(options);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  broker_ = std::move(*again);
  EXPECT_TRUE(mqtt_test::eventually([&] { return sync_->full_syncs() >= 2; }));
  EXPECT_TRUE(mqtt_test::eventually([&] { return client("d1c")->connect("d1", "d1-secret"); }));
}

TEST_F(BrokerAccessTest, AGivenPortThatIsTakenIsNamedWithWhatToDo) {
  BrokerProcessOptions options;
  options.work_dir = dir_ / "second";
  options.port = broker_->port();
  auto second = BrokerProcess::start(options);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("mqtt.port"), std::string::npos);
}

// A network listener with TLS: a door with its credential connects over TLS and is a door;
// plain TCP to that port, or TLS with a wrong secret, does not connect.
TEST_F(BrokerAccessTest, ATlsListenerTakesDoorsWithTheirCredentialOnly) {
  auto certs = dir_ / "certs";
  ASSERT_TRUE(mqtt_test::make_test_certificates(certs)) << "openssl failed; see " << certs;

  auto port = mqtt_test::free_port();
  BrokerProcessOptions options;
  options.work_dir = dir_ / "tls";
  options.access = test_access();
  BrokerListener tls;
  tls.address = "127.0.0.1";
  tls.port = port;
  tls.certfile = certs / "server.crt";
  tls.keyfile = certs / "server.key";
  options.listeners.push_back(tls);
  auto started = BrokerProcess::start(options);
  ASSERT_TRUE(started.is_ok()) << started.status().message();
  auto broker = std::move(*started);

  MqttConnectionOptions conn;
  conn.url = broker->url();
  conn.client_id = "gatehouse";
  conn.username = "gatehouse";
  conn.password = kServerSecret;
  std::unique_ptr<BrokerSync> sync;
  conn.on_connected = [&] { sync->full_sync(); };
  auto created = MqttConnection::create(conn);
  ASSERT_TRUE(created.is_ok());
  auto server = std::move(*created);
  sync = std::make_unique<BrokerSync>(*server, [this] {
    std::lock_guard lock(mu_);
    return identities_;
  });
  ASSERT_TRUE(server->start().is_ok());
  ASSERT_TRUE(server->wait_connected(mqtt_test::kWait));

  const std::string tls_url = "ssl://127.0.0.1:" + std::to_string(port);
  EXPECT_TRUE(mqtt_test::eventually([&] {
    TestClient door(tls_url, "door-d1-tls");
    door.use_tls((certs / "ca.crt").string());
    return door.connect("d1", "d1-secret");
  }));
  TestClient wrong(tls_url, "door-d1-wrong");
  wrong.use_tls((certs / "ca.crt").string());
  EXPECT_FALSE(wrong.connect("d1", "guess"));
  TestClient plain("tcp://127.0.0.1:" + std::to_string(port), "door-d1-plain");
  EXPECT_FALSE(plain.connect("d1", "d1-secret"));
  server->stop();
}

}  // namespace
}  // namespace gh::mqtt_adapter
