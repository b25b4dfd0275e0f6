// gatehousectl device add/rotate/revoke/credentials and provisioning-key create/revoke/list
// through run(), against real stores in temporary directories: secrets are printed once and
// only their hashes reach the log.
#include <gtest/gtest.h>

#include <sstream>

#include "actors/device/device_model.h"
#include "actors/system/credential_registry.h"
#include "actors/system/secret.h"
#include "events/stream_name.h"
#include "tests/events/temp_store.h"
#include "tools/ctl/cli.h"

namespace gh::ctl {
namespace {

using gh::testing::TempStore;

struct Outcome {
  int code;
  std::string out, err;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CredentialVerbsTest : public ::testing::Test {
 protected:
  Outcome ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", store_->path()});
    std::ostringstream out, err;
    int code = run(args, out, err);
    return {code, out.str(), err.str()};
  }
  // The 32-hex secret an add or rotate printed, or "" after a failed assertion.
  static std::string secret_of(const Outcome& outcome) {
    EXPECT_EQ(outcome.code, kExitOk) << outcome.err;
    EXPECT_EQ(outcome.out.size(), 33u) << outcome.out;  // 32 hex + newline
    if (outcome.out.size() != 33) return "";
    const std::string secret = outcome.out.substr(0, 32);
    EXPECT_TRUE(secrets::is_secret_hex(secret)) << secret;
    EXPECT_TRUE(has(outcome.err, "shown only once")) << outcome.err;
    return secret;
  }
  // Runs `check` on a registry over the store opened read-only, then closes it again.
  template <class F>
  void with_registry(F check) {
    store_->open(OpenMode::kReadOnly);
    {
      auto registry = credentials::CredentialRegistry::open(store_->journal());
      ASSERT_TRUE(registry.is_ok()) << registry.status().to_string();
      check(**registry);
    }
    store_->close();
  }

  std::unique_ptr<TempStore> store_ = std::make_unique<TempStore>();
};

TEST_F(CredentialVerbsTest, DeviceAddRegistersTheDoorAndPrintsItsSecretOnce) {
  store_->close();  // the server is stopped
  const std::string secret =
      secret_of(ctl({"device", "add", "door1", "--name", "Front door", "--type", "lock"}));
  ASSERT_FALSE(secret.empty());
  auto again = ctl({"device", "add", "door1"});
  EXPECT_EQ(again.code, kExitFailed);
  EXPECT_TRUE(has(again.err, "already_exists")) << again.err;

  auto events = ctl({"events", "--all", "--json"});
  EXPECT_EQ(events.code, kExitOk);
  EXPECT_FALSE(has(events.out, secret));
  with_registry([&](const credentials::CredentialRegistry& registry) {
    EXPECT_TRUE(registry.door_secret_valid("door1", secret));
    EXPECT_EQ(registry.door("door1")->issued_by.kind(), events::Cause::OPERATOR);
    auto stored = store_->journal().read_stream(device_stream("door1"), 1);
    ASSERT_TRUE(stored.is_ok());
    auto device = device::replay("door1", *stored);
    EXPECT_TRUE(device.registered);
    EXPECT_TRUE(device.provisioned);
    EXPECT_EQ(device.name, "Front door");
    EXPECT_EQ(device.type, "lock");
    EXPECT_EQ(*store_->journal().stream_version(std::string(door_credentials::kStream)), 1u);
  });
}

TEST_F(CredentialVerbsTest, RotateRevokeAndListCredentials) {
  store_->close();
  auto unknown = ctl({"device", "rotate", "ghost"});
  EXPECT_EQ(unknown.code, kExitFailed);
  EXPECT_TRUE(has(unknown.err, "not_found")) << unknown.err;
  const std::string first = secret_of(ctl({"device", "add", "door1"}));
  const std::string second = secret_of(ctl({"device", "rotate", "door1", "--as", "olga"}));
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);

  auto list = ctl({"device", "credentials"});
  EXPECT_EQ(list.code, kExitOk);
  EXPECT_TRUE(list.out.starts_with("door1 issued=")) << list.out;
  EXPECT_TRUE(has(list.out, "by=operator:olga/tool")) << list.out;
  EXPECT_FALSE(has(list.out, second));
  auto state = ctl({"state", "system/door-credentials"});
  EXPECT_EQ(state.code, kExitOk) << state.err;
  EXPECT_TRUE(has(state.out, "door: door1 issued=")) << state.out;
  EXPECT_TRUE(has(state.out, "version: 2")) << state.out;
  with_registry([&](const credentials::CredentialRegistry& registry) {
    EXPECT_FALSE(registry.door_secret_valid("door1", first));
    EXPECT_TRUE(registry.door_secret_valid("door1", second));
  });

  EXPECT_EQ(ctl({"device", "revoke", "door1"}).code, kExitOk);
  EXPECT_EQ(ctl({"device", "credentials"}).out, "");
  auto twice = ctl({"device", "revoke", "door1"});
  EXPECT_EQ(twice.code, kExitFailed);
  EXPECT_TRUE(has(twice.err, "not_found")) << twice.err;
  EXPECT_EQ(ctl({"device", "revoke", "bad id"}).code, kExitUsage);
  EXPECT_EQ(ctl({"device", "add"}).code, kExitUsage);
  EXPECT_EQ(ctl({"device", "add", "d", "--colour", "red"}).code, kExitUsage);
  EXPECT_EQ(ctl({"device", "frob"}).code, kExitUsage);
}

TEST_F(CredentialVerbsTest, ProvisioningKeysCreateListRevoke) {
  store_->close();
  auto created = ctl({"provisioning-key", "create", "factory-1"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  ASSERT_TRUE(created.out.ends_with("\n"));
  auto parsed =
      provisioning_keys::parse_provisioning_secret(created.out.substr(0, created.out.size() - 1));
  ASSERT_TRUE(parsed.is_ok()) << created.out;
  EXPECT_EQ(parsed->name, "factory-1");
  EXPECT_TRUE(has(created.err, "shown only once"));
  auto duplicate = ctl({"provisioning-key", "create", "factory-1"});
  EXPECT_EQ(duplicate.code, kExitFailed);
  EXPECT_TRUE(has(duplicate.err, "already_exists")) << duplicate.err;

  auto list = ctl({"provisioning-key", "list"});
  EXPECT_TRUE(list.out.starts_with("factory-1 created=")) << list.out;
  EXPECT_FALSE(has(list.out, parsed->secret));
  EXPECT_FALSE(has(ctl({"events", "--all", "--json"}).out, parsed->secret));
  EXPECT_TRUE(has(ctl({"state", "system/provisioning-keys"}).out, "key: factory-1 created="));
  with_registry([&](const credentials::CredentialRegistry& registry) {
    EXPECT_TRUE(registry.provisioning_key_valid("factory-1", parsed->secret));
  });

  EXPECT_EQ(ctl({"provisioning-key", "revoke", "factory-1"}).code, kExitOk);
  EXPECT_EQ(ctl({"provisioning-key", "list"}).out, "");
  EXPECT_EQ(ctl({"provisioning-key", "revoke", "factory-1"}).code, kExitFailed);
  EXPECT_EQ(ctl({"provisioning-key", "create", "bad/name"}).code, kExitUsage);
  EXPECT_EQ(ctl({"provisioning-key", "list", "extra"}).code, kExitUsage);
}

TEST_F(CredentialVerbsTest, ReadVerbsWorkWhileTheServerRunsAndWriteVerbsSayToStopIt) {
  // store_ stays open read-write, as the server would hold it.
  EXPECT_EQ(ctl({"device", "credentials"}).code, kExitOk);
  EXPECT_EQ(ctl({"provisioning-key", "list"}).code, kExitOk);
  for (auto args : std::vector<std::vector<std::string>>{{"device", "add", "d1"},
                                                         {"device", "rotate", "d1"},
                                                         {"device", "revoke", "d1"},
                                                         {"provisioning-key", "create", "k"},
                                                         {"provisioning-key", "revoke", "k"}}) {
    auto refused = ctl(args);
    EXPECT_EQ(refused.code, kExitFailed) << args[1];
    EXPECT_TRUE(has(refused.err, "stop the server")) << refused.err;
  }
  EXPECT_EQ(store_->journal().last_position(), 0u);
}

TEST_F(CredentialVerbsTest, HelpAndUsage) {
  for (const char* verb : {"device", "provisioning-key"}) {
    auto help = ctl({verb, "--help"});
    EXPECT_EQ(help.code, kExitOk) << verb;
    EXPECT_TRUE(has(help.out, std::string("usage: gatehousectl ") + verb)) << help.out;
  }
  std::ostringstream out, err;
  EXPECT_EQ(run({"--help"}, out, err), kExitOk);
  EXPECT_TRUE(has(out.str(), "device add ID")) << out.str();
  EXPECT_TRUE(has(out.str(), "provisioning-key create NAME")) << out.str();
}

}  // namespace
}  // namespace gh::ctl
