// IdentityProjection over the credential streams: door credentials and provisioning keys
// folded from their events become the broker's "door" and "key" identities (set on issue
// and rotation, removed on revocation).
#include "adapters/mqtt/identity_projection.h"

#include <gtest/gtest.h>

namespace gh::mqtt_adapter {
namespace {

events::Envelope stored(events::Envelope e, std::string_view stream, uint64_t version) {
  e.set_stream(std::string(stream));
  e.set_version(version);
  return e;
}

events::Envelope door_issued(const std::string& id, const std::string& hash) {
  events::Envelope e;
  e.mutable_door_credential_issued()->set_device_id(id);
  e.mutable_door_credential_issued()->set_secret_sha256(hash);
  return stored(e, door_credentials::kStream, 0);
}

TEST(IdentityProjectionTest, DoorCredentialsAndProvisioningKeysBecomeIdentities) {
  IdentityProjection projection;
  const std::string a(32, 'a'), b(32, 'b'), k(32, 'k');
  auto issued = projection.apply(door_issued("door1", a));
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].kind, "door");
  EXPECT_EQ(issued[0].name, "door1");
  EXPECT_EQ(issued[0].sha256, a);
  EXPECT_FALSE(issued[0].remove);
  auto rotated = projection.apply(door_issued("door1", b));
  ASSERT_EQ(rotated.size(), 1u);
  EXPECT_EQ(rotated[0].sha256, b);

  events::Envelope key;
  key.mutable_provisioning_key_created()->set_name("batch.1");
  key.mutable_provisioning_key_created()->set_secret_sha256(k);
  auto created = projection.apply(stored(key, provisioning_keys::kStream, 1));
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].kind, "key");
  EXPECT_EQ(created[0].name, "batch.1");

  auto all = projection.all(0);
  ASSERT_EQ(all.doors.size(), 1u);
  EXPECT_EQ(all.doors[0].sha256, b);
  ASSERT_EQ(all.keys.size(), 1u);
  EXPECT_EQ(all.keys[0].sha256, k);

  events::Envelope revoked;
  revoked.mutable_door_credential_revoked()->set_device_id("door1");
  auto gone = projection.apply(stored(revoked, door_credentials::kStream, 3));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_TRUE(gone[0].remove);
  EXPECT_EQ(gone[0].kind, "door");
  events::Envelope key_revoked;
  key_revoked.mutable_provisioning_key_revoked()->set_name("batch.1");
  auto key_gone = projection.apply(stored(key_revoked, provisioning_keys::kStream, 2));
  ASSERT_EQ(key_gone.size(), 1u);
  EXPECT_TRUE(key_gone[0].remove);
  EXPECT_TRUE(projection.all(0).doors.empty());
  EXPECT_TRUE(projection.all(0).keys.empty());
}

}  // namespace
}  // namespace gh::mqtt_adapter
