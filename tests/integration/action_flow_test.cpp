// The seed's action table and scripted actions through the whole server: plain MQTT clients
// send "WORD args" on `server` and read the answer on the topic WORD; an action installed
// with the real gatehousectl (server stopped) answers after a restart; one installed over
// HTTP or the remote install (server running) answers at once; the table is off unless
// `legacy` is on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using nlohmann::json;

class ActionFlow : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    configure = [](Config& c) {
      c.legacy = "on";
      c.remote_install = "on";
    };
    start();
  }
};

TEST_F(ActionFlow, BuiltInActionsGoThroughTheDeviceActors) {
  mqtt_test::TestClient client(app_->info().broker_url, "seed-door");
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.subscribe("hand_shake"));
  ASSERT_TRUE(client.subscribe("lock"));
  ASSERT_TRUE(client.subscribe("dance"));
  // An anonymous hand_shake registers no door (issue 9): refused, nothing written.
  const double before = events_written();
  ASSERT_GE(before, 0);
  ASSERT_TRUE(client.publish("server", "hand_shake door7"));
  auto refused = client.wait_for("hand_shake");
  ASSERT_TRUE(refused);
  EXPECT_EQ(json::parse(refused->payload, nullptr, false)["error"]["code"], "failed_precondition")
      << refused->payload;
  EXPECT_EQ(events_written(), before);
  EXPECT_EQ(call("GET", "/devices/door7", bearer(kApiToken)).status, 404);
  EXPECT_EQ(metric(R"(gatehouse_mqtt_actions_refused_total{reason="unprovisioned"})"), 1);

  // Provisioned by an operator, the door goes through the seed's flow as before.
  auto added = call("POST", "/devices", bearer(kApiToken), {{"id", "door7"}});
  ASSERT_EQ(added.status, 201) << added.body.dump();
  ASSERT_TRUE(client.publish("server", "hand_shake door7"));
  auto greeted = client.wait_for("hand_shake", [](const mqtt_test::Message& m) {
    return m.payload.find("\"ok\":true") != std::string::npos;
  });
  ASSERT_TRUE(greeted);
  EXPECT_EQ(json::parse(greeted->payload, nullptr, false)["device"]["online"], true)
      << greeted->payload;

  ASSERT_TRUE(client.publish("server", "lock door7"));
  auto locked = client.wait_for("lock");
  ASSERT_TRUE(locked);
  EXPECT_EQ(json::parse(locked->payload, nullptr, false)["ok"], true) << locked->payload;
  auto history = call("GET", "/devices/door7/history", bearer(kApiToken));
  ASSERT_EQ(history.status, 200) << history.body.dump();
  ASSERT_EQ(history.body["history"].size(), 1u) << "the table's lock is durable and audited";
  EXPECT_EQ(history.body["history"][0]["requested_by"]["channel"], "legacy");

  ASSERT_TRUE(client.publish("server", "dance door7"));
  auto unknown = client.wait_for("dance");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(json::parse(unknown->payload, nullptr, false)["error"]["code"], "not_found");
}

TEST_F(ActionFlow, AnInstalledActionSurvivesARestartAndAnswers) {
  stop();
  auto script = dir_ / "greet.lua";
  std::ofstream(script) << "function handle(msg) return 'hello ' .. msg.args end\n";
  ASSERT_EQ(gatehousectl("action install greet " + script.string() + " --as root"), 0);
  start();
  restart();  // installed is installed: the table is rebuilt from system/actions
  mqtt_test::TestClient client(app_->info().broker_url, "seed-client");
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.subscribe("greet"));
  ASSERT_TRUE(client.publish("server", "greet world"));
  auto answer = client.wait_for("greet");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->payload, "hello world");
}

TEST_F(ActionFlow, OperatorsChangeActionsLiveOverHttpAndMqtt) {
  mqtt_test::TestClient client(app_->info().broker_url, "ops");
  // Only API tokens may publish an install (which nobody but gatehouse may read).
  ASSERT_TRUE(client.connect("ops", kApiToken));
  ASSERT_TRUE(client.subscribe("greet"));
  ASSERT_TRUE(client.subscribe("gatehouse/inbox/ops/#"));

  auto created = http_->Put("/api/actions/greet", bearer(kApiToken),
                            "function handle(msg) return 'hello ' .. msg.args end\n", "text/x-lua");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  ASSERT_TRUE(client.publish("server", "greet world"));
  auto answer = client.wait_for("greet");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->payload, "hello world");

  // The remote install: the same operator rule as HTTP, recorded with channel mqtt.
  json request{{"token", kApiToken},
               {"name", "greet"},
               {"source", "function handle(msg) return 'HELLO ' .. msg.args end"},
               {"replace", true},
               {"reply_to", "gatehouse/inbox/ops/1"}};
  ASSERT_TRUE(client.publish("gatehouse/actions/install", request.dump()));
  auto installed = client.wait_for("gatehouse/inbox/ops/1");
  ASSERT_TRUE(installed);
  auto reply = json::parse(installed->payload, nullptr, false);
  EXPECT_EQ(reply["ok"], true) << installed->payload;
  EXPECT_EQ(reply["action"]["revision"], 2) << installed->payload;
  EXPECT_EQ(reply["action"]["installed_by"]["channel"], "mqtt") << installed->payload;
  request["token"] = "not-a-token";
  request["reply_to"] = "gatehouse/inbox/ops/2";
  ASSERT_TRUE(client.publish("gatehouse/actions/install", request.dump()));
  auto refused = client.wait_for("gatehouse/inbox/ops/2");
  ASSERT_TRUE(refused);
  EXPECT_EQ(json::parse(refused->payload, nullptr, false)["error"]["code"], "unauthenticated");

  ASSERT_TRUE(client.publish("server", "greet again"));
  auto second = client.wait_for("greet", [](const auto& m) { return m.payload != "hello world"; });
  ASSERT_TRUE(second);
  EXPECT_EQ(second->payload, "HELLO again");

  auto runs = call("GET", "/api/actions/greet/runs", bearer(kApiToken));
  ASSERT_EQ(runs.status, 200) << runs.body.dump();
  ASSERT_EQ(runs.body["runs"].size(), 2u) << runs.body.dump();
  EXPECT_EQ(runs.body["runs"][1]["output"], "HELLO again");
  auto disabled = call("POST", "/api/actions/greet/disable", bearer(kApiToken));
  ASSERT_EQ(disabled.status, 200) << disabled.body.dump();
  EXPECT_EQ(disabled.body["action"]["enabled"], false);
}

}  // namespace
}  // namespace gh::server
