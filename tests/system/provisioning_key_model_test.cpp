// The provisioning keys model, given (events) / when (decide) / then (event or rejection),
// and the parser of a key's text.
#include "actors/system/provisioning_key_model.h"

#include <gtest/gtest.h>

namespace gh::provisioning_keys {
namespace {

const std::string kHashA(32, 'a'), kHashB(32, 'b');
const std::string kHex = "0123456789abcdef0123456789abcdef";

events::Envelope stored(events::Envelope e, uint64_t version) {
  e.set_stream(std::string(kStream));
  e.set_version(version);
  e.set_time_unix_ms(1000 * int64_t(version));
  e.mutable_cause()->set_kind(events::Cause::API_TOKEN);
  e.mutable_cause()->set_name("ops");
  return e;
}

TEST(ProvisioningKeyModelTest, CreateThenRevoke) {
  State state;
  auto created = create(state, "factory-1", kHashA);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  EXPECT_EQ(created->provisioning_key_created().name(), "factory-1");
  EXPECT_EQ(created->provisioning_key_created().secret_sha256(), kHashA);
  apply(state, stored(*created, 1));
  ASSERT_EQ(state.active.size(), 1u);
  EXPECT_EQ(state.active.at("factory-1").created_at_ms, 1000);
  EXPECT_EQ(state.active.at("factory-1").created_by.name(), "ops");
  EXPECT_TRUE(matches(state, "factory-1", kHashA));
  EXPECT_FALSE(matches(state, "factory-1", kHashB));
  EXPECT_FALSE(matches(state, "factory-2", kHashA));

  auto revoked = revoke(state, "factory-1");
  ASSERT_TRUE(revoked.is_ok());
  EXPECT_EQ(revoked->provisioning_key_revoked().name(), "factory-1");
  apply(state, stored(*revoked, 2));
  EXPECT_TRUE(state.active.empty());
  EXPECT_EQ(state.version, 2u);
  EXPECT_FALSE(matches(state, "factory-1", kHashA));
}

TEST(ProvisioningKeyModelTest, RejectionsWriteNothing) {
  State state;
  apply(state, stored(*create(state, "k1", kHashA), 1));
  EXPECT_EQ(create(state, "k1", kHashB).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(create(state, "bad/name", kHashB).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(create(state, std::string(65, 'k'), kHashB).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(create(state, "k2", "not32").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(revoke(state, "k2").status().code(), Code::kNotFound);
  EXPECT_EQ(state.version, 1u);
}

TEST(ProvisioningKeyModelTest, ParsesTheTextOfAKey) {
  auto parsed = parse_provisioning_secret("pk.factory-1." + kHex);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->name, "factory-1");
  EXPECT_EQ(parsed->secret, kHex);
  // Names may contain dots: the secret follows the last one.
  auto dotted = parse_provisioning_secret("pk.site.a.b." + kHex);
  ASSERT_TRUE(dotted.is_ok());
  EXPECT_EQ(dotted->name, "site.a.b");
  EXPECT_EQ(provisioning_secret_text("site.a.b", kHex), "pk.site.a.b." + kHex);
}

TEST(ProvisioningKeyModelTest, RefusesMalformedKeys) {
  for (const std::string& text : std::vector<std::string>{
           "", "pk.", "pk." + kHex, "pk.." + kHex, "xx.name." + kHex, "name." + kHex,
           "pk.name." + kHex.substr(1), "pk.name." + kHex + "0",
           "pk.name.0123456789ABCDEF0123456789abcdef", "pk.bad name." + kHex,
           "pk." + std::string(65, 'n') + "." + kHex, "PK.name." + kHex}) {
    EXPECT_EQ(parse_provisioning_secret(text).status().code(), Code::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace gh::provisioning_keys
