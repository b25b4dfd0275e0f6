// The scripted actions' operator routes (/api/actions...) on the real HttpAdapter, with the
// real ActionRunner over the fixture's RocksDB journal and DeviceSystem: what an operator
// installs, disables, enables and removes over HTTP is in the table (and the log) with the
// operator as its cause; refused requests change nothing; callers who are not operators are
// turned away.
#include <future>

#include "actors/actions/action_log.h"
#include "actors/actions/action_runner.h"
#include "adapters/codec/action_json.h"
#include "tests/http/chat_fixture.h"

namespace gh::http::testing {
namespace {

constexpr const char* kGreet = "function handle(msg)\n  return 'hi ' .. msg.args\nend\n";
constexpr const char* kShout = "function handle(msg)\n  return 'HI ' .. msg.args\nend\n";
constexpr size_t kMaxSource = 1024;

class ActionRoutesTest : public ChatHttpTest {
 protected:
  void SetUp() override {
    ChatHttpTest::SetUp();
    if (HasFatalFailure()) return;
    actions::ActionRunnerOptions options;
    options.limits.max_source_bytes = kMaxSource;
    auto runner = actions::ActionRunner::create(
        *journal_, *devices_, [](const std::string&, const std::string&) {}, options);
    ASSERT_TRUE(runner.is_ok()) << runner.status().to_string();
    runner_ = std::move(runner).value();
  }
  void TearDown() override {
    if (adapter_) adapter_->stop();
    runner_.reset();
    ChatHttpTest::TearDown();
  }
  // Starts the adapter with the runner as its actions (or none).
  void start_with_actions(bool with_actions = true) {
    adapter_ = std::make_unique<HttpAdapter>(*devices_, tokens_, signer_, HealthProbes{},
                                             MetricsSources{}, default_options());
    adapter_->set_chat(chat_.get());
    chat_->add_listener(&adapter_->room_listener());
    if (with_actions) adapter_->set_actions(runner_.get());
    auto port = adapter_->start();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(std::chrono::seconds(120));
  }
  httplib::Result put_source(const std::string& path, const std::string& source,
                             const std::string& secret = kApiSecret) {
    return client_->Put(path.c_str(), bearer(secret), source, "text/x-lua");
  }
  httplib::Result get(const std::string& path, const std::string& secret = kApiSecret) {
    return client_->Get(path.c_str(), bearer(secret));
  }
  // Events in system/actions: what the table's changes wrote.
  size_t table_events() {
    auto events = journal_->read_stream(std::string(actions::kStream), 1);
    EXPECT_TRUE(events.is_ok());
    return events.is_ok() ? events->size() : 0;
  }
  Result<std::optional<std::string>> call(const std::string& name, const std::string& payload) {
    std::promise<Result<std::optional<std::string>>> promise;
    auto future = promise.get_future();
    runner_->invoke(name, "gatehouse/actions/in", payload,
                    [&](Result<std::optional<std::string>> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  std::unique_ptr<actions::ActionRunner> runner_;
};

TEST_F(ActionRoutesTest, InstallListShowAndReplace) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  auto created = put_source("/api/actions/greet", kGreet);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(created->get_header_value("Location"), "/api/actions/greet");
  auto action = body(created)["action"];
  EXPECT_EQ(action["name"], "greet");
  EXPECT_EQ(action["revision"], 1);
  EXPECT_EQ(action["enabled"], true);
  EXPECT_EQ(action["disabled_reason"], nullptr);
  EXPECT_EQ(action["sha256"], codec::hex_of(actions::sha256_of(kGreet)));
  EXPECT_EQ(action["installed_by"],
            json({{"kind", "api_token"}, {"name", "ops"}, {"channel", "http"}}));
  EXPECT_FALSE(action.contains("source"));
  // Live at once: the runner answers with it.
  auto reply = call("greet", "greet bob");
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(**reply, "hi bob");

  auto list = get("/api/actions");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  ASSERT_EQ(body(list)["actions"].size(), 1u) << list->body;
  EXPECT_EQ(body(list)["actions"][0]["name"], "greet");
  auto shown = get("/api/actions/greet");
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  EXPECT_EQ(body(shown)["action"]["source"], kGreet);

  // Installing over it needs replace=true; the refusal writes nothing.
  const size_t before = table_events();
  expect_error(put_source("/api/actions/greet", kShout), 409, "already_exists");
  expect_error(put_source("/api/actions/greet?replace=yes", kShout), 400, "invalid_argument");
  EXPECT_EQ(table_events(), before);
  auto replaced = put_source("/api/actions/greet?replace=true", kShout);
  ASSERT_TRUE(replaced);
  ASSERT_EQ(replaced->status, 200) << replaced->body;
  EXPECT_EQ(body(replaced)["action"]["revision"], 2);
  EXPECT_EQ(**call("greet", "greet bob"), "HI bob");
}

TEST_F(ActionRoutesTest, BadScriptsNamesAndSizesAreRefusedAndWriteNothing) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  auto escape = put_source("/api/actions/evil", "io.open('/etc/passwd')\nfunction handle() end");
  expect_error(escape, 400, "invalid_argument");
  EXPECT_NE(body(escape)["error"]["message"].get<std::string>().find("io"), std::string::npos)
      << escape->body;
  expect_error(put_source("/api/actions/nohandle", "x = 1"), 400, "invalid_argument");
  expect_error(put_source("/api/actions/empty", ""), 400, "invalid_argument");
  expect_error(put_source("/api/actions/bad%23name", kGreet), 400, "invalid_argument");
  expect_error(put_source("/api/actions/big", "-- " + std::string(kMaxSource, 'x') + "\n" + kGreet),
               413, "too_large");
  EXPECT_EQ(table_events(), 0u);
  expect_error(get("/api/actions/evil"), 404, "not_found");
  auto list = get("/api/actions");
  ASSERT_TRUE(list);
  EXPECT_EQ(body(list)["actions"], json::array());
}

TEST_F(ActionRoutesTest, DisableEnableRemoveByAnOperatorSession) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  const std::string olga = login(kOperator, kOperatorPassword);
  ASSERT_FALSE(olga.empty());
  auto created = put_source("/api/actions/greet", kGreet, olga);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(body(created)["action"]["installed_by"],
            json({{"kind", "user"}, {"name", "olga"}, {"channel", "http"}}));

  auto disabled = client_->Post("/api/actions/greet/disable", bearer(olga), "", "text/plain");
  ASSERT_TRUE(disabled);
  ASSERT_EQ(disabled->status, 200) << disabled->body;
  EXPECT_EQ(body(disabled)["action"]["enabled"], false);
  EXPECT_EQ(body(disabled)["action"]["disabled_reason"], "operator");
  EXPECT_EQ(call("greet", "greet bob").status().code(), Code::kFailedPrecondition);
  // Twice changes nothing.
  const size_t before = table_events();
  auto again = client_->Post("/api/actions/greet/disable", bearer(olga), "", "text/plain");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(table_events(), before);

  auto enabled = client_->Post("/api/actions/greet/enable", bearer(olga), "", "text/plain");
  ASSERT_TRUE(enabled);
  ASSERT_EQ(enabled->status, 200) << enabled->body;
  EXPECT_EQ(body(enabled)["action"]["enabled"], true);
  EXPECT_EQ(**call("greet", "greet bob"), "hi bob");

  auto removed = client_->Delete("/api/actions/greet", bearer(olga));
  ASSERT_TRUE(removed);
  ASSERT_EQ(removed->status, 200) << removed->body;
  EXPECT_EQ(body(removed)["removed"], "greet");
  EXPECT_FALSE(runner_->has("greet"));
  expect_error(client_->Delete("/api/actions/greet", bearer(olga)), 404, "not_found");
  expect_error(client_->Post("/api/actions/ghost/enable", bearer(olga), "", "text/plain"), 404,
               "not_found");
  // The log names who did each change.
  auto events = journal_->read_stream(std::string(actions::kStream), 1);
  ASSERT_TRUE(events.is_ok());
  ASSERT_EQ(events->size(), 4u);
  for (const auto& e : *events) EXPECT_EQ(e.cause().name(), "olga");
}

TEST_F(ActionRoutesTest, RunsAreTheNewestOldestFirst) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  ASSERT_TRUE(runner_->install("greet", kGreet, false, events::Cause()).is_ok());
  ASSERT_TRUE(call("greet", "greet ann").is_ok());
  ASSERT_TRUE(call("greet", "greet bob").is_ok());
  ASSERT_TRUE(call("greet", "greet cy").is_ok());
  auto runs = get("/api/actions/greet/runs?limit=2");
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->status, 200) << runs->body;
  auto list = body(runs)["runs"];
  ASSERT_EQ(list.size(), 2u) << runs->body;
  EXPECT_EQ(list[0]["input"], "greet bob");
  EXPECT_EQ(list[1]["input"], "greet cy");
  EXPECT_EQ(list[1]["version"], 3);
  EXPECT_EQ(list[1]["outcome"], "replied");
  EXPECT_EQ(list[1]["output"], "hi cy");
  EXPECT_EQ(list[1]["error"], nullptr);
  EXPECT_EQ(list[1]["topic"], "gatehouse/actions/in");
  EXPECT_TRUE(list[1]["instructions"].is_number_unsigned());  // counted in steps of the hook
  EXPECT_GT(list[1]["peak_memory_bytes"].get<uint64_t>(), 0u);
  EXPECT_TRUE(list[1]["at"].is_string());
  auto all = get("/api/actions/greet/runs");
  ASSERT_TRUE(all);
  EXPECT_EQ(body(all)["runs"].size(), 3u);
  auto never = get("/api/actions/nobody/runs");
  ASSERT_TRUE(never);
  ASSERT_EQ(never->status, 200) << never->body;
  EXPECT_EQ(body(never)["runs"], json::array());
  expect_error(get("/api/actions/greet/runs?limit=0"), 400, "invalid_argument");
}

TEST_F(ActionRoutesTest, OnlyOperatorsAndOnlyWhileActionsRun) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  expect_error(client_->Get("/api/actions"), 401, "unauthenticated");
  expect_error(get("/api/actions", "not-a-token"), 401, "unauthenticated");
  const std::string ann = user_session("ann");
  expect_error(get("/api/actions", ann), 403, "permission_denied");
  expect_error(put_source("/api/actions/greet", kGreet, ann), 403, "permission_denied");
  EXPECT_EQ(table_events(), 0u);
  // authenticate_operator() applies the same rule for the MQTT remote install.
  EXPECT_EQ(adapter_->authenticate_operator(ann).status().code(), Code::kPermissionDenied);
  auto by_token = adapter_->authenticate_operator(kApiSecret);
  ASSERT_TRUE(by_token.is_ok()) << by_token.status().to_string();
  EXPECT_EQ(by_token->name(), "ops");
  EXPECT_EQ(adapter_->authenticate_operator("nope").status().code(), Code::kUnauthenticated);
}

TEST_F(ActionRoutesTest, WithoutScriptedActionsTheRoutesAnswer503) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions(false));
  expect_error(get("/api/actions"), 503, "unavailable");
  expect_error(put_source("/api/actions/greet", kGreet), 503, "unavailable");
}

// Issue 9: a script whose top level wedges inside a C function (Lua's pattern matcher) is
// refused within the wall-clock limit: the worker answers 400 at once (it hung for good
// before), nothing is written, and the server keeps answering.
TEST_F(ActionRoutesTest, AWedgingInstallIsRefusedWithinTheWallClockLimit) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  const size_t before = table_events();
  const auto start = std::chrono::steady_clock::now();
  auto refused = put_source("/api/actions/wedge",
                            "string.find(string.rep('a', 16000), '.-.-.-.-.-.-b')\n"
                            "function handle() end\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  expect_error(refused, 400, "invalid_argument");
  EXPECT_NE(refused->body.find("wall-clock limit of 250 ms exceeded"), std::string::npos)
      << refused->body;
  EXPECT_EQ(table_events(), before);
  auto list = get("/api/actions");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  auto created = put_source("/api/actions/greet", kGreet);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201) << created->body;
}

// Issue 9: the runs route shows the excerpt with the whole input's size and hash.
TEST_F(ActionRoutesTest, RunsShowTheInputsSizeAndHash) {
  ASSERT_NO_FATAL_FAILURE(start_with_actions());
  ASSERT_EQ(put_source("/api/actions/greet", kGreet)->status, 201);
  const std::string input = "greet " + std::string(2000, 'b');
  ASSERT_TRUE(call("greet", input).is_ok());
  auto runs = get("/api/actions/greet/runs");
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->status, 200) << runs->body;
  auto run = body(runs)["runs"].at(0);
  EXPECT_EQ(run["input"], input.substr(0, 256));
  EXPECT_EQ(run["input_bytes"], input.size());
  EXPECT_EQ(run["input_sha256"], codec::hex_of(actions::sha256_of(input)));
  EXPECT_EQ(run["output_bytes"], input.size() - 3);  // "hi " + args
}

}  // namespace
}  // namespace gh::http::testing
