// The credential routes end to end: a real HttpAdapter on port 0 with the real
// CredentialRegistry, DeviceSystem and ChatSystem over a RocksDB journal in a temporary
// directory. A door's secret is shown once, only its hash is stored; refusals write nothing;
// only API tokens and operators' sessions get in.
#include "actors/system/credential_registry.h"
#include "actors/system/secret.h"
#include "tests/http/chat_fixture.h"

namespace gh::http::testing {
namespace {

class CredentialRoutesTest : public ChatHttpTest {
 protected:
  void SetUp() override {
    ChatHttpTest::SetUp();
    if (HasFatalFailure()) return;
    auto registry = credentials::CredentialRegistry::open(*journal_);
    ASSERT_TRUE(registry.is_ok()) << registry.status().to_string();
    registry_ = std::move(*registry);
    adapter_ = std::make_unique<HttpAdapter>(*devices_, tokens_, signer_, HealthProbes{},
                                             MetricsSources{}, default_options());
    adapter_->set_chat(chat_.get());
    adapter_->set_credentials(registry_.get());
    chat_->add_listener(&adapter_->room_listener());
    auto port = adapter_->start();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_tcp_nodelay(true);
    client_->set_keep_alive(true);
    client_->set_read_timeout(std::chrono::seconds(120));
  }
  void TearDown() override {
    clients_stop();
    if (adapter_) adapter_->stop();
    registry_.reset();
    ChatHttpTest::TearDown();
  }

  // POST /devices for `id` with the API token; the answer's credential secret.
  std::string provision(const std::string& id) {
    auto result = post("/devices", {{"id", id}, {"type", "lock"}}, bearer(kApiSecret));
    EXPECT_TRUE(result);
    if (!result) return "";
    EXPECT_EQ(result->status, 201) << result->body;
    return body(result)["credential"].value("secret", "");
  }

  std::unique_ptr<credentials::CredentialRegistry> registry_;
};

TEST_F(CredentialRoutesTest, ProvisioningADeviceIssuesItsCredentialShownOnce) {
  auto result = post("/devices", {{"id", "door1"}, {"type", "lock"}}, bearer(kApiSecret));
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 201) << result->body;
  auto answer = body(result);
  EXPECT_EQ(answer["device"]["id"], "door1");
  EXPECT_EQ(answer["credential"]["username"], "door1");
  const std::string secret = answer["credential"].value("secret", "");
  EXPECT_TRUE(secrets::is_secret_hex(secret)) << result->body;
  EXPECT_TRUE(registry_->door_secret_valid("door1", secret));

  auto got = client_->Get("/devices/door1", bearer(kApiSecret));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  auto credential = body(got)["credential"];
  EXPECT_TRUE(credential["issued_at"].is_string()) << got->body;
  EXPECT_EQ(credential["issued_by"],
            json({{"kind", "api_token"}, {"name", "ops"}, {"channel", "http"}}));
  EXPECT_EQ(got->body.find(secret), std::string::npos);
  EXPECT_EQ(got->body.find("sha256"), std::string::npos);

  // Provisioning it again is refused and leaves its credential alone.
  const auto before = journal_->last_position();
  expect_error(post("/devices", {{"id", "door1"}}, bearer(kApiSecret)), 409, "already_exists");
  EXPECT_EQ(journal_->last_position(), before);
  EXPECT_TRUE(registry_->door_secret_valid("door1", secret));
}

TEST_F(CredentialRoutesTest, RotateAndRevokeADoorsCredential) {
  const std::string first = provision("door1");
  ASSERT_FALSE(first.empty());
  auto rotated = client_->Post("/devices/door1/credential", bearer(kApiSecret), "", "text/plain");
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->status, 200) << rotated->body;
  EXPECT_EQ(body(rotated)["credential"]["username"], "door1");
  const std::string second = body(rotated)["credential"].value("secret", "");
  EXPECT_TRUE(secrets::is_secret_hex(second));
  EXPECT_NE(second, first);
  EXPECT_FALSE(registry_->door_secret_valid("door1", first));
  EXPECT_TRUE(registry_->door_secret_valid("door1", second));

  auto revoked = client_->Delete("/devices/door1/credential", bearer(kApiSecret));
  ASSERT_TRUE(revoked);
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_FALSE(registry_->has_door("door1"));
  auto got = client_->Get("/devices/door1", bearer(kApiSecret));
  ASSERT_TRUE(got);
  EXPECT_TRUE(body(got)["credential"].is_null()) << got->body;

  const auto before = journal_->last_position();
  expect_error(client_->Delete("/devices/door1/credential", bearer(kApiSecret)), 404, "not_found");
  expect_error(client_->Post("/devices/ghost/credential", bearer(kApiSecret), "", "text/plain"),
               404, "not_found");
  expect_error(client_->Delete("/devices/ghost/credential", bearer(kApiSecret)), 404, "not_found");
  expect_error(client_->Post("/devices/bad%20id/credential", bearer(kApiSecret), "", "text/plain"),
               400, "invalid_argument");
  EXPECT_EQ(journal_->last_position(), before);
  EXPECT_FALSE(registry_->has_door("ghost"));

  // A revoked door can be given a credential again.
  auto again = client_->Post("/devices/door1/credential", bearer(kApiSecret), "", "text/plain");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_TRUE(registry_->has_door("door1"));
}

TEST_F(CredentialRoutesTest, ProvisioningKeys) {
  auto created = post("/api/provisioning-keys", {{"name", "factory-1"}}, bearer(kApiSecret));
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  auto key = body(created)["key"];
  EXPECT_EQ(key["name"], "factory-1");
  EXPECT_TRUE(key["created_at"].is_string()) << created->body;
  auto parsed = provisioning_keys::parse_provisioning_secret(key.value("secret", ""));
  ASSERT_TRUE(parsed.is_ok()) << created->body;
  EXPECT_EQ(parsed->name, "factory-1");
  EXPECT_TRUE(registry_->provisioning_key_valid("factory-1", parsed->secret));

  auto list = client_->Get("/api/provisioning-keys", bearer(kApiSecret));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  auto keys = body(list)["keys"];
  ASSERT_EQ(keys.size(), 1u) << list->body;
  EXPECT_EQ(keys[0]["name"], "factory-1");
  EXPECT_EQ(keys[0]["created_by"]["name"], "ops");
  EXPECT_FALSE(keys[0].contains("secret"));
  EXPECT_EQ(list->body.find(parsed->secret), std::string::npos);

  const auto before = journal_->last_position();
  expect_error(post("/api/provisioning-keys", {{"name", "factory-1"}}, bearer(kApiSecret)), 409,
               "already_exists");
  expect_error(post("/api/provisioning-keys", {{"name", "bad/name"}}, bearer(kApiSecret)), 400,
               "invalid_argument");
  expect_error(post("/api/provisioning-keys", {{"label", "x"}}, bearer(kApiSecret)), 400,
               "invalid_argument");
  expect_error(post("/api/provisioning-keys", json::array(), bearer(kApiSecret)), 400,
               "invalid_argument");
  expect_error(
      client_->Post("/api/provisioning-keys", bearer(kApiSecret), "{not json", "application/json"),
      400, "invalid_argument");
  expect_error(client_->Delete("/api/provisioning-keys/nope", bearer(kApiSecret)), 404,
               "not_found");
  EXPECT_EQ(journal_->last_position(), before);

  auto revoked = client_->Delete("/api/provisioning-keys/factory-1", bearer(kApiSecret));
  ASSERT_TRUE(revoked);
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_FALSE(registry_->has_provisioning_key("factory-1"));
  auto empty = client_->Get("/api/provisioning-keys", bearer(kApiSecret));
  ASSERT_TRUE(empty);
  EXPECT_EQ(body(empty)["keys"], json::array());
}

TEST_F(CredentialRoutesTest, AnOperatorsSessionIsNamedAsTheIssuer) {
  ASSERT_FALSE(provision("door1").empty());
  const std::string olga = login(kOperator, kOperatorPassword);
  ASSERT_FALSE(olga.empty());
  auto rotated = client_->Post("/devices/door1/credential", bearer(olga), "", "text/plain");
  ASSERT_TRUE(rotated);
  ASSERT_EQ(rotated->status, 200) << rotated->body;
  auto door = registry_->door("door1");
  ASSERT_TRUE(door);
  EXPECT_EQ(door->issued_by.kind(), events::Cause::USER);
  EXPECT_EQ(door->issued_by.name(), "olga");
  auto key = post("/api/provisioning-keys", {{"name", "k1"}}, bearer(olga));
  ASSERT_TRUE(key);
  EXPECT_EQ(key->status, 201) << key->body;
}

TEST_F(CredentialRoutesTest, OthersAre401Or403AndWriteNothing) {
  ASSERT_FALSE(provision("door1").empty());
  ASSERT_TRUE(registry_->create_provisioning_key("k1", events::Cause()).is_ok());
  const std::string alice = user_session("alice");
  const auto before = journal_->last_position();
  auto attempts = [&](const httplib::Headers& who) {
    std::vector<httplib::Result> out;
    out.push_back(client_->Post("/devices/door1/credential", who, "", "text/plain"));
    out.push_back(client_->Delete("/devices/door1/credential", who));
    out.push_back(post("/devices", {{"id", "door2"}}, who));
    out.push_back(client_->Get("/devices/door1", who));
    out.push_back(post("/api/provisioning-keys", {{"name", "k2"}}, who));
    out.push_back(client_->Get("/api/provisioning-keys", who));
    out.push_back(client_->Delete("/api/provisioning-keys/k1", who));
    return out;
  };
  for (const auto& result : attempts(bearer(alice))) expect_error(result, 403, "permission_denied");
  for (const auto& result : attempts({})) expect_error(result, 401, "unauthenticated");
  for (const auto& result : attempts(bearer("0123456789abcdef0123456789abcdef")))
    expect_error(result, 401, "unauthenticated");
  EXPECT_EQ(journal_->last_position(), before);
  EXPECT_TRUE(registry_->has_door("door1"));
  EXPECT_TRUE(registry_->has_provisioning_key("k1"));
}

}  // namespace
}  // namespace gh::http::testing
