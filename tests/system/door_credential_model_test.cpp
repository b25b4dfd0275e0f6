// The door credentials model, given (events) / when (decide) / then (event or rejection).
#include "actors/system/door_credential_model.h"

#include <gtest/gtest.h>

namespace gh::door_credentials {
namespace {

const std::string kHashA(32, 'a'), kHashB(32, 'b');

events::Cause operator_named(const std::string& name) {
  events::Cause cause;
  cause.set_kind(events::Cause::OPERATOR);
  cause.set_name(name);
  cause.set_channel("tool");
  return cause;
}

// `e` as the journal would have stored it at `version`.
events::Envelope stored(events::Envelope e, uint64_t version,
                        const events::Cause& by = operator_named("root")) {
  e.set_stream(std::string(kStream));
  e.set_version(version);
  e.set_time_unix_ms(1000 * int64_t(version));
  *e.mutable_cause() = by;
  return e;
}

// Given: the state after `events`.
State given(std::vector<events::Envelope> events) { return replay(events); }

events::Envelope issued(const std::string& id, const std::string& hash, bool replaced) {
  events::Envelope e;
  e.mutable_door_credential_issued()->set_device_id(id);
  e.mutable_door_credential_issued()->set_secret_sha256(hash);
  e.mutable_door_credential_issued()->set_replaced(replaced);
  return e;
}

events::Envelope revoked(const std::string& id) {
  events::Envelope e;
  e.mutable_door_credential_revoked()->set_device_id(id);
  return e;
}

TEST(DoorCredentialModelTest, IssueToANewDoorIsNotAReplacement) {
  State state;
  auto event = issue(state, "door1", kHashA, Issue::kNewOnly);
  ASSERT_TRUE(event.is_ok()) << event.status().to_string();
  EXPECT_EQ(event->door_credential_issued().device_id(), "door1");
  EXPECT_EQ(event->door_credential_issued().secret_sha256(), kHashA);
  EXPECT_FALSE(event->door_credential_issued().replaced());
}

TEST(DoorCredentialModelTest, IssueToADoorWithACredentialRotatesOrIsRefused) {
  State state = given({stored(issued("door1", kHashA, false), 1)});
  auto rotated = issue(state, "door1", kHashB, Issue::kNewOrRotate);
  ASSERT_TRUE(rotated.is_ok());
  EXPECT_TRUE(rotated->door_credential_issued().replaced());
  EXPECT_EQ(issue(state, "door1", kHashB, Issue::kNewOnly).status().code(), Code::kAlreadyExists);
}

TEST(DoorCredentialModelTest, IssueRefusesBadIdsAndHashes) {
  State state;
  EXPECT_EQ(issue(state, "bad id", kHashA, Issue::kNewOnly).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(issue(state, "", kHashA, Issue::kNewOnly).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(issue(state, std::string(65, 'd'), kHashA, Issue::kNewOnly).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(issue(state, "door1", "short", Issue::kNewOnly).status().code(),
            Code::kInvalidArgument);
}

TEST(DoorCredentialModelTest, ApplyKeepsTheNewestSecretWithWhenAndWhoIssuedIt) {
  State state =
      given({stored(issued("door1", kHashA, false), 1), stored(issued("door2", kHashA, false), 2),
             stored(issued("door1", kHashB, true), 3, operator_named("olga"))});
  EXPECT_EQ(state.version, 3u);
  ASSERT_EQ(state.doors.size(), 2u);
  const auto& door1 = state.doors.at("door1");
  EXPECT_EQ(door1.sha256, kHashB);
  EXPECT_EQ(door1.issued_at_ms, 3000);
  EXPECT_EQ(door1.issued_by.name(), "olga");
  EXPECT_EQ(door1.version, 3u);
  EXPECT_TRUE(matches(state, "door1", kHashB));
  EXPECT_FALSE(matches(state, "door1", kHashA));  // the rotated-away secret
  EXPECT_TRUE(matches(state, "door2", kHashA));
  EXPECT_FALSE(matches(state, "door3", kHashA));
  EXPECT_FALSE(matches(state, "door1", "short"));
}

TEST(DoorCredentialModelTest, RevokeRemovesTheCredentialAndNeedsOne) {
  State state = given({stored(issued("door1", kHashA, false), 1)});
  auto event = revoke(state, "door1");
  ASSERT_TRUE(event.is_ok());
  EXPECT_EQ(event->door_credential_revoked().device_id(), "door1");
  apply(state, stored(*event, 2));
  EXPECT_TRUE(state.doors.empty());
  EXPECT_FALSE(matches(state, "door1", kHashA));
  EXPECT_EQ(state.version, 2u);
  EXPECT_EQ(revoke(state, "door1").status().code(), Code::kNotFound);
  EXPECT_EQ(revoke(State{}, "never").status().code(), Code::kNotFound);
  // A revoked door may be issued a credential again, as a new one.
  auto again = issue(state, "door1", kHashB, Issue::kNewOnly);
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->door_credential_issued().replaced());
}

TEST(DoorCredentialModelTest, ReplayIgnoresOtherEvents) {
  events::Envelope other;
  other.mutable_api_token_created()->set_name("x");
  State state = given({stored(other, 1), stored(revoked("door9"), 2)});
  EXPECT_TRUE(state.doors.empty());
  EXPECT_EQ(state.version, 2u);  // a revoke of nothing (hand-made log) still counts
}

}  // namespace
}  // namespace gh::door_credentials
