// The whole server on PostgreSQL (store.backend=postgres, docs/cluster.md "Routing"): a
// throwaway PostgreSQL 15 (tests/events/temp_postgres.h), real private mosquittos, real
// clients. One node alone holds every shard and serves doors and chat across a restart; a bad
// or unreachable database stops it at start with a clear error; two nodes on one database
// split the shards, and each refuses (503 naming the owner) what the other serves, writing
// nothing; the system streams (API tokens, door credentials) are written through either node
// and followed by the other.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "actors/system/nats_connection.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"
#include "actors/system/nats_nkey.h"
#include "actors/system/nats_system_user.h"
#include "actors/user/user_model.h"
#include "events/cause.h"
#include "events/clock.h"
#include "events/pg_connection.h"
#include "events/pg_journal.h"
#include "events/rendezvous.h"
#include "events/shard.h"
#include "tests/events/temp_postgres.h"
#include "tests/integration/app_fixture.h"
#include "tests/integration/temp_nats.h"
#include "tools/ctl/nats_auth_admin.h"
#include "tools/ctl/token_admin.h"

namespace gh::server {
namespace {

using mqtt_test::Message;
using mqtt_test::TestClient;
using nlohmann::json;
namespace fs = std::filesystem;

// Events of `stream` in the database behind `conninfo`.
int64_t events_in_database(const std::string& conninfo, const std::string& stream) {
  auto db = PgConnection::open(conninfo);
  if (!db) return -1;
  auto rows = (*db)->exec("SELECT count(*) FROM gh_events WHERE stream = $1",
                          PgParams().text(stream), "counting events");
  return rows ? static_cast<int64_t>(rows->number(0, 0)) : -1;
}

// "port=N" of a TempPostgres connection string.
std::string port_of(const std::string& conninfo) {
  std::smatch match;
  return std::regex_search(conninfo, match, std::regex("port=([0-9]+)")) ? match[1].str() : "";
}

// What the real gatehousectl answered: its exit status and its stdout and stderr together.
struct CtlRun {
  int code = -1;
  std::string output;
};

// Runs the real gatehousectl with `args` (shell words, quoted by the caller), its stdin
// empty, its output kept in `dir`; `as` prefixes the command (e.g. setpriv to run it as
// another user).
CtlRun run_gatehousectl(const fs::path& dir, const std::string& args, const std::string& as = "") {
  const auto out = dir / "ctl-run.out";
  const auto command = as + std::string(GH_BINARY_DIR) + "/tools/gatehousectl " + args +
                       " < /dev/null > " + out.string() + " 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream file(out);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1,
          std::string((std::istreambuf_iterator<char>(file)), {})};
}

// gatehousectl with `args` exits with `code` and says `said`; what it printed, for more checks.
std::string expect_gatehousectl(const fs::path& dir, const std::string& args, int code,
                                const std::string& said) {
  auto run = run_gatehousectl(dir, args);
  EXPECT_EQ(run.code, code) << "gatehousectl " << args << "\n" << run.output;
  EXPECT_NE(run.output.find(said), std::string::npos) << "gatehousectl " << args << "\n"
                                                      << run.output;
  return run.output;
}

std::string shell_quoted(const std::string& word) { return "'" + word + "'"; }

// The last event of `stream` in the database behind `conninfo`, read with the journal.
Result<events::Envelope> last_event(const std::string& conninfo, const std::string& stream) {
  PgJournalOptions options;
  options.conninfo = conninfo;
  auto journal = PgJournal::open(options);
  if (!journal) return journal.status();
  auto events = (*journal)->read_stream(stream, 1);
  if (!events) return events.status();
  if (events->empty()) return not_found("no events in " + stream);
  return events->back();
}

// Shards move in groups of Config's default cluster.session-groups (events/rendezvous.h).
constexpr uint32_t kGroups = 32;

// A node of the cluster on the database `conninfo`: the integration tests' settings, and a
// short lease so that a second node gets its shards within seconds.
void configure_node(Config& c, const std::string& conninfo, const std::string& node) {
  c.store_backend = "postgres";
  c.store_postgres = conninfo;
  c.cluster_node = node;
  c.cluster_lease_ttl_ms = 3000;
  c.cluster_lease_margin_ms = 1000;
}

class PostgresNode : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    auto& pg = testing::TempPostgres::shared();
    ASSERT_TRUE(pg.running()) << pg.problem();
    conninfo_ = pg.fresh_database();
    configure = [this](Config& c) { configure_node(c, conninfo_, "gh-a"); };
  }
  // App::start's error for this node's configuration changed by `change`.
  std::string start_error(const std::function<void(Config&)>& change) {
    Config config;
    config.store_path = (dir_ / "store").string();
    config.run_dir = (dir_ / "run").string();
    config.http_port = 0;
    config.mqtt_port = 0;
    configure_node(config, conninfo_, "gh-a");
    change(config);
    auto app = App::start(config);
    EXPECT_FALSE(app.is_ok());
    return app.is_ok() ? std::string() : app.status().to_string();
  }
  std::string conninfo_;
};

TEST_F(PostgresNode, ServesADoorAndChatAloneAndKeepsThemAcrossARestart) {
  start();
  EXPECT_EQ(app_->info().store_backend, "postgres");
  EXPECT_EQ(app_->info().admin_socket, fs::absolute(dir_ / "run" / "admin.sock").string())
      << "on PostgreSQL the admin socket is in the node's run directory";
  EXPECT_EQ(metric("gatehouse_cluster_shards_held"), 1024) << "one node alone holds every shard";

  // A door registered over HTTP says hello over MQTT with its credential, is locked, and
  // confirms over MQTT.
  auto provisioned = call("POST", "/devices", bearer(kApiToken), {{"id", "door1"}});
  ASSERT_EQ(provisioned.status, 201) << provisioned.body.dump();
  const std::string secret = provisioned.body["credential"]["secret"];
  EXPECT_FALSE(provisioned.body["credential"].contains("password"))
      << "on a private broker the secret is the password: the answer is unchanged";
  auto door = std::make_unique<TestClient>(app_->info().broker_url, "door1-test");
  ASSERT_TRUE(mqtt_test::eventually([&] { return door->connect("door1", secret); }));
  ASSERT_TRUE(door->subscribe_granted("gatehouse/devices/door1/command"));
  ASSERT_TRUE(door->subscribe_granted("gatehouse/devices/door1/status"));
  ASSERT_TRUE(door->publish("gatehouse/devices/door1/hello", R"({"type":"lock"})"));
  ASSERT_TRUE(door->wait_for("gatehouse/devices/door1/status", [](const Message& m) {
    return json::parse(m.payload, nullptr, false).value("online", false);
  }));
  auto caller = std::async(std::launch::async, [&] {
    return call("POST", "/devices/door1/lock?wait=30", bearer(kApiToken));
  });
  auto command = door->wait_for("gatehouse/devices/door1/command",
                                [](const Message& m) { return m.payload == "LOCK"; });
  ASSERT_TRUE(command);
  ASSERT_TRUE(door->publish("gatehouse/devices/door1/state", "LOCKED"));
  auto locked = caller.get();
  ASSERT_EQ(locked.status, 200) << locked.body.dump();
  EXPECT_EQ(locked.body["command"]["status"], "confirmed") << locked.body.dump();

  // Chat: register, log in, post over MQTT.
  ASSERT_EQ(
      call("POST", "/api/users", {}, {{"name", "alice"}, {"password", "correct horse"}}).status,
      201);
  auto session =
      call("POST", "/api/sessions", {}, {{"name", "alice"}, {"password", "correct horse"}});
  ASSERT_EQ(session.status, 201) << session.body.dump();
  const std::string alice = session.body["token"];
  TestClient phone(app_->info().broker_url, "alice-phone");
  ASSERT_TRUE(mqtt_test::eventually([&] { return phone.connect("alice", alice); }));
  ASSERT_TRUE(phone.subscribe("gatehouse/inbox/alice-phone/#"));
  json post = {{"id", 1},
               {"reply_to", "gatehouse/inbox/alice-phone/replies"},
               {"token", alice},
               {"room", "lobby"},
               {"text", "stored in PostgreSQL"}};
  ASSERT_TRUE(phone.publish("gatehouse/chat/post", post.dump()));
  auto reply = phone.wait_for("gatehouse/inbox/alice-phone/replies");
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload, nullptr, false)["ok"], true) << reply->payload;
  EXPECT_GT(events_in_database(conninfo_, "device/door1"), 0);
  EXPECT_GT(events_in_database(conninfo_, "room/lobby"), 0);

  door.reset();
  restart();

  // Everything is in PostgreSQL: the door's state and history, the session, the message.
  auto device = call("GET", "/devices/door1", bearer(kApiToken));
  ASSERT_EQ(device.status, 200) << device.body.dump();
  EXPECT_EQ(device.body["device"]["reported"], "LOCKED");
  auto history = call("GET", "/devices/door1/history", bearer(kApiToken));
  ASSERT_EQ(history.body["history"].size(), 1u) << history.body.dump();
  EXPECT_EQ(history.body["history"][0]["status"], "confirmed");
  auto page = call("GET", "/api/rooms/lobby/messages", bearer(alice));
  ASSERT_EQ(page.status, 200) << page.body.dump();
  ASSERT_EQ(page.body["messages"].size(), 1u);
  EXPECT_EQ(page.body["messages"][0]["text"], "stored in PostgreSQL");
  EXPECT_EQ(metric("gatehouse_cluster_shards_held"), 1024)
      << "a clean stop handed the shards back: the restarted node takes them at once";

  // gatehousectl, pointed at this node's store.path, names the backend instead of guessing.
  stop();
  EXPECT_NE(gatehousectl("device credentials"), 0);
  std::ifstream ctl_out(dir_ / "ctl.out");
  std::string said((std::istreambuf_iterator<char>(ctl_out)), {});
  EXPECT_NE(said.find("store.backend=postgres"), std::string::npos) << said;
}

// gatehousectl on a PostgreSQL node (docs/cluster.md, "gatehousectl in cluster mode"): write
// verbs run inside the node through the admin socket in its run directory, found from its
// store.path or named with --socket; read verbs open PostgreSQL with --postgres; the verbs
// that need RocksDB's files say so and write nothing.
TEST_F(PostgresNode, GatehousectlWritesThroughTheNodesAdminSocketAndReadsPostgres) {
  start();
  const std::string store = "--store " + (dir_ / "store").string();
  const std::string socket = "--socket " + app_->info().admin_socket;
  const std::string postgres = "--postgres " + shell_quoted(conninfo_);
  ASSERT_EQ(
      call("POST", "/api/users", {}, {{"name", "alice"}, {"password", "correct horse"}}).status,
      201);

  // A user verb through the node, found from its store.path: recorded in user/alice as the
  // operator's, through the admin channel.
  expect_gatehousectl(dir_, store + " user grant alice operator --as ops-1", 0,
                      "role operator granted");
  auto grant = last_event(conninfo_, "user/alice");
  ASSERT_TRUE(grant.is_ok()) << grant.status().to_string();
  ASSERT_TRUE(grant->has_user_role_granted()) << grant->DebugString();
  EXPECT_EQ(grant->user_role_granted().role(), "operator");
  EXPECT_EQ(grant->cause().name(), "ops-1");
  EXPECT_EQ(grant->cause().channel(), "admin");
  EXPECT_GT(grant->lease_epoch(), 0u) << "written under this node's lease";

  // A door verb through --socket: registered by the node, its credential issued; the node
  // serves it at once and its secret lets the door onto the node's broker.
  auto added = run_gatehousectl(dir_, socket + " device add porch --name Porch");
  ASSERT_EQ(added.code, 0) << added.output;
  const std::string secret = added.output.substr(0, added.output.find('\n'));
  EXPECT_GT(events_in_database(conninfo_, "device/porch"), 0);
  auto porch = call("GET", "/devices/porch", bearer(kApiToken));
  ASSERT_EQ(porch.status, 200) << porch.body.dump();
  EXPECT_EQ(porch.body["device"]["name"], "Porch") << porch.body.dump();
  TestClient door(app_->info().broker_url, "porch-test");
  EXPECT_TRUE(mqtt_test::eventually([&] { return door.connect("porch", secret); }));

  // A system-stream verb with a file: the tool sends the script, the node installs it.
  const auto script = dir_ / "greet.lua";
  std::ofstream(script) << "function handle(msg)\n  return 'hello ' .. msg.args\nend\n";
  expect_gatehousectl(dir_, socket + " action install greet " + script.string(), 0,
                      "In effect now.");
  EXPECT_EQ(events_in_database(conninfo_, "system/actions"), 1);

  // Read verbs through the node, found from its store.path: no connection string needed.
  expect_gatehousectl(dir_, store + " users", 0, "alice v2 active roles=operator");
  expect_gatehousectl(dir_, store + " verify", 1, "embedded RocksDB store only");

  // Read verbs on PostgreSQL itself.
  expect_gatehousectl(dir_, postgres + " streams user/", 0, "user/alice 2");
  expect_gatehousectl(dir_, postgres + " users", 0, "alice v2 active roles=operator");
  expect_gatehousectl(dir_, postgres + " events device/porch", 0, "device/porch");
  expect_gatehousectl(dir_, postgres + " action list", 0, "greet r1 enabled");
  expect_gatehousectl(dir_, postgres + " device credentials", 0, "porch issued=");

  // What does not work on PostgreSQL says so and writes nothing.
  const auto alice_events = events_in_database(conninfo_, "user/alice");
  expect_gatehousectl(dir_, postgres + " verify", 1, "embedded RocksDB store only");
  expect_gatehousectl(dir_, postgres + " backup " + (dir_ / "copy").string(), 1, "pg_dump");
  EXPECT_FALSE(fs::exists(dir_ / "copy"));
  expect_gatehousectl(dir_, socket + " user erase alice --yes", 1,
                      "user erase works on the embedded RocksDB store only");
  expect_gatehousectl(dir_, postgres + " user revoke alice operator", 1, "reading only");
  EXPECT_EQ(events_in_database(conninfo_, "user/alice"), alice_events);
  // A database that holds no gatehouse store is not made one.
  auto& pg = testing::TempPostgres::shared();
  const std::string empty = pg.fresh_database();
  expect_gatehousectl(dir_, "--postgres " + shell_quoted(empty) + " streams", 1,
                      "no gatehouse store in PostgreSQL");
  auto db = PgConnection::open(empty);
  ASSERT_TRUE(db.is_ok());
  auto tables = (*db)->exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                            PgParams(), "counting tables");
  ASSERT_TRUE(tables.is_ok());
  EXPECT_EQ(tables->number(0, 0), 0u);
}

// docs/security.md: the admin socket serves only the user the node runs as (or root). Run as
// `nobody` with the directories opened to it, gatehousectl is refused by the socket's mode;
// with the socket's mode opened too, by the node's own check of the peer's uid.
TEST_F(PostgresNode, OnlyTheNodesOwnUserCanUseItsAdminSocket) {
  start();
  const auto socket = app_->info().admin_socket;
  struct stat st {};
  ASSERT_EQ(::stat(socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "only the owner may connect";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the tool as another user";
  for (auto dir = fs::path(socket).parent_path(); dir != dir.root_path(); dir = dir.parent_path())
    fs::permissions(dir, fs::perms::others_exec, fs::perm_options::add);
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  const auto tokens = events_in_database(conninfo_, "system/tokens");
  auto by_mode = run_gatehousectl(dir_, "--socket " + socket + " token create intruder", as_nobody);
  EXPECT_NE(by_mode.code, 0) << by_mode.output;
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  auto by_uid = run_gatehousectl(dir_, "--socket " + socket + " token create intruder", as_nobody);
  EXPECT_EQ(by_uid.code, 1) << by_uid.output;
  EXPECT_NE(by_uid.output.find("the admin socket takes only the user gatehouse runs as"),
            std::string::npos)
      << by_uid.output;
  EXPECT_EQ(events_in_database(conninfo_, "system/tokens"), tokens) << "nothing written";
  // The node's own user (root here) is served.
  auto own = run_gatehousectl(dir_, "--socket " + socket + " token create insider");
  EXPECT_EQ(own.code, 0) << own.output;
  EXPECT_EQ(events_in_database(conninfo_, "system/tokens"), tokens + 1);
}

TEST_F(PostgresNode, SeveralHostsWithTargetSessionAttrsReachTheWritableOne) {
  // The first host listens nowhere; libpq tries the next, as with a Patroni pair.
  const std::string dead = std::to_string(testing::TempPostgres::free_port());
  const std::string dbname = conninfo_.substr(conninfo_.find("dbname=") + 7);
  const std::string uri = "postgresql://gatehouse@127.0.0.1:" + dead +
                          ",127.0.0.1:" + port_of(conninfo_) + "/" + dbname +
                          "?target_session_attrs=read-write&connect_timeout=2";
  configure = [&](Config& c) { configure_node(c, uri, "gh-a"); };
  start();
  auto provisioned = call("POST", "/devices", bearer(kApiToken), {{"id", "door7"}});
  EXPECT_EQ(provisioned.status, 201) << provisioned.body.dump();
  EXPECT_GT(events_in_database(conninfo_, "device/door7"), 0);
}

TEST_F(PostgresNode, ABadOrUnreachableDatabaseIsAClearStartupError) {
  auto bad = start_error([](Config& c) { c.store_postgres = "host=127.0.0.1 port"; });
  EXPECT_NE(bad.find("store.postgres"), std::string::npos) << bad;
  EXPECT_NE(bad.find("not a libpq connection string"), std::string::npos) << bad;

  const std::string port = std::to_string(testing::TempPostgres::free_port());
  auto unreachable = start_error([&](Config& c) {
    c.store_postgres = "host=127.0.0.1 port=" + port + " dbname=gatehouse connect_timeout=2";
  });
  EXPECT_NE(unreachable.find("unavailable"), std::string::npos) << unreachable;
  EXPECT_NE(unreachable.find("opening PostgreSQL ("), std::string::npos) << unreachable;
  EXPECT_NE(unreachable.find(" port=" + port), std::string::npos) << unreachable;

  auto no_node = start_error([](Config& c) { c.cluster_node = ""; });
  EXPECT_NE(no_node.find("cluster.node"), std::string::npos) << no_node;
  auto rocksdb_with_pg = start_error([](Config& c) { c.store_backend = "rocksdb"; });
  EXPECT_NE(rocksdb_with_pg.find("need store.backend=postgres"), std::string::npos)
      << rocksdb_with_pg;

  // The password comes from a file only its owner may read, and from one place only.
  const auto file = dir_ / "pg-password";
  std::ofstream(file) << "s3cret\n";
  ::chmod(file.c_str(), 0644);
  auto readable = start_error([&](Config& c) { c.store_postgres_password_file = file.string(); });
  EXPECT_NE(readable.find("chmod 600"), std::string::npos) << readable;
  ::chmod(file.c_str(), 0600);
  auto twice = start_error([&](Config& c) {
    c.store_postgres = conninfo_ + " password=other";
    c.store_postgres_password_file = file.string();
  });
  EXPECT_NE(twice.find("keep it in the file only"), std::string::npos) << twice;
  auto missing =
      start_error([&](Config& c) { c.store_postgres_password_file = (dir_ / "none").string(); });
  EXPECT_NE(missing.find("does not exist"), std::string::npos) << missing;
  EXPECT_LE(events_in_database(conninfo_, "system/tokens"), 0) << "nothing was written";
}

// Two whole nodes on one database, each with its own private broker.
class TwoNodes : public ::testing::Test {
 protected:
  struct Node {
    std::unique_ptr<Config> config;
    std::unique_ptr<App> app;
    std::unique_ptr<httplib::Client> http;
  };
  void SetUp() override {
    dir_ = mqtt_test::temp_dir("two-nodes");
    auto& pg = testing::TempPostgres::shared();
    ASSERT_TRUE(pg.running()) << pg.problem();
    conninfo_ = pg.fresh_database();
  }
  void TearDown() override {
    for (auto* node : {&b_, &a_}) {
      node->http.reset();
      node->app.reset();
    }
    fs::remove_all(dir_);
  }
  void start(Node& node, const std::string& name) {
    node.config = std::make_unique<Config>();
    auto& c = *node.config;
    c.store_path = (dir_ / name / "store").string();
    c.run_dir = (dir_ / name / "run").string();
    c.http_port = 0;
    c.mqtt_port = 0;
    c.http_threads = 4;
    c.bootstrap_token = "off";
    c.api_tokens = {std::string("ops:") + api_token_hash()};
    c.argon2_ops = 1;
    c.argon2_mem_kib = 8;
    configure_node(c, conninfo_, name);
    if (also_configure_) also_configure_(c);
    auto app = App::start(c);
    ASSERT_TRUE(app.is_ok()) << app.status().to_string();
    node.app = std::move(*app);
    node.http = std::make_unique<httplib::Client>("127.0.0.1", node.app->info().http_port);
    node.http->set_read_timeout(60, 0);
  }
  static double shards_held(Node& node) {
    auto res = node.http->Get("/metrics");
    if (!res) return -1;
    const std::string name = "\ngatehouse_cluster_shards_held ";
    auto at = res->body.find(name);
    return at == std::string::npos ? -1
                                   : std::strtod(res->body.c_str() + at + name.size(), nullptr);
  }
  // The first id "<prefix><n>" whose shard rendezvous gives to `node` of gh-a and gh-b.
  static std::string id_served_by(const std::string& node, const std::string& prefix) {
    for (int n = 0;; ++n) {
      const std::string id = prefix + std::to_string(n);
      if (shards::desired_owner(shards::shard_of_entity(id), {"gh-a", "gh-b"}, kGroups) == node)
        return id;
    }
  }
  // Both nodes started, and the shards split between them by rendezvous.
  void start_both() {
    start(a_, "gh-a");
    start(b_, "gh-b");
    wait_for_split();
  }
  // A hands off what rendezvous gives B on its next round; B takes it on its own next round.
  void wait_for_split() {
    const double for_a = double(shards::desired_shards("gh-a", {"gh-a", "gh-b"}, kGroups).size());
    ASSERT_TRUE(mqtt_test::eventually(
        [&] { return shards_held(a_) == for_a && shards_held(b_) == 1024 - for_a; },
        std::chrono::seconds(60)))
        << shards_held(a_) << " + " << shards_held(b_);
  }
  // The HTTP status of a request that any operator token may make, served where it lands.
  static int status_with_token(Node& node, const std::string& secret) {
    auto res = node.http->Get("/devices", {{"Authorization", "Bearer " + secret}});
    return res ? res->status : -1;
  }
  static httplib::Result provision(Node& node, const std::string& id) {
    return node.http->Post("/devices", {{"Authorization", std::string("Bearer ") + kApiToken}},
                           json({{"id", id}}).dump(), "application/json");
  }

  fs::path dir_;
  std::string conninfo_;
  Node a_, b_;
  std::function<void(Config&)> also_configure_;  // after configure_node: a test's own settings
};

TEST_F(TwoNodes, SplitTheShardsAndNeitherWritesAnEntityOfTheOther) {
  start(a_, "gh-a");
  ASSERT_EQ(shards_held(a_), 1024);
  // A door of what will be B's half, registered and read while A alone holds everything:
  // its actor is live on A when A hands the shard to B.
  const std::string gate = id_served_by("gh-b", "gate");
  auto early = provision(a_, gate);
  ASSERT_TRUE(early);
  ASSERT_EQ(early->status, 201) << early->body;
  start(b_, "gh-b");
  ASSERT_NO_FATAL_FAILURE(wait_for_split());

  const std::string door_a = id_served_by("gh-a", "door");
  const std::string door_b = id_served_by("gh-b", "door");
  // B refuses A's door: 503, lease_lost, naming A and where A is; nothing is written.
  auto refused = provision(b_, door_a);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  auto body = json::parse(refused->body, nullptr, false);
  EXPECT_EQ(body["error"]["code"], "lease_lost") << refused->body;
  const std::string message = body["error"]["message"];
  EXPECT_NE(message.find("served by node gh-a at " + a_.app->info().http_url), std::string::npos)
      << message;
  EXPECT_EQ(events_in_database(conninfo_, "device/" + door_a), 0);
  // And A refuses B's door the same way, once A's routing knows B holds that shard: A
  // refreshes it after each of its own lease rounds, and B may have taken the shard after
  // A's last one (until then A answers 503 lease_lost "no node serves right now", without an
  // address). A refusal writes nothing, so asking again is harmless.
  auto names_b = [&](const httplib::Result& r) {
    return r && (r->status != 503 || r->body.find(b_.app->info().http_url) != std::string::npos);
  };
  auto refused_by_a = provision(a_, door_b);
  ASSERT_TRUE(mqtt_test::eventually([&] {
    if (!names_b(refused_by_a)) refused_by_a = provision(a_, door_b);
    return names_b(refused_by_a);
  }));
  ASSERT_TRUE(refused_by_a);
  EXPECT_EQ(refused_by_a->status, 503) << refused_by_a->body;
  EXPECT_NE(refused_by_a->body.find(b_.app->info().http_url), std::string::npos);
  EXPECT_EQ(events_in_database(conninfo_, "device/" + door_b), 0);
  // Each owner serves its own: A a door, B a user.
  auto on_a = provision(a_, door_a);
  ASSERT_TRUE(on_a);
  EXPECT_EQ(on_a->status, 201) << on_a->body;
  EXPECT_GT(events_in_database(conninfo_, "device/" + door_a), 0);
  const std::string user_b = id_served_by("gh-b", "user");
  const std::string user_body = json({{"name", user_b}, {"password", "correct horse"}}).dump();
  auto user_on_a = a_.http->Post("/api/users", user_body, "application/json");
  ASSERT_TRUE(user_on_a);
  EXPECT_EQ(user_on_a->status, 503) << user_on_a->body;
  EXPECT_EQ(events_in_database(conninfo_, "user/" + user_b), 0);
  auto user_on_b = b_.http->Post("/api/users", user_body, "application/json");
  ASSERT_TRUE(user_on_b);
  EXPECT_EQ(user_on_b->status, 201) << user_on_b->body;
  EXPECT_GT(events_in_database(conninfo_, "user/" + user_b), 0);

  // HTTP about A's door sent to B is forwarded to A and answered by it; A checks the caller.
  const httplib::Headers token{{"Authorization", std::string("Bearer ") + kApiToken}};
  auto read_via_b = b_.http->Get(("/devices/" + door_a).c_str(), token);
  ASSERT_TRUE(read_via_b);
  EXPECT_EQ(read_via_b->status, 200) << read_via_b->body;
  EXPECT_EQ(json::parse(read_via_b->body, nullptr, false)["device"]["id"], door_a)
      << read_via_b->body;
  auto anonymous = b_.http->Post(("/devices/" + door_a + "/lock").c_str(), "", "text/plain");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401) << "the owner checks who calls: " << anonymous->body;
  auto wrong = b_.http->Post(("/devices/" + door_a + "/lock").c_str(),
                             {{"Authorization", "Bearer not-a-token"}}, "", "text/plain");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401) << wrong->body;
  // The caller's Idempotency-Key goes along: the lock is recorded under it, and the same
  // request again, through either node, is that command, not a second one.
  httplib::Headers keyed = token;
  keyed.emplace("Idempotency-Key", "lock-via-b");
  auto lock_via_b =
      b_.http->Post(("/devices/" + door_a + "/lock").c_str(), keyed, "", "text/plain");
  ASSERT_TRUE(lock_via_b);
  EXPECT_TRUE(lock_via_b->status == 200 || lock_via_b->status == 202) << lock_via_b->body;
  EXPECT_EQ(json::parse(lock_via_b->body, nullptr, false)["command_id"], "lock-via-b")
      << lock_via_b->body;
  EXPECT_EQ(lock_via_b->get_header_value("Location"), "/devices/" + door_a + "/history")
      << "the owner's headers come back";
  for (auto* node : {b_.http.get(), a_.http.get()}) {
    auto again = node->Post(("/devices/" + door_a + "/lock").c_str(), keyed, "", "text/plain");
    ASSERT_TRUE(again);
    EXPECT_EQ(json::parse(again->body, nullptr, false)["command_id"], "lock-via-b") << again->body;
  }
  auto history = a_.http->Get(("/devices/" + door_a + "/history").c_str(), token);
  ASSERT_TRUE(history);
  auto entries = json::parse(history->body, nullptr, false)["history"];
  ASSERT_EQ(entries.size(), 1u) << history->body;
  EXPECT_EQ(entries[0]["requested_by"]["name"], "ops");
  EXPECT_EQ(entries[0]["command_id"], "lock-via-b");
  // A request already forwarded once is never forwarded again: refused where it lands.
  httplib::Headers once = token;
  once.emplace("X-Gatehouse-Forwarded-By", "gh-a");
  auto looped = b_.http->Get(("/devices/" + door_a).c_str(), once);
  ASSERT_TRUE(looped);
  EXPECT_EQ(looped->status, 503) << looped->body;

  // Over MQTT too: an anonymous client of B's broker registering a user in A's shard is
  // answered lease_lost in its inbox, and no user is written.
  const std::string user_a = id_served_by("gh-a", "user");
  TestClient client(b_.app->info().broker_url, "newcomer");
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.subscribe("gatehouse/inbox/newcomer/#"));
  json request = {{"id", 1},
                  {"reply_to", "gatehouse/inbox/newcomer/replies"},
                  {"name", user_a},
                  {"password", "correct horse"}};
  ASSERT_TRUE(client.publish("gatehouse/chat/register", request.dump()));
  auto reply = client.wait_for("gatehouse/inbox/newcomer/replies");
  ASSERT_TRUE(reply);
  auto answer = json::parse(reply->payload, nullptr, false);
  EXPECT_EQ(answer["ok"], false) << reply->payload;
  EXPECT_EQ(answer["error"]["code"], "lease_lost") << reply->payload;
  EXPECT_EQ(events_in_database(conninfo_, "user/" + user_a), 0);

  // B, now its owner, locks the gate A registered.
  auto gate_lock = b_.http->Post(("/devices/" + gate + "/lock").c_str(), token, "", "text/plain");
  ASSERT_TRUE(gate_lock);
  EXPECT_TRUE(gate_lock->status == 200 || gate_lock->status == 202) << gate_lock->body;

  // B leaves cleanly: A takes every shard back and serves B's door.
  b_.http.reset();
  b_.app.reset();
  ASSERT_TRUE(
      mqtt_test::eventually([&] { return shards_held(a_) == 1024; }, std::chrono::seconds(60)));
  auto door = provision(a_, id_served_by("gh-b", "porch"));
  ASSERT_TRUE(door);
  EXPECT_EQ(door->status, 201) << door->body;
  // A's actor of the gate was stopped when A handed its shard to B: A now answers with B's
  // lock, read from the log, not with what it remembered.
  auto gate_state = a_.http->Get(("/devices/" + gate).c_str(), token);
  ASSERT_TRUE(gate_state);
  EXPECT_EQ(json::parse(gate_state->body, nullptr, false)["device"]["desired"], "LOCKED")
      << gate_state->body;
}

// gatehousectl in cluster mode (docs/cluster.md): a verb about an entity is run by the node
// that serves it; through another node's admin socket it is refused naming the owner and
// its address, and nothing is written. Verbs on the system streams run on any node.
TEST_F(TwoNodes, AVerbAboutAnotherNodesEntityIsRefusedNamingItsOwner) {
  start_both();
  const std::string user_a = id_served_by("gh-a", "user");
  const std::string door_a = id_served_by("gh-a", "door");
  const std::string user_body = json({{"name", user_a}, {"password", "correct horse"}}).dump();
  auto registered = a_.http->Post("/api/users", user_body, "application/json");
  ASSERT_TRUE(registered);
  ASSERT_EQ(registered->status, 201) << registered->body;
  const std::string via_b = "--socket " + b_.app->info().admin_socket + " ";
  const std::string via_a = "--socket " + a_.app->info().admin_socket + " ";
  // events --follow through B, in the background: it must show what A writes too.
  const auto followed = dir_ / "follow.out", follower_pid = dir_ / "follow.pid";
  const auto follow = "(" + std::string(GH_BINARY_DIR) + "/tools/gatehousectl " + via_b +
                      "events --all --follow < /dev/null > " + followed.string() +
                      " 2>&1 & echo $! > " + follower_pid.string() + ")";
  ASSERT_EQ(std::system(follow.c_str()), 0);
  auto read_file = [](const fs::path& path) {
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)), {});
  };
  // Printed what the log held (the registration): from here on it is following.
  ASSERT_TRUE(mqtt_test::eventually([&] {
    return read_file(followed).find("user/" + user_a) != std::string::npos;
  })) << read_file(followed);
  const auto user_events = events_in_database(conninfo_, "user/" + user_a);
  const auto credentials = events_in_database(conninfo_, "system/door-credentials");

  // Through B: refused, naming A and its address; nothing written, not even a credential.
  const auto refused = expect_gatehousectl(dir_, via_b + "user grant " + user_a + " operator", 1,
                                           "served by node gh-a at " + a_.app->info().http_url);
  EXPECT_NE(refused.find("lease_lost"), std::string::npos) << refused;
  EXPECT_NE(refused.find("nothing written"), std::string::npos) << refused;
  expect_gatehousectl(dir_, via_b + "device add " + door_a, 1, "served by node gh-a");
  EXPECT_EQ(events_in_database(conninfo_, "user/" + user_a), user_events);
  EXPECT_EQ(events_in_database(conninfo_, "device/" + door_a), 0);
  EXPECT_EQ(events_in_database(conninfo_, "system/door-credentials"), credentials);

  // Through A, its owner: written.
  auto granted = run_gatehousectl(dir_, via_a + "user grant " + user_a + " operator");
  EXPECT_EQ(granted.code, 0) << granted.output;
  EXPECT_EQ(events_in_database(conninfo_, "user/" + user_a), user_events + 1);
  auto added = run_gatehousectl(dir_, via_a + "device add " + door_a);
  EXPECT_EQ(added.code, 0) << added.output;
  EXPECT_GT(events_in_database(conninfo_, "device/" + door_a), 0);
  // A system stream through either node: B rotates the credential of A's door.
  auto rotated = run_gatehousectl(dir_, via_b + "device rotate " + door_a);
  EXPECT_EQ(rotated.code, 0) << rotated.output;
  EXPECT_EQ(events_in_database(conninfo_, "system/door-credentials"), credentials + 2);

  // B's follower showed A's writes, read from the shared log.
  EXPECT_TRUE(mqtt_test::eventually([&] {
    const auto seen = read_file(followed);
    return seen.find("user_role_granted") != std::string::npos &&
           seen.find("device/" + door_a) != std::string::npos;
  })) << read_file(followed);
  const pid_t pid = std::atoi(read_file(follower_pid).c_str());
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGTERM);
}

// The system streams are written through either node, whoever holds their shard, and what
// each node keeps in memory of them follows the other's writes (docs/cluster.md, "The system
// streams" and "What each node keeps in memory").
TEST_F(TwoNodes, EitherNodeWritesTheSystemStreamsAndTheOtherFollowsThem) {
  start_both();
  // With these node names, system/door-credentials is in one of A's shards.
  ASSERT_EQ(shards::desired_owner(shards::shard_of_stream("system/door-credentials"),
                                  {"gh-a", "gh-b"}, kGroups),
            "gh-a");

  // A door of B's provisioned through B: registered by B and its credential issued by B,
  // whole. It connects to B's broker at once and to A's once A has followed the log.
  const std::string door_b = id_served_by("gh-b", "door");
  auto on_b = provision(b_, door_b);
  ASSERT_TRUE(on_b);
  ASSERT_EQ(on_b->status, 201) << on_b->body;
  const std::string secret_b = json::parse(on_b->body)["credential"]["secret"];
  EXPECT_EQ(events_in_database(conninfo_, "system/door-credentials"), 1);
  TestClient b_door_on_b(b_.app->info().broker_url, door_b + "-on-b");
  EXPECT_TRUE(b_door_on_b.connect(door_b, secret_b)) << "B's broker knew it before B answered";
  TestClient b_door_on_a(a_.app->info().broker_url, door_b + "-on-a");
  EXPECT_TRUE(mqtt_test::eventually([&] { return b_door_on_a.connect(door_b, secret_b); }));
  TestClient stranger(a_.app->info().broker_url, "stranger");
  EXPECT_FALSE(stranger.connect(door_b, "0123456789abcdef0123456789abcdef"));

  // A door of A's, provisioned through A: its credential lets it connect to B's broker.
  const std::string door_a = id_served_by("gh-a", "door");
  auto on_a = provision(a_, door_a);
  ASSERT_TRUE(on_a);
  ASSERT_EQ(on_a->status, 201) << on_a->body;
  const std::string secret_a = json::parse(on_a->body)["credential"]["secret"];
  TestClient a_door_on_b(b_.app->info().broker_url, door_a + "-on-b");
  EXPECT_TRUE(mqtt_test::eventually([&] { return a_door_on_b.connect(door_a, secret_a); }));
  EXPECT_EQ(events_in_database(conninfo_, "system/door-credentials"), 2);

  // An API token created by another writer of the log (gatehousectl's token functions on a
  // journal of the same database: no HTTP route creates tokens) works on both nodes, and
  // once revoked, on neither.
  PgJournalOptions options;
  options.conninfo = conninfo_;
  auto tool = PgJournal::open(options);
  ASSERT_TRUE(tool.is_ok()) << tool.status().to_string();
  const auto by = events::system_cause("test");
  EXPECT_EQ(status_with_token(a_, "not-yet-a-token"), 401);
  auto created = ctl::create_token(**tool, "deploy", by);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  const std::string deploy = created->secret;
  EXPECT_TRUE(mqtt_test::eventually([&] { return status_with_token(a_, deploy) == 200; }));
  EXPECT_TRUE(mqtt_test::eventually([&] { return status_with_token(b_, deploy) == 200; }));
  ASSERT_TRUE(ctl::revoke_token(**tool, "deploy", by).is_ok());
  EXPECT_TRUE(mqtt_test::eventually([&] { return status_with_token(a_, deploy) == 401; }));
  EXPECT_TRUE(mqtt_test::eventually([&] { return status_with_token(b_, deploy) == 401; }));
  EXPECT_EQ(status_with_token(b_, kApiToken), 200) << "the configured token is untouched";
}

// A chat session is checked by whichever node serves the room, not only by the user's owner:
// the owner asks the user's actor, any other node reads the user's durable state from the
// log (docs/cluster.md, "Chat across nodes"). What the owner acknowledged counts there at once.
TEST_F(TwoNodes, AChatSessionIsCheckedByAnyNodeAndEndsThereWhenTheOwnerEndsIt) {
  start_both();
  const std::string user = id_served_by("gh-a", "user");
  const std::string room = id_served_by("gh-b", "room");
  const std::string messages = "/api/rooms/" + room + "/messages";
  auto send = [](Node& node, const std::string& method, const std::string& path,
                 const std::string& token, const json& body = json::object()) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    const std::string text = body.dump();
    if (method == "GET") return node.http->Get(path.c_str(), headers);
    if (method == "DELETE")
      return node.http->Delete(path.c_str(), headers, text, "application/json");
    if (method == "PUT") return node.http->Put(path.c_str(), headers, text, "application/json");
    return node.http->Post(path.c_str(), headers, text, "application/json");
  };
  auto code_of = [](const httplib::Result& r) {
    return r ? json::parse(r->body, nullptr, false)["error"].value("code", "") : "no answer";
  };
  auto log_in = [&] {
    auto session =
        send(a_, "POST", "/api/sessions", "", {{"name", user}, {"password", "correct horse"}});
    EXPECT_TRUE(session && session->status == 201) << (session ? session->body : "no answer");
    return session ? json::parse(session->body, nullptr, false).value("token", "") : "";
  };

  // The user is A's, registered and logged in through A; the room is B's, created through B.
  auto registered =
      send(a_, "POST", "/api/users", "", {{"name", user}, {"password", "correct horse"}});
  ASSERT_TRUE(registered);
  ASSERT_EQ(registered->status, 201) << registered->body;
  const std::string token = log_in();
  ASSERT_FALSE(token.empty());
  auto created = send(b_, "POST", "/api/rooms", token, {{"name", room}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  // A forwards to B once its routing, read after each of A's lease rounds, names B as the
  // room's owner (until then: 503 lease_lost, "no node serves right now").
  ASSERT_TRUE(mqtt_test::eventually([&] {
    auto read = send(a_, "GET", "/api/rooms/" + room, token);
    return read && read->status == 200;
  }));

  // A post through B (the room's owner) and one through A (forwarded to B) are both written.
  auto via_b = send(b_, "POST", messages, token, {{"text", "through B"}});
  ASSERT_TRUE(via_b);
  EXPECT_EQ(via_b->status, 201) << via_b->body;
  auto via_a = send(a_, "POST", messages, token, {{"text", "through A"}});
  ASSERT_TRUE(via_a);
  EXPECT_EQ(via_a->status, 201) << via_a->body;
  auto history = send(a_, "GET", messages, token);
  ASSERT_TRUE(history);
  auto page = json::parse(history->body, nullptr, false)["messages"];
  ASSERT_EQ(page.size(), 2u) << history->body;
  for (const auto& m : page) EXPECT_EQ(m["author"], user) << history->body;
  auto me = send(b_, "GET", "/api/me", token);
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(json::parse(me->body, nullptr, false)["user"]["name"], user) << me->body;

  // Logged out through A: B refuses the session on the very next request, as A does.
  auto out = send(a_, "DELETE", "/api/sessions/current", token);
  ASSERT_TRUE(out);
  ASSERT_EQ(out->status, 200) << out->body;
  auto after_logout = send(b_, "POST", messages, token, {{"text", "after logout"}});
  ASSERT_TRUE(after_logout);
  EXPECT_EQ(after_logout->status, 401) << after_logout->body;
  EXPECT_EQ(code_of(after_logout), "unauthenticated") << after_logout->body;
  auto forwarded = send(a_, "POST", messages, token, {{"text", "after logout"}});
  ASSERT_TRUE(forwarded);
  EXPECT_EQ(forwarded->status, 401) << forwarded->body;

  // A password changed through A with one session ends the user's other sessions on B too.
  const std::string kept = log_in(), ended = log_in();
  ASSERT_EQ(send(b_, "POST", messages, ended, {{"text", "before the change"}})->status, 201);
  auto changed = send(a_, "POST", "/api/me/password", kept,
                      {{"old_password", "correct horse"}, {"new_password", "battery staple"}});
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->status, 200) << changed->body;
  EXPECT_EQ(code_of(send(b_, "POST", messages, ended, {{"text", "ended"}})), "unauthenticated");
  auto still = send(b_, "POST", messages, kept, {{"text", "kept"}});
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 201) << still->body;

  // B reads A's user from the log for a question too (asked of B itself: a request marked as
  // forwarded is answered where it lands).
  auto asked =
      send(a_, "PUT", "/api/me/security-question", kept,
           {{"question", "first pet?"}, {"answer", "rex"}, {"password", "battery staple"}});
  ASSERT_TRUE(asked);
  ASSERT_EQ(asked->status, 200) << asked->body;
  auto question = b_.http->Get(("/api/users/" + user + "/security-question").c_str(),
                               {{"X-Gatehouse-Forwarded-By", "test"}});
  ASSERT_TRUE(question);
  EXPECT_EQ(question->status, 200) << question->body;
  EXPECT_EQ(json::parse(question->body, nullptr, false)["question"], "first pet?")
      << question->body;

  // Erased (UserErased written to the log as gatehousectl's erase writes it, by another
  // writer of the database): B refuses the session that was live.
  PgJournalOptions options;
  options.conninfo = conninfo_;
  auto tool = PgJournal::open(options);
  ASSERT_TRUE(tool.is_ok()) << tool.status().to_string();
  auto history_of_user = (*tool)->read_stream(user::user_stream(user), 1);
  ASSERT_TRUE(history_of_user.is_ok()) << history_of_user.status().to_string();
  auto state = user::replay(user, *history_of_user);
  auto erased = user::decide(state, user::Erase{}, unix_now_ms());
  ASSERT_TRUE(erased.is_ok()) << erased.status().to_string();
  AppendRequest erase;
  erase.stream = user::user_stream(user);
  erase.expected_version = state.version;
  erase.command_id = "erase-" + user;
  erase.cause = events::system_cause("test");
  erase.events = std::move(*erased);
  ASSERT_TRUE((*tool)->append_and_wait(std::move(erase)).is_ok());
  auto after_erase = send(b_, "POST", messages, kept, {{"text", "erased"}});
  ASSERT_TRUE(after_erase);
  EXPECT_EQ(after_erase->status, 401) << after_erase->body;
  EXPECT_EQ(code_of(after_erase), "unauthenticated") << after_erase->body;
  EXPECT_EQ(send(b_, "GET", "/api/me", kept)->status, 401);
}

// Cluster mode on NATS (cluster.broker=nats, docs/cluster.md "Session groups"): a real
// nats-server with the subject mappings of scripts/cluster-up carries doors' messages to the
// session of their group, which the node holding the group's leases opens.
class NatsNode : public PostgresNode {
 protected:
  void SetUp() override {
    PostgresNode::SetUp();
    nats_ = std::make_unique<testing::TempNats>(kGroups);
    ASSERT_TRUE(nats_->running()) << nats_->problem();
    node_ = "gh-a";
    configure = [this](Config& c) {
      configure_node(c, conninfo_, node_);
      c.cluster_broker = "nats";
      c.broker_url = nats_->mqtt_url();
      c.cluster_nats_account_seed_file = nats_->account_seed_file();
    };
  }
  // Registers door `id` over HTTP; its MQTT password on NATS (the credential's "password").
  std::string register_door(const std::string& id) {
    auto provisioned = call("POST", "/devices", bearer(kApiToken), {{"id", id}});
    EXPECT_EQ(provisioned.status, 201) << provisioned.body.dump();
    return provisioned.body["credential"].value("password", "");
  }
  // Started, with the session of every group open (a node alone holds every lease).
  void start_holding_every_group() {
    start();
    ASSERT_TRUE(mqtt_test::eventually(
        [&] { return metric("gatehouse_cluster_session_groups_open") == kGroups; },
        std::chrono::seconds(60)))
        << metric("gatehouse_cluster_session_groups_open") << "\n"
        << nats_->log();
  }
  std::string reported(const std::string& id) {
    auto device = call("GET", "/devices/" + id, bearer(kApiToken));
    return device.body.is_object() ? device.body["device"].value("reported", "") : "";
  }
  std::unique_ptr<testing::TempNats> nats_;
  std::string node_;
};

TEST_F(NatsNode, ADoorOnNatsReachesTheOwnerOfItsGroupAndGetsItsCommands) {
  start_holding_every_group();
  EXPECT_EQ(app_->info().broker_url, nats_->mqtt_url()) << "no private mosquitto";
  const std::string password = register_door("door1");
  ASSERT_FALSE(password.empty()) << "on NATS the credential carries the door's NATS password";

  TestClient door(nats_->mqtt_url(), "door1-test");
  ASSERT_TRUE(door.connect("door1", password)) << nats_->log();
  ASSERT_TRUE(door.subscribe("gatehouse/devices/door1/command"));
  ASSERT_TRUE(door.subscribe("gatehouse/devices/door1/status"));
  // door1 is in shard 712, group 712 % 32 = 8: NATS maps its topic to shard-group/8/….
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/hello", R"({"type":"lock"})"));
  ASSERT_TRUE(door.wait_for("gatehouse/devices/door1/status", [](const Message& m) {
    return json::parse(m.payload, nullptr, false).value("online", false);
  })) << "the hello reached the node and its status came back through NATS";
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/state", "UNLOCKED"));
  EXPECT_TRUE(mqtt_test::eventually([&] { return reported("door1") == "UNLOCKED"; }));

  // A lock over HTTP: the command reaches the door through NATS, its report confirms it.
  auto caller = std::async(std::launch::async, [&] {
    return call("POST", "/devices/door1/lock?wait=30", bearer(kApiToken));
  });
  ASSERT_TRUE(door.wait_for("gatehouse/devices/door1/command",
                            [](const Message& m) { return m.payload == "LOCK"; }));
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/state", "LOCKED"));
  auto locked = caller.get();
  ASSERT_EQ(locked.status, 200) << locked.body.dump();
  EXPECT_EQ(locked.body["command"]["status"], "confirmed") << locked.body.dump();
  EXPECT_GT(metric("gatehouse_cluster_session_messages_total"), 2);
}

TEST_F(NatsNode, AReportSentWhileNobodyHoldsTheGroupIsRecordedByTheNextOwner) {
  start_holding_every_group();
  const std::string password = register_door("door1");
  stop();  // gh-a leaves: its group sessions closed, its leases released

  // Nobody holds door1's group: NATS keeps the report in the group's persistent session.
  TestClient door(nats_->mqtt_url(), "door1-test");
  ASSERT_TRUE(door.connect("door1", password));
  ASSERT_TRUE(door.publish("gatehouse/devices/door1/state", "LOCKED"));
  EXPECT_EQ(events_in_database(conninfo_, "device/door1"), 1) << "only its registration";

  node_ = "gh-b";  // another node takes the leases and opens the sessions
  start_holding_every_group();
  EXPECT_TRUE(mqtt_test::eventually([&] { return reported("door1") == "LOCKED"; }));
  EXPECT_GT(events_in_database(conninfo_, "device/door1"), 1) << "the report, written by gh-b";
}

// Device identity on NATS (docs/cluster.md): NATS checks each MQTT client's user JWT, signed
// by gatehouse with the account key, and the permissions in it. What NATS refuses is tried from
// other processes (mosquitto_pub, mosquitto_sub): a connection NATS closes can leave paho's
// one receive thread of this process (gatehouse's connections included) unable to connect
// again (seen with paho C 1.3 here: "TCP connect completion failure").
struct Cli {
  int status = -1;     // the exit status
  std::string output;  // stdout and stderr
};

// Runs mosquitto_pub or mosquitto_sub (`tool`) against `nats` as `user` with `password` (none
// when empty), with `args`, and returns what it did.
Cli mosquitto(const testing::TempNats& nats, const std::string& tool, const std::string& user,
              const std::string& password, const std::string& args) {
  const auto url = nats.mqtt_url();
  const auto out_file = fs::temp_directory_path() / ("gh-nats-cli-" + std::to_string(getpid()));
  std::string cmd = "timeout 20 " + tool + " -h 127.0.0.1 -p " + url.substr(url.rfind(':') + 1) +
                    " -V mqttv311 -q 1";
  if (!user.empty()) cmd += " -u '" + user + "' -P '" + password + "'";
  cmd += " " + args + " > " + out_file.string() + " 2>&1";
  Cli out;
  const int raw = std::system(cmd.c_str());
  out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  std::ifstream in(out_file);
  std::stringstream text;
  text << in.rdbuf();
  out.output = text.str();
  fs::remove(out_file);
  return out;
}

// True when NATS accepts `user`/`password` and acknowledges a QoS 1 publish to `topic`.
bool publishes(const testing::TempNats& nats, const std::string& user, const std::string& password,
               const std::string& topic, const std::string& payload = "LOCKED") {
  return mosquitto(nats, "mosquitto_pub", user, password,
                   "-i gh-test-pub -t '" + topic + "' -m '" + payload + "'")
             .status == 0;
}

// True when NATS grants `user` a subscription to `filter` (mosquitto_sub -E: subscribe, exit).
bool subscription_granted(const testing::TempNats& nats, const std::string& user,
                          const std::string& password, const std::string& filter) {
  auto run =
      mosquitto(nats, "mosquitto_sub", user, password, "-i gh-test-sub -E -t '" + filter + "'");
  return run.status == 0 && run.output.find("denied") == std::string::npos;
}

TEST_F(NatsNode, NatsRefusesClientsWithoutAValidJwtOfGatehousesAccount) {
  start_holding_every_group();
  const std::string password = register_door("door1");
  const std::string topic = "gatehouse/devices/door1/state";
  EXPECT_TRUE(publishes(*nats_, "door1", password, topic)) << nats_->log();
  EXPECT_FALSE(publishes(*nats_, "", "", topic)) << "no password";
  EXPECT_FALSE(publishes(*nats_, "door1", "not-a-jwt", topic)) << "a password that is no JWT";
  auto rotated = call("POST", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_EQ(rotated.status, 200) << rotated.body.dump();
  EXPECT_FALSE(publishes(*nats_, "door1", rotated.body["credential"].value("secret", ""), topic))
      << "the door's secret is not its password on NATS";
  // A door JWT of the right shape signed by another account key.
  const auto forger = nkeys::new_key(nkeys::Kind::kAccount);
  EXPECT_FALSE(publishes(
      *nats_, "door1", nats_identities::door_jwt(forger, "gatehouse", kGroups, "door1", 1700000000),
      topic));
  // door1's JWT with its claims edited (a wider permission), the signature kept.
  const auto dot = password.find('.');
  const auto dot2 = password.find('.', dot + 1);
  auto claims = nats_jwt::from_base64url(password.substr(dot + 1, dot2 - dot - 1));
  ASSERT_TRUE(claims.is_ok());
  auto widened = json::parse(*claims);
  widened["nats"]["pub"]["allow"].push_back(">");
  const std::string edited =
      password.substr(0, dot + 1) + nats_jwt::base64url(widened.dump()) + password.substr(dot2);
  EXPECT_FALSE(publishes(*nats_, "door1", edited, topic));
  // The rotation's password works, and so does the first one (revocation: docs/cluster.md).
  EXPECT_TRUE(publishes(*nats_, "door1", rotated.body["credential"].value("password", ""), topic));
  EXPECT_TRUE(publishes(*nats_, "door1", password, topic));
}

TEST_F(NatsNode, ADoorPublishesAndReadsOnlyItsOwnTopics) {
  start_holding_every_group();
  const std::string door1 = register_door("door1");
  const std::string front_door = register_door("front-door");  // group 7, door1's is 8
  const int64_t front_door_events = events_in_database(conninfo_, "device/front-door");

  // Reading another door's commands, or all doors', or the groups' subjects: refused.
  EXPECT_FALSE(
      subscription_granted(*nats_, "door1", door1, "gatehouse/devices/front-door/command"));
  EXPECT_FALSE(subscription_granted(*nats_, "door1", door1, "gatehouse/devices/+/command"));
  EXPECT_FALSE(subscription_granted(*nats_, "door1", door1, "shard-group/#"));
  EXPECT_TRUE(subscription_granted(*nats_, "door1", door1, "gatehouse/devices/door1/command"));
  // Publishing as another door: NATS drops it (a publish violation of door1's user), and
  // gatehouse records nothing for front-door, while door1's own report is recorded.
  EXPECT_TRUE(publishes(*nats_, "door1", door1, "gatehouse/devices/front-door/state", "UNLOCKED"));
  EXPECT_TRUE(publishes(*nats_, "door1", door1, "gatehouse/devices/door1/state", "UNLOCKED"));
  EXPECT_TRUE(mqtt_test::eventually([&] { return reported("door1") == "UNLOCKED"; }));
  EXPECT_TRUE(mqtt_test::eventually([&] {
    return nats_->log().find(
               "Publish Violation - User \"door1\", Subject "
               "\"shard-group.7.gatehouse.devices.front-door.state\"") != std::string::npos;
  })) << nats_->log();
  EXPECT_EQ(reported("front-door"), "UNKNOWN");
  EXPECT_EQ(events_in_database(conninfo_, "device/front-door"), front_door_events);
  // A command is something only gatehouse publishes.
  EXPECT_TRUE(publishes(*nats_, "door1", door1, "gatehouse/devices/front-door/command", "UNLOCK"));
  EXPECT_TRUE(mqtt_test::eventually([&] {
    return nats_->log().find(
               "Publish Violation - User \"door1\", Subject "
               "\"gatehouse.devices.front-door.command\"") != std::string::npos;
  }));

  // Its own command topic front-door may read (test 1 shows a door getting its commands).
  EXPECT_TRUE(subscription_granted(*nats_, "front-door", front_door,
                                   "gatehouse/devices/front-door/command"));
}

// gatehousectl nats-auth revoke --nats-url, for nodes that do not push revocations
// themselves: the revocation reaches the running NATS (NATS' full resolver does not change a
// running account on a reload).
TEST_F(NatsNode, ARevokedDoorIsRefusedOnceAnOperatorPushesTheRevocation) {
  start_holding_every_group();
  const std::string door1 = register_door("door1");
  const std::string front_door = register_door("front-door");
  ASSERT_TRUE(publishes(*nats_, "door1", door1, "gatehouse/devices/door1/state"));

  std::ostringstream said;
  ASSERT_TRUE(ctl::revoke_nats_doors(nats_->auth_dir(), {"door1"}, unix_now_ms() / 1000, said,
                                     nats_->client_url())
                  .is_ok())
      << said.str();
  EXPECT_NE(said.str().find("pushed to NATS"), std::string::npos) << said.str();
  EXPECT_FALSE(publishes(*nats_, "door1", door1, "gatehouse/devices/door1/state"))
      << "every JWT issued to door1 until then";
  EXPECT_TRUE(publishes(*nats_, "front-door", front_door, "gatehouse/devices/front-door/state"))
      << "only door1 is revoked";
  EXPECT_TRUE(publishes(*nats_, "tools", nats_->tools_jwt(), "gatehouse/devices/door1/command"));
}

// mqtt.broker lists every MQTT listener of a NATS cluster: when the NATS node that holds the
// node's connections is lost, its group sessions are opened again through another NATS node
// (at the next lease round), and a door's report still reaches the node.
TEST_F(NatsNode, WhenItsNatsNodeIsLostTheGroupSessionsMoveToAnotherNatsNode) {
  testing::TempNatsCluster cluster(kGroups);
  ASSERT_TRUE(cluster.running()) << cluster.problem();
  configure = [&](Config& c) {
    configure_node(c, conninfo_, node_);
    c.cluster_broker = "nats";
    c.broker_url = cluster.mqtt_urls(0);
    c.cluster_nats_account_seed_file = cluster.account_seed_file();
  };
  start();
  ASSERT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_cluster_session_groups_open") == kGroups; },
      std::chrono::seconds(60)));
  EXPECT_EQ(app_->info().broker_url, cluster.node(0).mqtt_url()) << "the first listed first";
  const std::string password = register_door("door1");

  // A door connected to the second NATS node reaches the node (whose sessions are on the
  // first). The sessions count as open once started: until group 8's has subscribed (JetStream
  // consumers on 3 replicas take seconds), a report reaches nobody, so it is sent again.
  // It connects again when refused, as a device does (in-process paho clients are sometimes
  // refused "TCP connect completion failure" while the node's sessions connect: "What remains
  // open" in docs/cluster.md).
  std::unique_ptr<TestClient> door;
  ASSERT_TRUE(mqtt_test::eventually(
      [&] {
        door = std::make_unique<TestClient>(cluster.node(1).mqtt_url(), "door1-test");
        return door->connect("door1", password);
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(mqtt_test::eventually(
      [&] {
        door->publish("gatehouse/devices/door1/state", "UNLOCKED");
        return mqtt_test::eventually([&] { return reported("door1") == "UNLOCKED"; },
                                     std::chrono::seconds(2));
      },
      std::chrono::seconds(60)))
      << cluster.node(0).log() << cluster.node(1).log();

  // The first NATS node dies. The door's next report, once NATS acknowledges it (when
  // JetStream has a leader again; the door connects again as a device does when its
  // connection is dropped meanwhile), reaches the node through a session opened on another
  // NATS node.
  cluster.node(0).kill_now();
  std::unique_ptr<TestClient> reporter;
  ASSERT_TRUE(mqtt_test::eventually(
      [&] {
        reporter = std::make_unique<TestClient>(cluster.node(1).mqtt_url(), "door1-test");
        return reporter->connect("door1", password) &&
               reporter->publish("gatehouse/devices/door1/state", "LOCKED");
      },
      std::chrono::seconds(90)))
      << cluster.node(1).log();
  EXPECT_TRUE(mqtt_test::eventually([&] { return reported("door1") == "LOCKED"; },
                                    std::chrono::seconds(60)))
      << reported("door1");
  // Every session connected again (the metric counts connected sessions; some of them may
  // still be reconnecting to the surviving NATS nodes when the report arrives).
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_cluster_session_groups_open") == kGroups; },
      std::chrono::seconds(60)))
      << metric("gatehouse_cluster_session_groups_open");
}

TEST_F(NatsNode, ADeviceIdWithADotIsRefusedAndWritesNothing) {
  start();
  auto refused = call("POST", "/devices", bearer(kApiToken), {{"id", "door.1"}});
  EXPECT_EQ(refused.status, 400) << refused.body.dump();
  EXPECT_NE(refused.body.dump().find("NATS"), std::string::npos) << refused.body.dump();
  EXPECT_EQ(events_in_database(conninfo_, "device/door.1"), 0);
  EXPECT_EQ(events_in_database(conninfo_, "system/door-credentials"), 0) << "no credential";
}

TEST_F(NatsNode, BadSettingsAreClearStartupErrors) {
  auto no_url = start_error([&](Config& c) {
    c.cluster_broker = "nats";
    c.broker_url.clear();
  });
  EXPECT_NE(no_url.find("cluster.broker=nats needs mqtt.broker"), std::string::npos) << no_url;
  auto groups = start_error([](Config& c) { c.cluster_session_groups = 48; });
  EXPECT_NE(groups.find("cluster.session-groups must be a power of two"), std::string::npos)
      << groups;
  auto broker = start_error([](Config& c) { c.cluster_broker = "kafka"; });
  EXPECT_NE(broker.find("cluster.broker: private|nats"), std::string::npos) << broker;
  auto embedded = start_error([](Config& c) {
    c.store_backend = "rocksdb";
    c.store_postgres.clear();
    c.cluster_broker = "nats";
  });
  EXPECT_NE(embedded.find("needs store.backend=postgres"), std::string::npos) << embedded;
  auto no_seed = start_error([&](Config& c) {
    c.cluster_broker = "nats";
    c.broker_url = nats_->mqtt_url();
  });
  EXPECT_NE(no_seed.find("needs cluster.nats-account-seed-file"), std::string::npos) << no_seed;
  const auto readable = (dir_ / "readable.seed").string();
  fs::copy_file(nats_->account_seed_file(), readable);
  fs::permissions(readable, fs::perms::others_read, fs::perm_options::add);
  auto on_nats = [&](const std::string& seed_file) {
    return [&, seed_file](Config& c) {
      c.cluster_broker = "nats";
      c.broker_url = nats_->mqtt_url();
      c.cluster_nats_account_seed_file = seed_file;
    };
  };
  auto open_seed = start_error(on_nats(readable));
  EXPECT_NE(open_seed.find("cluster.nats-account-seed-file"), std::string::npos) << open_seed;
  EXPECT_NE(open_seed.find("read"), std::string::npos) << open_seed;
  const auto operator_seed = nats_->auth_dir() + "/operator.seed";
  auto wrong_kind = start_error(on_nats(operator_seed));
  EXPECT_NE(wrong_kind.find("does not hold a NATS account seed"), std::string::npos) << wrong_kind;
  EXPECT_LE(events_in_database(conninfo_, "system/tokens"), 0) << "nothing written (no table)";
  auto several_private = start_error([](Config& c) {
    c.cluster_broker = "private";
    c.broker_url = "tcp://127.0.0.1:1883,tcp://127.0.0.1:1884";
  });
  EXPECT_NE(several_private.find("several URLs: only with cluster.broker=nats"), std::string::npos)
      << several_private;
  auto dotted = start_error([&](Config& c) {
    c.cluster_node = "gh.a";
    on_nats(nats_->account_seed_file())(c);
  });
  EXPECT_NE(dotted.find("cluster.node must not contain '.'"), std::string::npos) << dotted;
  auto bad_entry = start_error([](Config& c) {
    c.cluster_broker = "nats";
    c.broker_url = "tcp://127.0.0.1:1883,,tcp://127.0.0.1:1884";
  });
  EXPECT_NE(bad_entry.find("mqtt.broker: broker url list has an empty entry"), std::string::npos)
      << bad_entry;
}

// Chat requests on NATS (docs/cluster.md, "Chat requests on NATS"): a chat user logs in over
// HTTP, whose answer carries its NATS JWT ("mqtt_password"), connects to NATS with it and
// reads its own inbox PREFIX/inbox/{user}/....
constexpr std::chrono::seconds kAnswerWait{20};

// Publishes chat request `op` with `fields`, id `id` and reply_to PREFIX/inbox/{user}/replies
// on `client` (subscribed to that inbox), and returns the answer with that id (an empty object
// when none came within `wait`).
json ask(TestClient& client, const std::string& user, const std::string& op, json fields, int id,
         std::chrono::milliseconds wait = kAnswerWait) {
  const std::string reply_to = "gatehouse/inbox/" + user + "/replies";
  fields["id"] = id;
  fields["reply_to"] = reply_to;
  if (!client.publish("gatehouse/chat/" + op, fields.dump())) return json::object();
  auto answer = client.wait_for(
      reply_to,
      [id](const Message& m) {
        return json::parse(m.payload, nullptr, false).value("id", -1) == id;
      },
      wait);
  return answer ? json::parse(answer->payload, nullptr, false) : json::object();
}

// Connects `chat` to NATS as `user` with the NATS JWT its login returned, and subscribes
// the user's own inbox; false when NATS refuses either (chat.last_error() says why).
bool connect_to_own_inbox(TestClient& chat, const std::string& user, const std::string& jwt) {
  return chat.connect(user, jwt) && chat.subscribe("gatehouse/inbox/" + user + "/#");
}

// How many answers with id `id` reached `user`'s inbox on `client`.
size_t answers_with_id(TestClient& client, const std::string& user, int id) {
  size_t count = 0;
  for (const auto& m : client.messages_on("gatehouse/inbox/" + user + "/replies"))
    if (json::parse(m.payload, nullptr, false).value("id", -1) == id) ++count;
  return count;
}

// A user registered and logged in over HTTP through `http`: its session token and its NATS JWT.
struct ChatLogin {
  std::string token;
  std::string mqtt_password;
};
ChatLogin register_and_log_in(httplib::Client& http, const std::string& user) {
  const std::string body = json({{"name", user}, {"password", "correct horse"}}).dump();
  auto registered = http.Post("/api/users", body, "application/json");
  EXPECT_TRUE(registered && registered->status == 201)
      << (registered ? registered->body : "no answer");
  auto session = http.Post("/api/sessions", body, "application/json");
  EXPECT_TRUE(session && session->status == 201) << (session ? session->body : "no answer");
  if (!session) return {};
  auto answer = json::parse(session->body, nullptr, false);
  return {answer.value("token", ""), answer.value("mqtt_password", "")};
}

TEST_F(NatsNode, AChatClientWithItsJwtChatsOverNatsAndGetsOneAnswerPerRequest) {
  start_holding_every_group();
  const auto alice = register_and_log_in(*http_, "alice");
  ASSERT_FALSE(alice.mqtt_password.empty()) << "on NATS a login carries the user's NATS JWT";

  TestClient chat(nats_->mqtt_url(), "alice-chat");
  ASSERT_TRUE(connect_to_own_inbox(chat, "alice", alice.mqtt_password))
      << chat.last_error() << nats_->log();
  ASSERT_TRUE(chat.subscribe("gatehouse/rooms/+/events"));
  auto created = ask(chat, "alice", "create_room", {{"token", alice.token}, {"room", "r1"}}, 1);
  ASSERT_EQ(created.value("ok", false), true) << created.dump() << nats_->log();
  auto posted = ask(chat, "alice", "post",
                    {{"token", alice.token}, {"room", "r1"}, {"text", "over NATS"}}, 2);
  ASSERT_EQ(posted.value("ok", false), true) << posted.dump();
  EXPECT_EQ(posted["message"]["text"], "over NATS");
  EXPECT_TRUE(chat.wait_for("gatehouse/rooms/r1/events")) << "the room's events reach it";
  // Answered after the post: had the post been answered twice, both would be here by now.
  auto me = ask(chat, "alice", "whoami", {{"token", alice.token}}, 3);
  ASSERT_EQ(me.value("ok", false), true) << me.dump();
  EXPECT_EQ(me["user"]["name"], "alice");
  for (int id : {1, 2, 3}) EXPECT_EQ(answers_with_id(chat, "alice", id), 1u) << id;
  auto history = call("GET", "/api/rooms/r1/messages", bearer(alice.token));
  ASSERT_EQ(history.status, 200) << history.body.dump();
  ASSERT_EQ(history.body["messages"].size(), 1u) << history.body.dump();
}

TEST_F(NatsNode, AChatUserReadsOnlyItsOwnInboxAndOnlyChatUsersPublishChatRequests) {
  start_holding_every_group();
  const auto alice = register_and_log_in(*http_, "alice");
  const auto bob = register_and_log_in(*http_, "bob");
  ASSERT_FALSE(alice.mqtt_password.empty());
  const std::string door1 = register_door("door1");
  TestClient chat(nats_->mqtt_url(), "alice-chat");
  ASSERT_TRUE(connect_to_own_inbox(chat, "alice", alice.mqtt_password))
      << chat.last_error() << nats_->log();
  ASSERT_EQ(ask(chat, "alice", "create_room", {{"token", alice.token}, {"room", "r1"}}, 1)
                .value("ok", false),
            true);

  // What alice's JWT lets her read.
  const auto& pw = alice.mqtt_password;
  EXPECT_TRUE(subscription_granted(*nats_, "alice", pw, "gatehouse/inbox/alice/#"));
  EXPECT_TRUE(subscription_granted(*nats_, "alice", pw, "gatehouse/rooms/+/events"));
  EXPECT_FALSE(subscription_granted(*nats_, "alice", pw, "gatehouse/inbox/bob/#"));
  EXPECT_FALSE(subscription_granted(*nats_, "alice", pw, "gatehouse/inbox/+/replies"));
  EXPECT_FALSE(subscription_granted(*nats_, "alice", pw, "gatehouse/chat/+"));
  EXPECT_FALSE(subscription_granted(*nats_, "alice", pw, "gatehouse/devices/+/command"));
  EXPECT_FALSE(subscription_granted(*nats_, "alice", pw, "#"));

  // Publishing where only nodes may (a request handed on between nodes), or as a door: dropped.
  const std::string request = json({{"id", 9},
                                    {"reply_to", "gatehouse/inbox/alice/replies"},
                                    {"token", alice.token},
                                    {"room", "r1"},
                                    {"text", "bypass"}})
                                  .dump();
  EXPECT_TRUE(publishes(*nats_, "alice", pw, "gatehouse/nodes/gh-a/chat/post", request));
  EXPECT_TRUE(publishes(*nats_, "alice", pw, "gatehouse/devices/door1/state", "UNLOCKED"));
  // A door's JWT: no chat request.
  EXPECT_TRUE(publishes(*nats_, "door1", door1, "gatehouse/chat/post", request));
  EXPECT_TRUE(mqtt_test::eventually([&] {
    const auto log = nats_->log();
    return log.find("Subject \"gatehouse.nodes.gh-a.chat.post\"") != std::string::npos &&
           log.find("Subject \"shard-group.8.gatehouse.devices.door1.state\"") !=
               std::string::npos &&
           log.find("Publish Violation - User \"door1\", Subject \"gatehouse.chat.post\"") !=
               std::string::npos;
  })) << nats_->log();
  EXPECT_EQ(reported("door1"), "UNKNOWN");
  auto history = ask(chat, "alice", "history", {{"token", alice.token}, {"room", "r1"}}, 10);
  ASSERT_EQ(history.value("ok", false), true) << history.dump();
  EXPECT_TRUE(history["messages"].empty()) << history.dump();
  EXPECT_EQ(answers_with_id(chat, "alice", 9), 0u);

  // No JWT, or one that expired with its session: refused.
  EXPECT_FALSE(publishes(*nats_, "alice", "", "gatehouse/chat/whoami", "{}"));
  std::ifstream seed_file(nats_->account_seed_file());
  std::string seed((std::istreambuf_iterator<char>(seed_file)), std::istreambuf_iterator<char>());
  auto account = nkeys::parse_seed(seed.substr(0, seed.find_first_of("\r\n")));
  ASSERT_TRUE(account.is_ok()) << account.status().to_string();
  const int64_t now = unix_now_ms() / 1000;
  EXPECT_FALSE(
      publishes(*nats_, "bob",
                nats_identities::chat_user_jwt(*account, "gatehouse", "bob", now - 60, now - 30),
                "gatehouse/chat/whoami", "{}"))
      << "expired";
  EXPECT_TRUE(publishes(*nats_, "bob", bob.mqtt_password, "gatehouse/chat/whoami", "{}"));
}

TEST_F(NatsNode, AChatRequestSentWhileNobodyHoldsItsGroupIsAnsweredByTheNextHolder) {
  start_holding_every_group();
  const auto alice = register_and_log_in(*http_, "alice");
  TestClient chat(nats_->mqtt_url(), "alice-chat");
  ASSERT_TRUE(connect_to_own_inbox(chat, "alice", alice.mqtt_password))
      << chat.last_error() << nats_->log();
  ASSERT_EQ(ask(chat, "alice", "create_room", {{"token", alice.token}, {"room", "r1"}}, 1)
                .value("ok", false),
            true);
  const int64_t created_events = events_in_database(conninfo_, "room/r1");
  stop();  // gh-a leaves: group 0's session closed, its leases released

  // Nobody serves chat requests now: NATS keeps this one in group 0's session.
  json post = {{"id", 2},
               {"reply_to", "gatehouse/inbox/alice/replies"},
               {"token", alice.token},
               {"room", "r1"},
               {"text", "while nobody served"}};
  ASSERT_TRUE(chat.publish("gatehouse/chat/post", post.dump()));
  EXPECT_EQ(events_in_database(conninfo_, "room/r1"), created_events) << "only its creation";

  node_ = "gh-b";  // the next holder of group 0 answers it
  start_holding_every_group();
  auto answer = chat.wait_for(
      "gatehouse/inbox/alice/replies",
      [](const Message& m) { return json::parse(m.payload, nullptr, false).value("id", -1) == 2; },
      std::chrono::seconds(60));
  ASSERT_TRUE(answer) << nats_->log();
  EXPECT_EQ(json::parse(answer->payload, nullptr, false).value("ok", false), true)
      << answer->payload;
  auto me = ask(chat, "alice", "whoami", {{"token", alice.token}}, 3);
  ASSERT_EQ(me.value("ok", false), true) << me.dump();
  EXPECT_EQ(answers_with_id(chat, "alice", 2), 1u);
  EXPECT_EQ(events_in_database(conninfo_, "room/r1"), created_events + 1)
      << "the post, written by gh-b";
}

// Two nodes on one PostgreSQL and one NATS: the holder of group 0 receives every chat request
// and hands those about the other node's rooms and users to it, which answers.
class TwoNatsNodes : public TwoNodes {
 protected:
  void SetUp() override {
    TwoNodes::SetUp();
    nats_ = std::make_unique<testing::TempNats>(kGroups);
    ASSERT_TRUE(nats_->running()) << nats_->problem();
    also_configure_ = [this](Config& c) {
      c.cluster_broker = "nats";
      c.broker_url = nats_->mqtt_url();
      c.cluster_nats_account_seed_file = nats_->account_seed_file();
    };
  }
  void TearDown() override {
    TwoNodes::TearDown();
    nats_.reset();
  }
  static double metric_of(Node& node, const std::string& name) {
    auto res = node.http->Get("/metrics");
    if (!res) return -1;
    const std::string line = "\n" + name + " ";
    auto at = res->body.find(line);
    return at == std::string::npos ? -1
                                   : std::strtod(res->body.c_str() + at + line.size(), nullptr);
  }
  std::unique_ptr<testing::TempNats> nats_;
};

TEST_F(TwoNatsNodes, AChatRequestAboutTheOtherNodesRoomOrUserIsAnsweredOnceByIt) {
  start_both();
  const std::string open = "gatehouse_cluster_session_groups_open";
  ASSERT_TRUE(
      mqtt_test::eventually([&] { return metric_of(a_, open) + metric_of(b_, open) == kGroups; },
                            std::chrono::seconds(60)));
  // Group 0's holder receives the chat requests; the user and the room are the other's.
  const std::string holder = shards::desired_owner(0, {"gh-a", "gh-b"}, kGroups);
  const std::string owner = holder == "gh-a" ? "gh-b" : "gh-a";
  Node& requests = holder == "gh-a" ? a_ : b_;
  Node& served = holder == "gh-a" ? b_ : a_;
  const std::string user = id_served_by(owner, "user");
  const std::string room = id_served_by(owner, "room");
  const auto login = register_and_log_in(*served.http, user);
  ASSERT_FALSE(login.mqtt_password.empty());
  // A paho client of this process may fail to connect for a while after NATS closed other
  // connections of it (docs/cluster.md, "In-process paho clients after refused
  // connections"): a new client is tried until one connects.
  std::unique_ptr<TestClient> client;
  ASSERT_TRUE(mqtt_test::eventually(
      [&] {
        client = std::make_unique<TestClient>(nats_->mqtt_url(), user + "-chat");
        return client->connect(user, login.mqtt_password);
      },
      std::chrono::seconds(60)))
      << client->last_error();
  TestClient& chat = *client;
  ASSERT_TRUE(chat.subscribe("gatehouse/inbox/" + user + "/#"));

  // The room is created by its owner, through the holder, and a post into it is written once.
  auto created = ask(chat, user, "create_room", {{"token", login.token}, {"room", room}}, 1);
  ASSERT_EQ(created.value("ok", false), true) << created.dump();
  auto posted = ask(chat, user, "post",
                    {{"token", login.token}, {"room", room}, {"text", "to the other node"}}, 2);
  ASSERT_EQ(posted.value("ok", false), true) << posted.dump();
  auto history = served.http->Get(("/api/rooms/" + room + "/messages").c_str(),
                                  {{"Authorization", "Bearer " + login.token}});
  ASSERT_TRUE(history);
  auto page = json::parse(history->body, nullptr, false)["messages"];
  ASSERT_EQ(page.size(), 1u) << history->body;
  EXPECT_EQ(page[0]["text"], "to the other node");
  EXPECT_EQ(page[0]["author"], user);
  EXPECT_EQ(metric_of(requests, "gatehouse_mqtt_chat_forwarded_total"), 2);
  EXPECT_EQ(metric_of(served, "gatehouse_mqtt_chat_forwarded_total"), 0);

  // A logout (the session's own user, the other's) is handed on too; the session then ends.
  auto out = ask(chat, user, "logout", {{"token", login.token}}, 3);
  ASSERT_EQ(out.value("ok", false), true) << out.dump();
  EXPECT_EQ(metric_of(requests, "gatehouse_mqtt_chat_forwarded_total"), 3);
  auto refused = ask(chat, user, "post",
                     {{"token", login.token}, {"room", room}, {"text", "after logout"}}, 4);
  EXPECT_EQ(refused["error"].value("code", ""), "unauthenticated") << refused.dump();
  // Each answered once: the last answer came after every earlier one was sent.
  for (int id : {1, 2, 3, 4}) EXPECT_EQ(answers_with_id(chat, user, id), 1u) << id;
  EXPECT_EQ(metric_of(requests, "gatehouse_mqtt_chat_replies_total{result=\"ok\"}") +
                metric_of(served, "gatehouse_mqtt_chat_replies_total{result=\"ok\"}"),
            3);
}

// Revocation on NATS (docs/cluster.md): a node given cluster.nats-url and its two files pushes
// gatehouse's account JWT with a door's revocation, through NATS' client protocol as the
// system user, once the revocation, rotation or removal is durable: NATS refuses the door's
// earlier JWTs and closes its connections with no operator step.
class NatsRevokingNode : public NatsNode {
 protected:
  void SetUp() override {
    NatsNode::SetUp();
    configure = [this](Config& c) {
      configure_node(c, conninfo_, node_);
      c.cluster_broker = "nats";
      c.broker_url = nats_->mqtt_url();
      c.cluster_nats_account_seed_file = nats_->account_seed_file();
      c.cluster_nats_url = nats_url_.empty() ? nats_->client_url() : nats_url_;
      c.cluster_nats_operator_signing_seed_file = nats_->signing_seed_file();
      c.cluster_nats_system_creds_file = nats_->system_creds_file();
    };
  }
  // Whether NATS takes door `id`'s `password` now (a QoS 1 publish to its own state topic).
  bool accepted(const std::string& id, const std::string& password) {
    return publishes(*nats_, id, password, "gatehouse/devices/" + id + "/state");
  }
  // True once NATS refuses `password` of `id`: polled, at most 60 s.
  bool refused_soon(const std::string& id, const std::string& password) {
    return mqtt_test::eventually([&] { return !accepted(id, password); }, std::chrono::seconds(60));
  }
  std::string nats_url_;  // empty: the TempNats' client port
};

// A mosquitto_sub of door `id` kept connected (debug output in a file) until NATS ends it.
class LiveSubscriber {
 public:
  LiveSubscriber(const testing::TempNats& nats, const std::string& id, const std::string& password)
      : out_(fs::temp_directory_path() / ("gh-live-sub-" + std::to_string(getpid()) + "-" + id)) {
    const auto url = nats.mqtt_url();
    const std::string port = url.substr(url.rfind(':') + 1);
    const std::string topic = "gatehouse/devices/" + id + "/command";
    const std::string client = "gh-live-" + id;
    pid_ = fork();
    if (pid_ == 0) {
      FILE* file = freopen(out_.c_str(), "w", stdout);
      (void)file;
      dup2(1, 2);
      // Line-buffered: the test reads the debug lines while it runs.
      execlp("stdbuf", "stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", port.c_str(),
             "-V", "mqttv311", "-q", "1", "-d", "-i", client.c_str(), "-u", id.c_str(), "-P",
             password.c_str(), "-t", topic.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~LiveSubscriber() {
    if (pid_ > 0 && !exited()) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    fs::remove(out_);
  }
  bool exited() {
    if (done_) return true;
    done_ = waitpid(pid_, nullptr, WNOHANG) == pid_;
    return done_;
  }
  std::string output() const {
    std::ifstream in(out_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  fs::path out_;
  pid_t pid_ = -1;
  bool done_ = false;
};

TEST_F(NatsRevokingNode, ARevokedRotatedOrRemovedDoorsEarlierJwtIsRefusedWithoutAnOperator) {
  start_holding_every_group();
  const std::string door1 = register_door("door1");
  const std::string front_door = register_door("front-door");
  ASSERT_TRUE(accepted("door1", door1)) << nats_->log();
  LiveSubscriber live(*nats_, "door1", door1);
  ASSERT_TRUE(mqtt_test::eventually(
      [&] { return live.output().find("SUBACK") != std::string::npos; }, std::chrono::seconds(30)))
      << live.output();

  // Revoked over HTTP: no gatehousectl, no reload.
  auto revoked = call("DELETE", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_LT(revoked.status, 300) << revoked.body.dump();
  EXPECT_TRUE(refused_soon("door1", door1)) << nats_->log();
  EXPECT_TRUE(mqtt_test::eventually([&] { return live.exited(); }, std::chrono::seconds(60)))
      << "door1's live connection is closed: " << live.output();
  EXPECT_TRUE(accepted("front-door", front_door)) << "only door1 is revoked";
  EXPECT_TRUE(publishes(*nats_, "tools", nats_->tools_jwt(), "gatehouse/devices/door1/command"));

  // A new credential (at once, the same second maybe): its JWT is taken.
  auto issued = call("POST", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_EQ(issued.status, 200) << issued.body.dump();
  const std::string second = issued.body["credential"].value("password", "");
  EXPECT_TRUE(accepted("door1", second)) << nats_->log();

  // Rotated: the JWT it replaced is refused, the rotation's taken.
  auto rotated = call("POST", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_EQ(rotated.status, 200) << rotated.body.dump();
  const std::string third = rotated.body["credential"].value("password", "");
  EXPECT_TRUE(refused_soon("door1", second)) << nats_->log();
  EXPECT_TRUE(accepted("door1", third)) << nats_->log();
  EXPECT_FALSE(accepted("door1", door1));

  // Removed: its JWT is refused too.
  auto removed = call("DELETE", "/devices/front-door", bearer(kApiToken));
  ASSERT_LT(removed.status, 300) << removed.body.dump();
  EXPECT_TRUE(refused_soon("front-door", front_door)) << nats_->log();
  EXPECT_TRUE(accepted("door1", third));
  EXPECT_GE(metric("gatehouse_nats_revocation_pushes_total"), 1);
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_nats_revocations_pending") == 0; }, std::chrono::seconds(30)));
}

TEST_F(NatsRevokingNode, WhileNatsCannotBeReachedTheAnswerDoesNotWaitAndTheNextStartPushes) {
  nats_url_ = "nats://127.0.0.1:1";  // nobody listens there
  start_holding_every_group();
  const std::string door1 = register_door("door1");
  const auto before = std::chrono::steady_clock::now();
  auto revoked = call("DELETE", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_LT(revoked.status, 300) << revoked.body.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(10))
      << "the HTTP answer does not wait for NATS";
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_nats_revocation_push_failures_total") >= 1; },
      std::chrono::seconds(30)));
  EXPECT_EQ(metric("gatehouse_nats_revocations_pending"), 1);
  EXPECT_TRUE(accepted("door1", door1)) << "nothing reached NATS";

  // The next start (or any node) folds the log and pushes what it asks for.
  stop();
  nats_url_.clear();
  start_holding_every_group();
  EXPECT_TRUE(refused_soon("door1", door1)) << nats_->log();
}

TEST_F(NatsRevokingNode, APushWithoutTheSystemUserOrTheSigningKeyIsRefusedByNats) {
  start_holding_every_group();
  const std::string door1 = register_door("door1");
  std::ifstream creds_file(nats_->system_creds_file());
  std::stringstream creds_text;
  creds_text << creds_file.rdbuf();
  auto system_user = nats_system_user::parse_creds(creds_text.str());
  ASSERT_TRUE(system_user.is_ok()) << system_user.status().to_string();
  std::ifstream seed_file(nats_->account_seed_file());
  std::string seed_text;
  seed_file >> seed_text;
  auto account = nkeys::parse_seed(seed_text);
  ASSERT_TRUE(account.is_ok());
  std::ifstream signing_file(nats_->signing_seed_file());
  signing_file >> seed_text;
  auto signing = nkeys::parse_seed(seed_text);
  ASSERT_TRUE(signing.is_ok());
  const auto timeout = std::chrono::milliseconds(3000);

  // The account's JWT with door1 revoked, signed by `key`: what a push carries.
  auto account_jwt = [&](const nkeys::KeyPair& key) {
    nlohmann::json claims = {{"sub", account->public_text()},
                             {"name", "gatehouse"},
                             {"nats",
                              {{"type", "account"},
                               {"version", 2},
                               {"revocations",
                                {{nats_identities::door_user_key(*account, "door1").public_text(),
                                  unix_now_ms() / 1000 + 5}}}}}};
    return nats_jwt::encode(key, claims, unix_now_ms() / 1000 + 5);
  };

  // A user of gatehouse's own account on NATS' client port, even with a validly signed JWT:
  // $SYS.REQ.CLAIMS.UPDATE is the system account's subject, nobody answers it there.
  const auto intruder = nkeys::new_key(nkeys::Kind::kUser);
  const std::string intruder_jwt = nats_jwt::encode(
      *account,
      {{"sub", intruder.public_text()},
       {"name", "intruder"},
       {"nats", {{"type", "user"}, {"version", 2}, {"subs", -1}, {"data", -1}, {"payload", -1}}}},
      unix_now_ms() / 1000);
  auto outsider =
      nats_client::NatsConnection::open(nats_->client_url(), {intruder_jwt, intruder}, timeout);
  ASSERT_TRUE(outsider.is_ok()) << outsider.status().to_string();
  auto pushed =
      (*outsider)->request(nats_system_user::kClaimsUpdate, account_jwt(*signing), timeout);
  EXPECT_FALSE(pushed.is_ok()) << *pushed;

  // The system user's JWT with another seed: refused at CONNECT (it cannot sign the nonce).
  auto forged = nats_client::NatsConnection::open(
      nats_->client_url(), {system_user->jwt, nkeys::new_key(nkeys::Kind::kUser)}, timeout);
  ASSERT_FALSE(forged.is_ok());
  EXPECT_EQ(forged.status().code(), Code::kPermissionDenied) << forged.status().to_string();

  // The system user pushing an account JWT signed by a key the operator does not name: NATS
  // 2.9.10 answers "jwt updated" and stores it, but does not apply it (door1 is still
  // taken), and gatehouse never builds on it: its next revocation is a counted failure.
  auto system = nats_client::NatsConnection::open(nats_->client_url(),
                                                  {system_user->jwt, system_user->user}, timeout);
  ASSERT_TRUE(system.is_ok()) << system.status().to_string();
  auto wrong_key = (*system)->request(nats_system_user::kClaimsUpdate,
                                      account_jwt(nkeys::new_key(nkeys::Kind::kOperator)), timeout);
  ASSERT_TRUE(wrong_key.is_ok()) << wrong_key.status().to_string();
  EXPECT_TRUE(accepted("door1", door1)) << "none of these revoked door1";
  const double failures = metric("gatehouse_nats_revocation_push_failures_total");
  auto revoked = call("DELETE", "/devices/door1/credential", bearer(kApiToken));
  ASSERT_LT(revoked.status, 300) << revoked.body.dump();
  EXPECT_TRUE(mqtt_test::eventually(
      [&] { return metric("gatehouse_nats_revocation_push_failures_total") > failures; },
      std::chrono::seconds(30)));
  EXPECT_EQ(metric("gatehouse_nats_revocations_pending"), 1);
}

TEST_F(NatsRevokingNode, TheRevocationOptionsGoTogetherAndTheirFilesAreChecked) {
  auto on_nats = [&](Config& c) {
    c.cluster_broker = "nats";
    c.broker_url = nats_->mqtt_url();
    c.cluster_nats_account_seed_file = nats_->account_seed_file();
    c.cluster_nats_url = nats_->client_url();
    c.cluster_nats_operator_signing_seed_file = nats_->signing_seed_file();
    c.cluster_nats_system_creds_file = nats_->system_creds_file();
  };
  auto alone = start_error([&](Config& c) {
    on_nats(c);
    c.cluster_nats_system_creds_file.clear();
  });
  EXPECT_NE(alone.find("go together"), std::string::npos) << alone;
  auto bad_url = start_error([&](Config& c) {
    on_nats(c);
    c.cluster_nats_url = "nats://127.0.0.1";
  });
  EXPECT_NE(bad_url.find("cluster.nats-url: a NATS URL is nats://HOST:PORT"), std::string::npos)
      << bad_url;
  auto private_broker = start_error([&](Config& c) {
    on_nats(c);
    c.cluster_broker = "private";
    c.broker_url.clear();
    c.cluster_nats_account_seed_file.clear();
  });
  EXPECT_NE(private_broker.find("need cluster.broker=nats"), std::string::npos) << private_broker;
  const auto readable = (dir_ / "signing.seed").string();
  fs::copy_file(nats_->signing_seed_file(), readable);
  fs::permissions(readable, fs::perms::others_read, fs::perm_options::add);
  auto open_seed = start_error([&](Config& c) {
    on_nats(c);
    c.cluster_nats_operator_signing_seed_file = readable;
  });
  EXPECT_NE(open_seed.find("cluster.nats-operator-signing-seed-file"), std::string::npos)
      << open_seed;
  auto wrong_kind = start_error([&](Config& c) {
    on_nats(c);
    c.cluster_nats_operator_signing_seed_file = nats_->account_seed_file();
  });
  EXPECT_NE(wrong_kind.find("does not hold a NATS operator seed"), std::string::npos) << wrong_kind;
  auto not_creds = start_error([&](Config& c) {
    on_nats(c);
    c.cluster_nats_system_creds_file = nats_->account_seed_file();
  });
  EXPECT_NE(not_creds.find("cluster.nats-system-creds-file: no NATS USER JWT"), std::string::npos)
      << not_creds;
  EXPECT_LE(events_in_database(conninfo_, "system/tokens"), 0) << "nothing written";
}

}  // namespace
}  // namespace gh::server
