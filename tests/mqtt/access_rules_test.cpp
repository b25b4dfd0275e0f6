// The broker's topic rules, without a broker: what each identity may publish, subscribe to
// and receive (adapters/mqtt/broker_plugin/access_rules.h).
#include "adapters/mqtt/broker_plugin/access_rules.h"

#include <gtest/gtest.h>

#include "actors/system/secret.h"
#include "adapters/mqtt/broker_plugin/identity_table.h"
#include "adapters/mqtt/broker_plugin/publish_rate.h"

namespace gh::broker {
namespace {

Identity door(const std::string& id) { return {Kind::kDoor, id, ""}; }
Identity user(const std::string& name) { return {Kind::kUser, name, ""}; }
Identity token(const std::string& name) { return {Kind::kToken, name, ""}; }
Identity anonymous() { return {}; }

RuleOptions options(bool legacy = false) {
  RuleOptions o;
  o.legacy = legacy;
  o.legacy_topics = {"register", "login", "chatsend", "server"};
  return o;
}

bool write(const Identity& who, std::string_view topic, bool retain = false) {
  return allowed(options(), who, "c1", topic, Access::kWrite, retain);
}
bool read(const Identity& who, std::string_view topic) {
  return allowed(options(), who, "c1", topic, Access::kRead);
}
bool subscribe(const Identity& who, std::string_view filter) {
  return allowed(options(), who, "c1", filter, Access::kSubscribe);
}

TEST(AccessRulesTest, ADoorTouchesOnlyItsOwnTopics) {
  for (const char* word : {"hello", "availability", "state", "stranger"}) {
    EXPECT_TRUE(write(door("d1"), std::string("gatehouse/devices/d1/") + word)) << word;
    EXPECT_FALSE(write(door("d1"), std::string("gatehouse/devices/d2/") + word)) << word;
  }
  EXPECT_FALSE(write(door("d1"), "gatehouse/devices/d1/command"));
  EXPECT_FALSE(write(door("d1"), "gatehouse/devices/d1/status"));
  EXPECT_FALSE(write(door("d1"), "gatehouse/server/status"));
  EXPECT_FALSE(write(door("d1"), "gatehouse/alerts/stranger"));
  EXPECT_FALSE(write(door("d1"), "gatehouse/chat/login"));
  EXPECT_TRUE(read(door("d1"), "gatehouse/devices/d1/command"));
  EXPECT_FALSE(read(door("d1"), "gatehouse/devices/d2/command"));
  EXPECT_TRUE(subscribe(door("d1"), "gatehouse/devices/d1/command"));
  EXPECT_FALSE(subscribe(door("d1"), "gatehouse/devices/d1/+"));  // would match its own state
  EXPECT_FALSE(subscribe(door("d1"), "gatehouse/devices/+/command"));
  EXPECT_FALSE(subscribe(door("d1"), "#"));
}

TEST(AccessRulesTest, OnlyTheServerPublishesRetainedOrDollarTopics) {
  EXPECT_FALSE(write(door("d1"), "gatehouse/devices/d1/state", /*retain=*/true));
  EXPECT_FALSE(write(door("d1"), "gatehouse/devices/d1/availability", /*retain=*/true));
  EXPECT_FALSE(write(token("ops"), "$CONTROL/gatehouse/v1"));
  EXPECT_FALSE(read(token("ops"), "$SYS/broker/clients/connected"));
  EXPECT_FALSE(subscribe(token("ops"), "$SYS/#"));
  Identity server{Kind::kServer, "", ""};
  EXPECT_TRUE(write(server, "gatehouse/devices/d1/command"));
  EXPECT_TRUE(write(server, "gatehouse/devices/d1/status", true));
  EXPECT_TRUE(subscribe(server, "#"));
}

TEST(AccessRulesTest, ChatClientsReadOnlyTheirOwnInbox) {
  for (const auto& who : {user("alice"), anonymous(), token("ops")}) {
    EXPECT_TRUE(read(who, "gatehouse/inbox/c1/replies"));
    EXPECT_TRUE(subscribe(who, "gatehouse/inbox/c1/#"));
    EXPECT_FALSE(read(who, "gatehouse/inbox/c2/replies"));
    EXPECT_FALSE(subscribe(who, "gatehouse/inbox/+/replies"));
    EXPECT_FALSE(subscribe(who, "gatehouse/inbox/#"));
    EXPECT_FALSE(subscribe(who, "#"));
    EXPECT_FALSE(subscribe(who, "gatehouse/chat/+"));  // nobody reads others' requests
    EXPECT_FALSE(read(who, "gatehouse/chat/login"));
    EXPECT_FALSE(subscribe(who, "gatehouse/devices/d1/command"));
  }
  // A client id that is not a valid inbox id has no inbox (no wildcards smuggled in).
  EXPECT_FALSE(allowed(options(), user("alice"), "+", "gatehouse/inbox/+/#", Access::kSubscribe));
}

TEST(AccessRulesTest, AnonymousMayOnlyRegisterLogInAndReset) {
  for (const char* op : {"register", "login", "security_question", "reset_password"})
    EXPECT_TRUE(write(anonymous(), std::string("gatehouse/chat/") + op)) << op;
  for (const char* op : {"post", "logout", "join", "whoami"})
    EXPECT_FALSE(write(anonymous(), std::string("gatehouse/chat/") + op)) << op;
  EXPECT_TRUE(write(user("alice"), "gatehouse/chat/post"));
  EXPECT_FALSE(write(user("alice"), "gatehouse/actions/install"));
  EXPECT_TRUE(write(token("ops"), "gatehouse/actions/install"));
  EXPECT_FALSE(read(user("alice"), "gatehouse/actions/install"));  // the install's token
  EXPECT_FALSE(read(anonymous(), "gatehouse/rooms/lobby/events"));
  EXPECT_TRUE(read(user("alice"), "gatehouse/rooms/lobby/events"));
  EXPECT_TRUE(read(token("ops"), "gatehouse/devices/d1/status"));
  EXPECT_FALSE(read(user("alice"), "gatehouse/devices/d1/status"));
}

TEST(AccessRulesTest, AProvisionerMayOnlyAskForItsOwnCredential) {
  Identity p{Kind::kProvisioner, "d9", "batch1"};
  EXPECT_TRUE(write(p, "gatehouse/provision/batch1/d9"));
  EXPECT_FALSE(write(p, "gatehouse/provision/batch1/d8"));
  EXPECT_FALSE(write(p, "gatehouse/devices/d9/state"));
  EXPECT_TRUE(read(p, "gatehouse/provision/batch1/d9/reply"));
  EXPECT_FALSE(read(p, "gatehouse/provision/batch1/d8/reply"));
}

TEST(AccessRulesTest, LegacyTopicsOnlyWhenLegacyIsOn) {
  EXPECT_FALSE(write(anonymous(), "register"));
  EXPECT_FALSE(subscribe(anonymous(), "aliceregister"));
  auto legacy = options(/*legacy=*/true);
  auto w = [&](std::string_view t) { return allowed(legacy, anonymous(), "c", t, Access::kWrite); };
  auto r = [&](std::string_view t) { return allowed(legacy, anonymous(), "c", t, Access::kRead); };
  auto s = [&](std::string_view t) {
    return allowed(legacy, anonymous(), "c", t, Access::kSubscribe);
  };
  EXPECT_TRUE(w("register"));
  EXPECT_TRUE(w("server"));
  EXPECT_FALSE(w("aliceregister"));
  EXPECT_TRUE(s("aliceregister"));  // the seed's reply topics
  EXPECT_TRUE(r("aliceregister"));
  EXPECT_FALSE(s("login"));  // never the requests: they carry passwords
  EXPECT_FALSE(r("login"));
  EXPECT_FALSE(s("#"));
  EXPECT_FALSE(s("+"));
  EXPECT_FALSE(s("gatehouse/devices/d1/command"));
  EXPECT_FALSE(r("$SYS/broker/uptime"));
}

TEST(AccessRulesTest, FilterCoverage) {
  EXPECT_TRUE(filter_covers("a/#", "a"));
  EXPECT_TRUE(filter_covers("a/#", "a/b/+"));
  EXPECT_TRUE(filter_covers("a/+/c", "a/b/c"));
  EXPECT_TRUE(filter_covers("a/+/c", "a/+/c"));
  EXPECT_FALSE(filter_covers("a/b/c", "a/+/c"));
  EXPECT_FALSE(filter_covers("a/+", "a/#"));
  EXPECT_FALSE(filter_covers("a/+", "a/b/c"));
  EXPECT_FALSE(filter_covers("#", "$SYS/x"));
}

// ---- the identity table ----

IdentityTable synced_table() {
  ServerCredential server;
  server.sha256 = secrets::sha256_of("server-secret");
  IdentityTable table(server, Anonymous::kLocal);
  Applied applied;
  EXPECT_TRUE(table.apply(R"({"op":"begin"})", &applied).is_ok());
  EXPECT_TRUE(table
                  .apply(R"({"op":"stage","kind":"door","entries":[["d1",")" +
                             secrets::to_hex(secrets::sha256_of("door-secret")) + R"("]]})",
                         &applied)
                  .is_ok());
  EXPECT_TRUE(table
                  .apply(R"({"op":"stage","kind":"key","entries":[["batch1",")" +
                             secrets::to_hex(secrets::sha256_of("keysecret")) + R"("]]})",
                         &applied)
                  .is_ok());
  EXPECT_TRUE(table
                  .apply(R"({"op":"stage","kind":"session","entries":[["alice",")" +
                             secrets::to_hex(secrets::sha256_of("alice.s1")) + R"(",5000]]})",
                         &applied)
                  .is_ok());
  EXPECT_TRUE(table.apply(R"({"op":"commit"})", &applied).is_ok());
  EXPECT_TRUE(applied.changed);
  return table;
}

TEST(IdentityTableTest, NobodyButTheServerBeforeTheFirstSync) {
  ServerCredential server;
  server.sha256 = secrets::sha256_of("server-secret");
  IdentityTable table(server, Anonymous::kLocal);
  EXPECT_EQ(table.authenticate(nullptr, nullptr, "c1", 0).status().code(), Code::kUnavailable);
  auto me = table.authenticate("gatehouse", "server-secret", "gatehouse", 0);
  ASSERT_TRUE(me.is_ok());
  EXPECT_EQ(me->identity.kind, Kind::kServer);
}

TEST(IdentityTableTest, CredentialsDecideTheIdentity) {
  auto table = synced_table();
  EXPECT_EQ(table.authenticate("d1", "door-secret", "x", 0)->identity.kind, Kind::kDoor);
  EXPECT_FALSE(table.authenticate("d1", "wrong", "x", 0).is_ok());
  EXPECT_FALSE(table.authenticate("d2", "door-secret", "x", 0).is_ok());
  EXPECT_EQ(table.authenticate("alice", "alice.s1", "x", 1000)->identity.kind, Kind::kUser);
  EXPECT_FALSE(table.authenticate("alice", "alice.s1", "x", 6000).is_ok());  // expired
  auto p = table.authenticate("d7", "pk.batch1.keysecret", "x", 0);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->identity.kind, Kind::kProvisioner);
  EXPECT_EQ(p->identity.key, "batch1");
  // A provisioning key never opens a door that has a credential.
  EXPECT_FALSE(table.authenticate("d1", "pk.batch1.keysecret", "x", 0).is_ok());
  EXPECT_EQ(table.authenticate(nullptr, nullptr, "x", 0)->identity.kind, Kind::kAnonymous);
  // Anonymous only from this machine by default; credentials work from anywhere.
  EXPECT_FALSE(table.authenticate(nullptr, nullptr, "x", 0, /*local=*/false).is_ok());
  EXPECT_TRUE(table.authenticate("d1", "door-secret", "x", 0, /*local=*/false).is_ok());
  EXPECT_FALSE(table.authenticate(nullptr, "door-secret", "x", 0).is_ok());
}

TEST(IdentityTableTest, NobodyElseIsTheServer) {
  auto table = synced_table();
  EXPECT_FALSE(table.authenticate("gatehouse", "guess", "x", 0).is_ok());
  EXPECT_FALSE(table.authenticate(nullptr, nullptr, "gatehouse", 0).is_ok());
  EXPECT_FALSE(table.authenticate("d1", "door-secret", "gatehouse", 0).is_ok());
}

TEST(IdentityTableTest, RevocationEndsConnections) {
  auto table = synced_table();
  auto door = *table.authenticate("d1", "door-secret", "x", 0);
  EXPECT_TRUE(table.still_valid(door, 0));
  Applied applied;
  ASSERT_TRUE(table.apply(R"({"op":"remove","kind":"door","name":"d1"})", &applied).is_ok());
  EXPECT_TRUE(applied.changed);
  // Only d1's connections need a second look.
  EXPECT_EQ(applied.ends, Applied::Ends::kName);
  EXPECT_EQ(applied.name, "d1");
  EXPECT_FALSE(table.still_valid(door, 0));
  EXPECT_FALSE(table.authenticate("d1", "door-secret", "x", 0).is_ok());
  // A new session ends nobody's connection: no connection is looked at again.
  ASSERT_TRUE(table
                  .apply(R"({"op":"set","kind":"session","name":"alice","sha256":")" +
                             secrets::to_hex(secrets::sha256_of("alice.s2")) + "\"}",
                         &applied)
                  .is_ok());
  EXPECT_TRUE(applied.changed);
  EXPECT_EQ(applied.ends, Applied::Ends::kNone);
  EXPECT_TRUE(table.authenticate("alice", "alice.s2", "x", 0).is_ok());
}

TEST(IdentityTableTest, BadControlMessagesChangeNothing) {
  auto table = synced_table();
  Applied applied;
  EXPECT_FALSE(table.apply("not json", &applied).is_ok());
  EXPECT_FALSE(
      table.apply(R"({"op":"set","kind":"door","name":"d2","sha256":"zz"})", &applied).is_ok());
  EXPECT_FALSE(table
                   .apply(R"({"op":"set","kind":"alien","name":"d2","sha256":")" +
                              secrets::to_hex(secrets::sha256_of("x")) + "\"}",
                          &applied)
                   .is_ok());
  EXPECT_FALSE(table.apply(R"({"op":"commit"})", &applied).is_ok());  // no begin
  EXPECT_FALSE(applied.changed);
  EXPECT_EQ(table.size("door"), 1u);
}

TEST(AccessRulesTest, WithDiscoveryOnlyTokensCommandDoorsAndReadHomeAssistantsTopics) {
  RuleOptions off = options();
  RuleOptions on = options();
  on.discovery_prefix = "homeassistant";
  const std::string set = "gatehouse/devices/door1/set";
  EXPECT_FALSE(allowed(off, token("ha"), "c1", set, Access::kWrite)) << "discovery off";
  EXPECT_TRUE(allowed(on, token("ha"), "c1", set, Access::kWrite));
  EXPECT_FALSE(allowed(on, token("ha"), "c1", set, Access::kWrite, /*retain=*/true));
  for (const auto& who : {door("door1"), user("alice"), anonymous()}) {
    EXPECT_FALSE(allowed(on, who, "c1", set, Access::kWrite)) << kind_name(who.kind);
    EXPECT_FALSE(allowed(on, who, "c1", "homeassistant/#", Access::kSubscribe));
    EXPECT_FALSE(allowed(on, who, "c1", "homeassistant/status", Access::kWrite));
  }
  EXPECT_TRUE(allowed(on, token("ha"), "c1", "homeassistant/#", Access::kSubscribe));
  EXPECT_TRUE(allowed(on, token("ha"), "c1", "homeassistant/status", Access::kWrite));
  EXPECT_FALSE(allowed(on, token("ha"), "c1", "homeassistant/lock/x/config", Access::kWrite));
  EXPECT_TRUE(allowed(on, token("ha"), "c1", "gatehouse/devices/+/ha/#", Access::kSubscribe));
  EXPECT_FALSE(allowed(off, token("ha"), "c1", "homeassistant/#", Access::kSubscribe));
  // Nobody but the server writes under P/by: the name the broker attaches cannot be forged.
  for (const auto& who : {token("ha"), door("door1"), user("alice"), anonymous()}) {
    EXPECT_FALSE(allowed(on, who, "c1", "gatehouse/by/token/ha/devices/door1/set", Access::kWrite))
        << kind_name(who.kind);
  }
}

TEST(AccessRulesTest, ASetCommandIsDeliveredUnderTheNameOfWhoSentIt) {
  RuleOptions on = options();
  on.discovery_prefix = "homeassistant";
  const std::string set = "gatehouse/devices/door1/set";
  EXPECT_EQ(attributed_topic(on, token("ha"), set), "gatehouse/by/token/ha/devices/door1/set");
  EXPECT_EQ(attributed_topic(on, anonymous(), set), "gatehouse/by/anonymous/-/devices/door1/set");
  EXPECT_FALSE(attributed_topic(options(), token("ha"), set)) << "discovery off";
  EXPECT_FALSE(attributed_topic(on, token("ha"), "gatehouse/devices/door1/state"));
  EXPECT_FALSE(attributed_topic(on, token("ha"), "gatehouse/devices/a/b/set"));
  EXPECT_FALSE(attributed_topic(on, Identity{Kind::kServer, "", ""}, set));
  EXPECT_TRUE(is_attribution_topic(on, "gatehouse/by/token/ha/devices/door1/set"));
  EXPECT_TRUE(is_attribution_topic(on, "gatehouse/by"));
  EXPECT_FALSE(is_attribution_topic(on, "gatehouse/bystander"));
}

// The publish rate (adapters/mqtt/broker_plugin/publish_rate.h), with time as an argument.
TEST(PublishBucket, TakesTheBurstAtOnceThenRefillsAtTheRate) {
  const PublishLimit limit{10, 3};  // 10 a second, 3 at once
  PublishBucket bucket;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.take(limit, 1000)) << i;
  EXPECT_FALSE(bucket.take(limit, 1000));
  EXPECT_FALSE(bucket.take(limit, 1050));  // half a message refilled
  EXPECT_TRUE(bucket.take(limit, 1100));   // one
  EXPECT_FALSE(bucket.take(limit, 1100));
  EXPECT_TRUE(bucket.take(limit, 60000));  // a long pause refills up to the burst, no more
  EXPECT_TRUE(bucket.take(limit, 60000));
  EXPECT_TRUE(bucket.take(limit, 60000));
  EXPECT_FALSE(bucket.take(limit, 60000));
  EXPECT_FALSE(bucket.take(limit, 500));  // a clock going back refills nothing
}

TEST(PublishBucket, NoLimitTakesEverything) {
  PublishBucket bucket;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(bucket.take(PublishLimit{}, 0));
}

TEST(PublishBucket, OptionValuesAreWholeNumbersWithinTheirBound) {
  EXPECT_EQ(parse_count("0", 10), 0u);
  EXPECT_EQ(parse_count("2000", kMaxPublishRate), 2000u);
  EXPECT_EQ(parse_count("1000000", kMaxPublishRate), 1000000u);
  for (const char* bad :
       {"", "-1", "1.5", " 5", "5 ", "1e3", "fast", "1000001", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_count(bad, kMaxPublishRate).has_value()) << bad;
  }
}

}  // namespace
}  // namespace gh::broker
