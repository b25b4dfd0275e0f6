// Door credentials through the whole server: an operator creates a provisioning key over
// HTTP, a new door provisions itself over MQTT through the private mosquitto, the credential
// is shown by GET /devices/{id}, reported to the registry's listeners, counted in /metrics,
// kept across a restart and listed by gatehousectl.
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
  Mirror mirror_;
};

TEST_F(CredentialFlowTest, ADoorProvisionsItselfWithAKeyAndKeepsItsCredential) {
  start();
  app_->credentials().add_listener(&mirror_);
  auto key = call("POST", "/api/provisioning-keys", bearer(kApiToken), {{"name", "batch-7"}});
  ASSERT_EQ(key.status, 201) << key.body.dump();
  ASSERT_TRUE(key.body["key"]["secret"].get<std::string>().starts_with("pk.batch-7."));

  mqtt_test::TestClient door(app_->info().broker_url, "door9");
  ASSERT_TRUE(door.connect());
  ASSERT_TRUE(door.subscribe("gatehouse/provision/batch-7/door9/reply"));
  ASSERT_TRUE(door.publish("gatehouse/provision/batch-7/door9", R"({"type":"lock"})"));
  auto reply = door.wait_for("gatehouse/provision/batch-7/door9/reply");
  ASSERT_TRUE(reply);
  auto answer = json::parse(reply->payload, nullptr, false);
  ASSERT_EQ(answer["ok"], true) << reply->payload;
  const std::string secret = answer["secret"];
  EXPECT_TRUE(app_->credentials().door_secret_valid("door9", secret));
  EXPECT_EQ(mirror_.door("door9"), secrets::sha256_of(secret));

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
