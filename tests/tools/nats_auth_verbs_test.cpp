// gatehousectl nats-auth create and revoke through run(), in temporary directories: the
// operator's NATS setup (docs/cluster.md, "Device identity on NATS") with its secrets 0600,
// bad arguments refused with nothing written, and a revocation re-signed by the operator
// signing key (its push to a running NATS: integration_test, NatsNode.*).
// That nats-server accepts what it writes: integration_test, NatsNode.*.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"
#include "actors/system/nats_nkey.h"
#include "tools/ctl/cli.h"

namespace gh::ctl {
namespace {
namespace fs = std::filesystem;

struct Outcome {
  int code;
  std::string out, err;
};

Outcome ctl(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class NatsAuthVerbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gh-nats-auth-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(NatsAuthVerbsTest, CreateWritesTheSetupWithItsSecretsReadableByTheOwnerOnly) {
  const auto dir = root_ / "auth";
  auto created = ctl({"nats-auth", "create", dir.string(), "--prefix", "gatehouse"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  for (const char* secret : {"account.seed", "operator.seed", "system-account.seed", "tools.jwt",
                             "operator-signing.seed", "system-user.creds"})
    EXPECT_EQ(fs::status(dir / secret).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << secret;
  auto account = nkeys::parse_seed(slurp(dir / "account.seed").substr(0, 58));
  ASSERT_TRUE(account.is_ok());
  EXPECT_EQ(account->kind, nkeys::Kind::kAccount);
  const auto conf = slurp(dir / "nats-auth.conf");
  EXPECT_NE(conf.find("operator: \"" + fs::absolute(dir / "operator.jwt").string()),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find(account->public_text() + ": \""), std::string::npos) << conf;
  auto tools = nats_jwt::decode(slurp(dir / "tools.jwt"));
  ASSERT_TRUE(tools.is_ok());
  EXPECT_EQ((*tools)["iss"], account->public_text());
}

TEST_F(NatsAuthVerbsTest, BadArgumentsAreRefusedAndWriteNothing) {
  EXPECT_EQ(ctl({"nats-auth", "create", (root_ / "a").string()}).code, kExitFailed)
      << "no --prefix";
  EXPECT_EQ(ctl({"nats-auth", "create", (root_ / "b").string(), "--prefix", "a.b"}).code,
            kExitFailed);
  EXPECT_EQ(ctl({"nats-auth", "create", (root_ / "c").string(), "--prefix", "p", "--session-groups",
                 "48"})
                .code,
            kExitFailed);
  EXPECT_EQ(ctl({"nats-auth", "create"}).code, kExitUsage);
  EXPECT_EQ(ctl({"nats-auth", "frobnicate"}).code, kExitUsage);
  EXPECT_FALSE(fs::exists(root_ / "a"));
  EXPECT_FALSE(fs::exists(root_ / "b"));
  EXPECT_FALSE(fs::exists(root_ / "c"));
  // A directory holding anything is never written into.
  const auto used = root_ / "used";
  fs::create_directories(used);
  std::ofstream(used / "keep") << "x";
  EXPECT_EQ(ctl({"nats-auth", "create", used.string(), "--prefix", "p"}).code, kExitFailed);
  EXPECT_FALSE(fs::exists(used / "account.seed"));
}

TEST_F(NatsAuthVerbsTest, RevokeAddsTheDoorsUserToTheAccountSignedByTheOperator) {
  const auto dir = root_ / "auth";
  ASSERT_EQ(ctl({"nats-auth", "create", dir.string(), "--prefix", "gatehouse"}).code, kExitOk);
  auto revoked = ctl({"nats-auth", "revoke", dir.string(), "door1"});
  ASSERT_EQ(revoked.code, kExitOk) << revoked.err;
  auto account = nkeys::parse_seed(slurp(dir / "account.seed").substr(0, 58));
  ASSERT_TRUE(account.is_ok());
  const auto user = nats_identities::door_user_key(*account, "door1").public_text();
  EXPECT_NE(revoked.out.find(user), std::string::npos) << revoked.out;
  const auto conf = slurp(dir / "nats-auth.conf");
  const auto head = account->public_text() + ": \"";
  const auto at = conf.find(head) + head.size();
  auto claims = nats_jwt::decode(conf.substr(at, conf.find('"', at) - at));
  ASSERT_TRUE(claims.is_ok()) << claims.status().to_string();
  EXPECT_TRUE((*claims)["nats"]["revocations"].contains(user));
  auto signing = nkeys::parse_seed(slurp(dir / "operator-signing.seed").substr(0, 58));
  ASSERT_TRUE(signing.is_ok());
  EXPECT_EQ((*claims)["iss"], signing->public_text()) << "re-signed with the signing key";
  EXPECT_TRUE((*claims)["nats"]["mappings"].contains("gatehouse.devices.*.state"))
      << "the rest of the account is kept";
  EXPECT_EQ(ctl({"nats-auth", "revoke", dir.string(), "bad/id"}).code, kExitFailed);
  EXPECT_EQ(ctl({"nats-auth", "revoke", dir.string(), "door1", "--nats-url"}).code, kExitUsage);
  auto unreachable =
      ctl({"nats-auth", "revoke", dir.string(), "--nats-url", "nats://127.0.0.1:1", "door1"});
  EXPECT_EQ(unreachable.code, kExitFailed) << "the file is written, the push fails";
  EXPECT_NE(unreachable.err.find("cannot connect"), std::string::npos) << unreachable.err;
  EXPECT_EQ(ctl({"nats-auth", "revoke", (root_ / "nothing").string(), "door1"}).code, kExitFailed);
}

}  // namespace
}  // namespace gh::ctl
