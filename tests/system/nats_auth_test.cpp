// NATS nkeys, JWTs and the users gatehouse signs (docs/cluster.md, "Device identity on
// NATS"): published vectors for CRC-16/XMODEM, base32 and ed25519, round trips of keys and
// JWTs, refusals of edited ones, and what a door's JWT allows. That nats-server accepts them
// is proven by integration_test (NatsNode.*) against a real nats-server.
#include <gtest/gtest.h>

#include <algorithm>

#include "actors/system/nats_claims.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"
#include "actors/system/nats_nkey.h"
#include "actors/system/nats_operator_setup.h"

namespace gh {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

bool contains(const nlohmann::json& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

TEST(NkeyTest, Crc16IsXmodem) {
  EXPECT_EQ(nkeys::crc16("123456789"), 0x31C3);  // the published check value
  EXPECT_EQ(nkeys::crc16(""), 0);
}

TEST(NkeyTest, Base32IsRfc4648WithoutPadding) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "MY"},
                                                         {"fo", "MZXQ"},
                                                         {"foo", "MZXW6"},
                                                         {"foob", "MZXW6YQ"},
                                                         {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(nkeys::base32_encode(plain), encoded);
    auto decoded = nkeys::base32_decode(encoded);
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(*decoded, plain);
  }
  EXPECT_FALSE(nkeys::base32_decode("MZXW6===").is_ok()) << "padding";
  EXPECT_FALSE(nkeys::base32_decode("mzxw6").is_ok()) << "lower case";
}

TEST(NkeyTest, KeysFromASeedAreEd25519AsRfc8032Says) {
  // RFC 8032, 7.1, TEST 1.
  const auto key = nkeys::key_from_seed(
      nkeys::Kind::kUser,
      from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  EXPECT_EQ(key.public_key,
            from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  EXPECT_EQ(key.sign(""),
            from_hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
  EXPECT_TRUE(nkeys::verify(key.public_key, "", key.sign("")));
  EXPECT_FALSE(nkeys::verify(key.public_key, "x", key.sign("")));
}

TEST(NkeyTest, TextsCarryTheirKindAndRoundTrip) {
  for (auto kind : {nkeys::Kind::kOperator, nkeys::Kind::kAccount, nkeys::Kind::kUser}) {
    const auto key = nkeys::new_key(kind);
    const std::string letter(1, "OAU"[kind == nkeys::Kind::kOperator  ? 0
                                      : kind == nkeys::Kind::kAccount ? 1
                                                                      : 2]);
    const auto pub = key.public_text();
    const auto seed = key.seed_text();
    EXPECT_EQ(pub.size(), 56u);
    EXPECT_EQ(seed.size(), 58u);
    EXPECT_EQ(pub.substr(0, 1), letter);
    EXPECT_EQ(seed.substr(0, 2), "S" + letter);
    auto parsed = nkeys::parse_seed(seed);
    ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    EXPECT_EQ(parsed->kind, kind);
    EXPECT_EQ(parsed->seed, key.seed);
    EXPECT_EQ(parsed->public_key, key.public_key);
    auto public_key = nkeys::parse_public_key(pub, kind);
    ASSERT_TRUE(public_key.is_ok());
    EXPECT_EQ(*public_key, key.public_key);
  }
}

TEST(NkeyTest, AnEditedOrMistakenTextIsRefused) {
  const auto key = nkeys::new_key(nkeys::Kind::kAccount);
  std::string seed = key.seed_text();
  seed[10] = seed[10] == 'A' ? 'B' : 'A';
  auto edited = nkeys::parse_seed(seed);
  ASSERT_FALSE(edited.is_ok());
  EXPECT_NE(edited.status().message().find("CRC"), std::string::npos);
  EXPECT_FALSE(nkeys::parse_seed(key.public_text()).is_ok()) << "a public key is no seed";
  EXPECT_FALSE(nkeys::parse_seed(key.seed_text().substr(0, 40)).is_ok()) << "cut";
  EXPECT_FALSE(nkeys::parse_public_key(key.public_text(), nkeys::Kind::kUser).is_ok())
      << "an account key where a user key is expected";
}

TEST(NatsJwtTest, EncodesNatsHeaderAndSignedClaimsThatDecodeBack) {
  const auto account = nkeys::new_key(nkeys::Kind::kAccount);
  const auto jwt = nats_jwt::encode(account, {{"sub", "USER"}, {"name", "n"}}, 1700000000);
  ASSERT_EQ(std::count(jwt.begin(), jwt.end(), '.'), 2);
  auto header = nats_jwt::from_base64url(jwt.substr(0, jwt.find('.')));
  ASSERT_TRUE(header.is_ok());
  EXPECT_EQ(*header, R"({"typ":"JWT","alg":"ed25519-nkey"})");
  auto claims = nats_jwt::decode(jwt);
  ASSERT_TRUE(claims.is_ok()) << claims.status().to_string();
  EXPECT_EQ((*claims)["iss"], account.public_text());
  EXPECT_EQ((*claims)["iat"], 1700000000);
  EXPECT_EQ((*claims)["sub"], "USER");
  EXPECT_EQ((*claims)["jti"].get<std::string>().size(), 52u);  // base32 of SHA-256

  // Other claims under the same signature.
  const auto first = jwt.find('.');
  const auto second = jwt.find('.', first + 1);
  auto edited_claims = *claims;
  edited_claims["sub"] = "SOMEONE-ELSE";
  const std::string edited =
      jwt.substr(0, first + 1) + nats_jwt::base64url(edited_claims.dump()) + jwt.substr(second);
  auto refused = nats_jwt::decode(edited);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_FALSE(nats_jwt::decode("a.b").is_ok());
}

TEST(NatsIdentitiesTest, ADoorsJwtAllowsOnlyItsOwnTopicsAsNatsMapsThem) {
  const auto account = nkeys::new_key(nkeys::Kind::kAccount);
  auto claims =
      nats_jwt::decode(nats_identities::door_jwt(account, "gatehouse", 32, "door1", 1700000000));
  ASSERT_TRUE(claims.is_ok());
  EXPECT_EQ((*claims)["iss"], account.public_text());
  EXPECT_EQ((*claims)["sub"], nats_identities::door_user_key(account, "door1").public_text());
  const auto& nats = (*claims)["nats"];
  EXPECT_EQ(nats["type"], "user");
  EXPECT_EQ(nats["bearer_token"], true) << "NATS' MQTT has no nonce to sign";
  EXPECT_EQ(nats["allowed_connection_types"], nlohmann::json::array({"MQTT"}));
  const auto& pub = nats["pub"]["allow"];
  // door1 is in shard 712, group 8 of 32 (RendezvousTest).
  EXPECT_TRUE(contains(pub, "shard-group.8.gatehouse.devices.door1.state"));
  EXPECT_TRUE(contains(pub, "shard-group.8.gatehouse.devices.door1.hello"));
  EXPECT_TRUE(contains(pub, "gatehouse.devices.door1.availability")) << "a will is unmapped";
  for (const auto& subject : pub) {
    const auto s = subject.get<std::string>();
    EXPECT_NE(s.find(".devices.door1."), std::string::npos) << s;
    EXPECT_EQ(s.find("command"), std::string::npos) << s;
  }
  const auto& sub = nats["sub"]["allow"];
  EXPECT_TRUE(contains(sub, "gatehouse.devices.door1.command"));
  EXPECT_TRUE(contains(sub, "gatehouse.devices.door1.status"));
  EXPECT_FALSE(contains(sub, "gatehouse.devices.*.command"));
  EXPECT_FALSE(contains(sub, ">"));

  // One user per door and account, whatever the time: a revocation names it once.
  EXPECT_EQ(nats_identities::door_user_key(account, "door1").public_key,
            nats_identities::door_user_key(account, "door1").public_key);
  EXPECT_NE(nats_identities::door_user_key(account, "door1").public_key,
            nats_identities::door_user_key(account, "door2").public_key);
  EXPECT_NE(nats_identities::door_user_key(account, "door1").public_key,
            nats_identities::node_user_key(account, "door1").public_key);
  EXPECT_NE(
      nats_identities::door_user_key(account, "door1").public_key,
      nats_identities::door_user_key(nkeys::new_key(nkeys::Kind::kAccount), "door1").public_key);
}

TEST(NatsIdentitiesTest, ANodesJwtHasEveryPermission) {
  const auto account = nkeys::new_key(nkeys::Kind::kAccount);
  auto claims = nats_jwt::decode(nats_identities::node_jwt(account, "gh1", 1700000000));
  ASSERT_TRUE(claims.is_ok());
  EXPECT_FALSE((*claims)["nats"].contains("pub"));
  EXPECT_FALSE((*claims)["nats"].contains("sub"));
  EXPECT_EQ((*claims)["nats"]["bearer_token"], true);
}

TEST(NatsIdentitiesTest, AChatUsersJwtAllowsChatRequestsAndItsOwnInboxAndExpires) {
  const auto account = nkeys::new_key(nkeys::Kind::kAccount);
  auto claims = nats_jwt::decode(
      nats_identities::chat_user_jwt(account, "gatehouse", "alice", 1700000000, 1700003600));
  ASSERT_TRUE(claims.is_ok());
  EXPECT_EQ((*claims)["sub"], nats_identities::chat_user_key(account, "alice").public_text());
  EXPECT_NE((*claims)["sub"], nats_identities::door_user_key(account, "alice").public_text());
  EXPECT_EQ((*claims)["exp"], 1700003600) << "the session's end";
  const auto& nats = (*claims)["nats"];
  EXPECT_EQ(nats["bearer_token"], true);
  EXPECT_EQ(nats["pub"]["allow"], nlohmann::json::array({"gatehouse.chat.*"}));
  const auto& sub = nats["sub"]["allow"];
  EXPECT_TRUE(contains(sub, "gatehouse.inbox.alice"));
  EXPECT_TRUE(contains(sub, "gatehouse.inbox.alice.>"));
  EXPECT_TRUE(contains(sub, "gatehouse.rooms.*.events"));
  EXPECT_FALSE(contains(sub, "gatehouse.inbox.*.>"));
  EXPECT_FALSE(contains(sub, "gatehouse.chat.*")) << "requests carry passwords";
  EXPECT_FALSE(contains(sub, ">"));
  EXPECT_EQ(nats_identities::chat_user_jwt(account, "gatehouse", "a.b", 1700000000, 1700003600), "")
      << "NATS' MQTT refuses '.' in a topic level: no inbox for such a user";
}

TEST(NatsSetupTest, TheAccountCarriesTheGroupMappingsAndJetStream) {
  const auto keys = nats_setup::new_keys();
  auto account = nats_jwt::decode(
      nats_setup::account_jwt(keys, {"gatehouse", "probe"}, 32, {{"UREVOKED", 1700000000}}, 1));
  ASSERT_TRUE(account.is_ok());
  EXPECT_EQ((*account)["iss"], keys.signing_key.public_text());
  const auto& nats = (*account)["nats"];
  EXPECT_EQ(nats["mappings"]["gatehouse.devices.*.state"][0]["subject"],
            "shard-group.{{partition(32,1)}}.gatehouse.devices.{{wildcard(1)}}.state");
  EXPECT_TRUE(nats["mappings"].contains("probe.devices.*.hello"));
  EXPECT_EQ(nats["limits"]["disk_storage"], -1) << "JetStream on: NATS' MQTT needs it";
  EXPECT_EQ(nats["revocations"]["UREVOKED"], 1700000000);
  auto op = nats_jwt::decode(nats_setup::operator_jwt(keys, 1));
  ASSERT_TRUE(op.is_ok());
  EXPECT_EQ((*op)["nats"]["system_account"], keys.system_account.public_text());
  EXPECT_EQ((*op)["nats"]["signing_keys"][0], keys.signing_key.public_text())
      << "the signing key gatehouse re-signs the account with is the operator's";
  const auto conf = nats_setup::server_config(keys, "/x/operator.jwt", "ACC.JWT", "SYS.JWT");
  EXPECT_EQ(conf.find("resolver:"), std::string::npos) << "each node's own file has it";
  EXPECT_NE(nats_setup::resolver_config("/n1/jwt").find("type: full"), std::string::npos);
  EXPECT_NE(conf.find(keys.account.public_text() + ": \"ACC.JWT\""), std::string::npos);
}

}  // namespace
}  // namespace gh
