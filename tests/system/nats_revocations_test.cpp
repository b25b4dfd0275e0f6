// Which door users gatehouse's NATS account revokes, folded from system/door-credentials
// (actors/system/nats_revocations.h), and the system user's credentials file
// (nats_system_user.h). That nats-server refuses what these revoke is proven by
// integration_test (NatsRevokingNode.*).
#include "actors/system/nats_revocations.h"

#include <gtest/gtest.h>

#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"
#include "actors/system/nats_system_user.h"

namespace gh {
namespace {

using nats_revocations::State;

events::Envelope issued(const std::string& id, uint64_t version, int64_t ms, bool replaced) {
  events::Envelope e;
  e.set_stream("system/door-credentials");
  e.set_version(version);
  e.set_time_unix_ms(ms);
  auto* body = e.mutable_door_credential_issued();
  body->set_device_id(id);
  body->set_replaced(replaced);
  return e;
}

events::Envelope revoked(const std::string& id, uint64_t version, int64_t ms) {
  events::Envelope e;
  e.set_stream("system/door-credentials");
  e.set_version(version);
  e.set_time_unix_ms(ms);
  e.mutable_door_credential_revoked()->set_device_id(id);
  return e;
}

// NATS refuses a JWT issued at `iat` when the user's revocation is at or after it.
bool refused(const State& state, const std::string& id, int64_t iat) {
  const auto found = state.doors.find(id);
  return found != state.doors.end() && found->second.revoked_s >= iat;
}

TEST(NatsRevocationsTest, ARevocationRefusesEveryEarlierJwtAndNoLaterOne) {
  State state;
  nats_revocations::apply(state, issued("door1", 1, 100'500, false));
  const int64_t first = nats_revocations::jwt_issued_at(state, "door1", 100);
  EXPECT_EQ(first, 100);
  EXPECT_FALSE(refused(state, "door1", first));
  nats_revocations::apply(state, revoked("door1", 2, 100'900));  // the same second
  EXPECT_TRUE(refused(state, "door1", first));
  nats_revocations::apply(state, issued("door1", 3, 100'950, false));  // again the same second
  const int64_t second = nats_revocations::jwt_issued_at(state, "door1", 100);
  EXPECT_GT(second, first) << "a new credential's JWT is issued after the revocation";
  EXPECT_FALSE(refused(state, "door1", second));
}

TEST(NatsRevocationsTest, ARotationEndsTheOldCredentialEvenWithinOneSecond) {
  State state;
  nats_revocations::apply(state, issued("door1", 1, 200'000, false));
  int64_t before = nats_revocations::jwt_issued_at(state, "door1", 200);
  for (uint64_t v = 2; v < 6; ++v) {
    nats_revocations::apply(state, issued("door1", v, 200'100 + int64_t(v), true));
    const int64_t now = nats_revocations::jwt_issued_at(state, "door1", 200);
    EXPECT_TRUE(refused(state, "door1", before)) << "rotation " << v;
    EXPECT_FALSE(refused(state, "door1", now)) << "rotation " << v;
    before = now;
  }
  EXPECT_LE(before, 200 + 4) << "at most one second ahead per change within the second";
}

TEST(NatsRevocationsTest, EventsFoldedTwiceOrOfOtherStreamsChangeNothing) {
  State state;
  nats_revocations::apply(state, issued("door1", 1, 100'000, false));
  nats_revocations::apply(state, revoked("door1", 2, 150'000));
  const State once = state;
  nats_revocations::apply(state, revoked("door1", 2, 190'000));  // replayed, then followed
  nats_revocations::apply(state, issued("door1", 1, 100'000, false));
  events::Envelope other;
  other.set_version(9);
  other.mutable_provisioning_key_revoked()->set_name("k");
  nats_revocations::apply(state, other);
  EXPECT_EQ(state.doors.at("door1").revoked_s, once.doors.at("door1").revoked_s);
  EXPECT_EQ(state.version, 2u);
  EXPECT_EQ(nats_revocations::jwt_issued_at(state, "door9", 123), 123) << "unknown: now";
}

TEST(NatsRevocationsTest, WantedNamesEachRevokedDoorsUserOnceAndMergeKeepsTheLaterTime) {
  const auto account = nkeys::new_key(nkeys::Kind::kAccount);
  State state;
  nats_revocations::apply(state, issued("door1", 1, 100'000, false));
  nats_revocations::apply(state, issued("door2", 2, 100'000, false));
  nats_revocations::apply(state, issued("door1", 3, 120'000, true));
  nats_revocations::apply(state, issued("door1", 4, 130'000, true));
  const auto wanted = nats_revocations::wanted(state, [&](const std::string& id) {
    return nats_identities::door_user_key(account, id).public_text();
  });
  ASSERT_EQ(wanted.size(), 1u) << "door2 was never revoked; door1 once, however many times";
  const auto door1 = nats_identities::door_user_key(account, "door1").public_text();
  EXPECT_EQ(wanted.at(door1), 130);

  // What NATS holds: an operator's own revocation of another user, and door1's older one.
  const nlohmann::json held = {{"UOTHER", 50}, {door1, 120}};
  EXPECT_FALSE(nats_revocations::covers(held, wanted));
  const auto merged = nats_revocations::merged(held, wanted);
  EXPECT_EQ(merged["UOTHER"], 50) << "kept";
  EXPECT_EQ(merged[door1], 130);
  EXPECT_TRUE(nats_revocations::covers(merged, wanted));
  const nlohmann::json later = {{door1, 999}};
  EXPECT_EQ(nats_revocations::merged(later, wanted)[door1], 999) << "never moved back";
  EXPECT_TRUE(nats_revocations::covers(later, wanted));
  EXPECT_FALSE(nats_revocations::covers(nlohmann::json(), wanted));
}

TEST(NatsSystemUserTest, CredentialsRoundTripAndBadOnesAreRefused) {
  const auto system = nkeys::new_key(nkeys::Kind::kAccount);
  const auto user = nkeys::new_key(nkeys::Kind::kUser);
  const std::string jwt = nats_system_user::user_jwt(system, user, 1700000000);
  auto claims = nats_jwt::decode(jwt);
  ASSERT_TRUE(claims.is_ok());
  EXPECT_EQ((*claims)["iss"], system.public_text());
  EXPECT_FALSE((*claims)["nats"].contains("bearer_token")) << "it signs the nonce";
  EXPECT_EQ((*claims)["nats"]["pub"]["allow"][0], "$SYS.REQ.CLAIMS.UPDATE");

  const std::string text = nats_system_user::creds_text(jwt, user);
  auto parsed = nats_system_user::parse_creds(text);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->jwt, jwt);
  EXPECT_EQ(parsed->user.public_text(), user.public_text());

  EXPECT_FALSE(nats_system_user::parse_creds("").is_ok());
  EXPECT_FALSE(nats_system_user::parse_creds(text.substr(0, text.find("-----BEGIN USER"))).is_ok())
      << "no seed";
  const auto other = nkeys::new_key(nkeys::Kind::kUser);
  auto mismatched = nats_system_user::parse_creds(nats_system_user::creds_text(jwt, other));
  ASSERT_FALSE(mismatched.is_ok());
  EXPECT_NE(mismatched.status().message().find("not of the user"), std::string::npos);
  auto not_user = nats_system_user::parse_creds(nats_system_user::creds_text(jwt, system));
  EXPECT_FALSE(not_user.is_ok()) << "an account seed is not a user's";
}

}  // namespace
}  // namespace gh
