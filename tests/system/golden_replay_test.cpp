// The golden log of schema v4 (tests/data/v4, written by tests/events/golden_test.cpp)
// replayed through the credential models: old bytes must keep rebuilding the same tables.
#include <gtest/gtest.h>

#include "actors/system/door_credential_model.h"
#include "actors/system/provisioning_key_model.h"
#include "tests/events/golden_format.h"

namespace gh {
namespace {

std::vector<events::Envelope> v4_stream(std::string_view stream) {
  auto file = testing::read_file(std::string(GH_SOURCE_DIR) + "/tests/data/v4/events.bin");
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  if (!file.is_ok()) return {};
  auto records = testing::decode_records(*file);
  EXPECT_TRUE(records.is_ok()) << records.status().to_string();
  if (!records.is_ok()) return {};
  std::vector<events::Envelope> out;
  for (const auto& record : *records) {
    events::Envelope e;
    EXPECT_TRUE(e.ParseFromString(record));
    if (e.stream() == stream) out.push_back(e);
  }
  return out;
}

TEST(CredentialGoldenTest, V4DoorCredentialsReplay) {
  auto events = v4_stream(door_credentials::kStream);
  ASSERT_EQ(events.size(), 4u);
  auto state = door_credentials::replay(events);
  EXPECT_EQ(state.version, 4u);
  ASSERT_EQ(state.doors.size(), 1u);  // back-door was revoked
  const auto& front = state.doors.at("front-door");
  EXPECT_EQ(front.version, 3u);  // the rotation
  EXPECT_EQ(front.issued_at_ms, 1764144004000);
  EXPECT_EQ(front.issued_by.kind(), events::Cause::API_TOKEN);
  EXPECT_EQ(front.sha256.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(front.sha256[0]), 0x90);
  // Replaying a prefix shows the door provisioned by the key.
  auto before = door_credentials::replay({events.begin(), events.begin() + 2});
  EXPECT_EQ(before.doors.at("back-door").issued_by.kind(), events::Cause::PROVISIONING_KEY);
}

TEST(CredentialGoldenTest, V4ProvisioningKeysReplay) {
  auto events = v4_stream(provisioning_keys::kStream);
  ASSERT_EQ(events.size(), 2u);
  auto created = provisioning_keys::replay({events.front()});
  ASSERT_EQ(created.active.size(), 1u);
  EXPECT_EQ(created.active.at("factory-1").created_by.name(), "ops");
  auto state = provisioning_keys::replay(events);
  EXPECT_TRUE(state.active.empty());
  EXPECT_EQ(state.version, 2u);
}

}  // namespace
}  // namespace gh
