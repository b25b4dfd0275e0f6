// Door credentials through the whole server: an operator creates a provisioning key over
// HTTP, a new door connects to the private mosquitto (with gatehouse's access plugin) with
// that key and provisions itself, then connects with its own credential and says hello; the
// credential is shown by GET /devices/{id}, reported to the registry's listeners, counted in
// /metrics, enforced by the broker after rotation, kept across a restart and listed by
// gatehousectl.
#include <fstream>
#include <map>
#include <mutex>

#include "actors/system/credential_registry.h"
#include "actors/system/secret.h"
#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using nlohmann::json;

// What the broker's authentication would mirror.
class Mirror : public credentials::CredentialListener {
 public:
  void on_door_credential(const std::string& id,
                          const std::optional<std::string>& sha256) override {
    std::lock_guard lock(mu_);
    if (sha256)
      doors_[id] = *sha256;
    else
      doors_.erase(id);
  }
  void on_provisioning_key(const std::string&, const std::optional<std::string>&) override {}
  std::optional<std::string> door(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = doors_.find(id);
    if (it == doors_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> doors_;
};

class CredentialFlowTest : public AppFixture {
 protected:
  // True when the broker accepts `username` and `password` (a fresh client each time).
  bool can_connect(const std::string& username, const std::string& password) {
    mqtt_test::TestClient client(app_->info().broker_url, "probe-" + std::to_string(++probes_));
    return client.connect(username, password);
  }
  Mirror mirror_;
  int probes_ = 0;
};

TEST_F(CredentialFlowTest, ADoorProvisionsItselfWithAKeyAndKeepsItsCredential) {
  start();
  app_->credentials().add_listener(&mirror_);
  auto key = call("POST", "/api/provisioning-keys", bearer(kApiToken), {{"name", "batch-7"}});
  ASSERT_EQ(key.status, 201) << key.body.dump();
  ASSERT_TRUE(key.body["key"]["secret"].get<std::string>().starts_with("pk.batch-7."));

  const std::string key_text = key.body["key"]["secret"];

  mqtt_test::TestClient provisioner(app_->info().broker_url, "door9");
  ASSERT_TRUE(provisioner.connect("door9", key_text));
  ASSERT_TRUE(provisioner.subscribe("gatehouse/provision/batch-7/door9/reply"));
  ASSERT_TRUE(provisioner.publish("gatehouse/provision/batch-7/door9", R"({"type":"lock"})"));
  auto reply = provisioner.wait_for("gatehouse/provision/batch-7/door9/reply");
  if (!reply) {
    std::ifstream log(app_->info().broker_log);
    std::string text((std::istreambuf_iterator<char>(log)), {});
    ADD_FAILURE() << "has door9: " << app_->credentials().has_door("door9") << "\n" << text;
  }
  ASSERT_TRUE(reply);
  auto answer = json::parse(reply->payload, nullptr, false);
  ASSERT_EQ(answer["ok"], true) << reply->payload;
  EXPECT_EQ(answer["username"], "door9");
  const std::string secret = answer["secret"];
  EXPECT_TRUE(app_->credentials().door_secret_valid("door9", secret));
  EXPECT_EQ(mirror_.door("door9"), secrets::sha256_of(secret));

  // The door now connects as itself and speaks the device topics.
  mqtt_test::TestClient door(app_->info().broker_url, "door9-main");
  ASSERT_TRUE(door.connect("door9", secret));
  ASSERT_TRUE(door.subscribe("gatehouse/devices/door9/status"));
  ASSERT_TRUE(door.publish("gatehouse/devices/door9/hello", R"({"name":"Side door"})"));
  ASSERT_TRUE(door.wait_for("gatehouse/devices/door9/status", [](const mqtt_test::Message& m) {
    return json::parse(m.payload, nullptr, false)["name"] == "Side door";
  }));
  EXPECT_FALSE(can_connect("door9", std::string(32, '0')));

  auto got = call("GET", "/devices/door9", bearer(kApiToken));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["device"]["provisioned"], true);
  EXPECT_EQ(got.body["credential"]["issued_by"],
            json({{"kind", "provisioning_key"}, {"name", "batch-7"}, {"channel", "mqtt"}}));
  auto metrics = http_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("gatehouse_mqtt_provision_provisioned_total 1"), std::string::npos)
      << metrics->body;

  // An operator rotates it: the listener sees the new hash.
  auto rotated = call("POST", "/devices/door9/credential", bearer(kApiToken));
  ASSERT_EQ(rotated.status, 200) << rotated.body.dump();
  const std::string second = rotated.body["credential"]["secret"];
  EXPECT_EQ(mirror_.door("door9"), secrets::sha256_of(second));
  EXPECT_TRUE(mqtt_test::eventually([&] { return !can_connect("door9", secret); }));
  EXPECT_TRUE(mqtt_test::eventually([&] { return can_connect("door9", second); }));

  restart();
  EXPECT_TRUE(app_->credentials().door_secret_valid("door9", second));
  EXPECT_FALSE(app_->credentials().door_secret_valid("door9", secret));
  EXPECT_TRUE(app_->credentials().has_provisioning_key("batch-7"));
  stop();
  ASSERT_EQ(gatehousectl("device credentials"), 0);
  std::ifstream out(dir_ / "ctl.out");
  std::string listed((std::istreambuf_iterator<char>(out)), {});
  EXPECT_TRUE(listed.starts_with("door9 issued=")) << listed;
  EXPECT_NE(listed.find("by=api_token:ops/http"), std::string::npos) << listed;
}

}  // namespace
}  // namespace gh::server
