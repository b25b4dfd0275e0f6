// The action runner on a real RocksDB journal with a stand-in DeviceService: installed
// actions survive a restart, calls are recorded (input, output, outcome), effects are carried
// out after a successful call only, and an action that keeps failing is disabled.
#include "actors/actions/action_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>

#include "actors/actions/action_log.h"
#include "tests/events/temp_store.h"

namespace gh::actions {
namespace {

using gh::testing::TempStore;

// Knows one device, door1 (LOCKED, online); records lock requests.
class FakeDevices : public device::DeviceService {
 public:
  void hello(const std::string&, device::DeviceInfo, device::Callback<device::State> d) override {
    d(unavailable("fake"));
  }
  void set_availability(const std::string&, bool, device::Callback<device::State> d) override {
    d(unavailable("fake"));
  }
  void report_state(const std::string&, device::LockState,
                    device::Callback<device::State> d) override {
    d(unavailable("fake"));
  }
  void report_stranger(const std::string&, device::Picture,
                       device::Callback<device::Stranger> d) override {
    d(unavailable("fake"));
  }
  void provision(const std::string&, device::DeviceInfo, events::Cause,
                 device::Callback<device::State> d) override {
    d(unavailable("fake"));
  }
  void request_lock(const std::string& id, device::LockAction action, std::string,
                    events::Cause cause, device::Callback<device::CommandRecord> d) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(std::string(device::action_name(action)) + " " + id + " by " +
                         cause.name());
    }
    d(device::CommandRecord{});
  }
  void request_lock_and_wait(const std::string&, device::LockAction, std::string, events::Cause,
                             std::chrono::milliseconds,
                             device::Callback<device::CommandRecord> d) override {
    d(unavailable("fake"));
  }
  void get(const std::string& id, device::Callback<device::State> d) override {
    if (id != "door1") return d(not_found("no device " + id));
    device::State s;
    s.id = id;
    s.registered = true;
    s.online = true;
    s.reported = events::LOCKED;
    s.name = "Front";
    d(s);
  }
  void request_lock_all(device::LockAction, events::Cause,
                        device::Callback<std::vector<device::FanOut>> d) override {
    d(unavailable("fake"));
  }
  Result<std::vector<std::string>> list(const std::string&, size_t) override {
    return unavailable("fake");
  }
  Result<std::vector<device::AuditEntry>> history(const std::string&) override {
    return unavailable("fake");
  }
  Result<device::State> state_at(const std::string&, uint64_t, int64_t) override {
    return unavailable("fake");
  }
  void remove(const std::string&, events::Cause, device::Callback<device::State> d) override {
    d(unavailable("fake"));
  }
  void review_alert(const std::string&, const std::string&, events::Cause,
                    device::Callback<device::State> d) override {
    d(unavailable("fake"));
  }
  Result<std::vector<events::Envelope>> events(const std::string&) override {
    return unavailable("fake");
  }
  Result<std::string> picture(const std::string&) override { return unavailable("fake"); }

  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> lock(mu);
    return requests;
  }
  std::mutex mu;
  std::vector<std::string> requests;
};

events::Cause op() {
  events::Cause c;
  c.set_kind(events::Cause::OPERATOR);
  c.set_name("root");
  c.set_channel("http");
  return c;
}

class ActionRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start() { runner_ = make(); }

  // A runner on the same journal: another node of a cluster, in the tests of several writers.
  std::unique_ptr<ActionRunner> make() {
    ActionRunnerOptions options;
    options.failures.max_failures_in_a_row = 2;
    options.limits.max_instructions = 100'000;
    options.max_input_bytes = 1024;
    options.runs_excerpt_bytes = 16;
    options.runs_retain = runs_retain_;
    auto runner = ActionRunner::create(
        store_.journal(), devices_,
        [this](const std::string& topic, const std::string& payload) {
          std::lock_guard<std::mutex> lock(mu_);
          published_.push_back(topic + " " + payload);
        },
        options);
    EXPECT_TRUE(runner.is_ok()) << runner.status().to_string();
    return runner.is_ok() ? std::move(runner).value() : nullptr;
  }

  Result<std::optional<std::string>> call(const std::string& name, const std::string& payload,
                                          ActionRunner* runner = nullptr) {
    std::promise<Result<std::optional<std::string>>> promise;
    auto future = promise.get_future();
    (runner ? runner : runner_.get())
        ->invoke(name, "server", payload,
                 [&](Result<std::optional<std::string>> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  // Every recorded run of `name`, oldest first, with its excerpts as operators read them.
  std::vector<Invocation> recorded(const std::string& name) {
    auto runs = load_invocations(store_.journal(), name, 0);
    EXPECT_TRUE(runs.is_ok()) << runs.status().to_string();
    return runs.is_ok() ? *runs : std::vector<Invocation>{};
  }

  TempStore store_;
  FakeDevices devices_;
  std::mutex mu_;
  std::vector<std::string> published_;
  std::unique_ptr<ActionRunner> runner_;
  uint64_t runs_retain_ = 1000;
};

TEST_F(ActionRunnerTest, InstallRunRecordAndSurviveARestart) {
  auto installed = runner_->install("night", R"(
    function handle(msg)
      local d = gh.device(msg.args)
      if d == nil then return 'unknown ' .. msg.args end
      gh.unlock(d.id)
      gh.publish('night/' .. d.id, d.reported)
      return 'night ' .. d.name
    end)",
                                    false, op());
  ASSERT_TRUE(installed.is_ok()) << installed.status().to_string();
  EXPECT_TRUE(runner_->has("night"));
  EXPECT_FALSE(runner_->has("day"));

  auto reply = call("night", "night door1");
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(**reply, "night Front");
  EXPECT_EQ(devices_.seen(), std::vector<std::string>{"UNLOCK door1 by night"});
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(published_, std::vector<std::string>{"gatehouse/actions/out/night/door1 LOCKED"});
  }
  EXPECT_EQ(**call("night", "night ghost"), "unknown ghost");
  auto runs = recorded("night");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].input, "night door1");
  EXPECT_EQ(runs[0].output, "night Front");
  EXPECT_EQ(runs[0].effects.size(), 2u);
  EXPECT_EQ(runs[1].output, "unknown ghost");

  // A restart: the table is replayed from the log.
  runner_.reset();
  start();
  EXPECT_TRUE(runner_->has("night"));
  EXPECT_EQ(**call("night", "night door1"), "night Front");
  EXPECT_EQ(recorded("night").size(), 3u);
  EXPECT_EQ(call("day", "day").status().code(), Code::kNotFound);
  // The sandbox refuses at install: nothing written.
  auto refused = runner_->install("evil", "io.open('x')\nfunction handle() end", false, op());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(runner_->has("evil"));
}

// Two runners on one journal stand for two nodes writing the same streams (docs/cluster.md,
// "The system streams"): a change decided on a stale table is decided again on the log's,
// never written over the other's; a run recorded behind another's is recorded after it;
// follow() brings the other's changes in once.
TEST_F(ActionRunnerTest, AStaleTableOrRunsStreamIsReadAgainAndFollowBringsTheOthersIn) {
  auto other = make();
  ASSERT_TRUE(other && runner_);
  const std::string script = "function handle(msg) return 'ok' end";
  ASSERT_TRUE(other->install("a", script, false, op()).is_ok());
  EXPECT_FALSE(runner_->has("a")) << "not followed yet";
  auto b = runner_->install("b", script, false, op());
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_TRUE(runner_->has("a")) << "read again after the conflict";
  auto log = store_.journal().read_stream(std::string(kStream), 1);
  ASSERT_TRUE(log.is_ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->at(0).action_installed().name(), "a");
  EXPECT_EQ(log->at(1).action_installed().name(), "b");
  // Decided again: installing "a" without replace is now refused.
  EXPECT_EQ(runner_->install("a", script, false, op()).status().code(), Code::kAlreadyExists);

  EXPECT_FALSE(other->has("b"));
  for (const auto& e : *log) other->follow(e);
  for (const auto& e : *log) other->follow(e);
  ASSERT_TRUE(other->has("b"));
  EXPECT_EQ(other->table().version, 2u);
  EXPECT_EQ(other->table().find("b")->revision, 1u) << "applied once";

  // Runs of "a" recorded by both: the runner whose runs are stale reads them again.
  ASSERT_TRUE(call("a", "1").is_ok());
  ASSERT_TRUE(call("a", "2", other.get()).is_ok());
  auto third = call("a", "3");
  ASSERT_TRUE(third.is_ok()) << third.status().to_string();
  auto runs = recorded("a");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[2].input, "3");
}

TEST_F(ActionRunnerTest, FailuresAnswerWithErrorsActNotAndDisable) {
  ASSERT_TRUE(runner_
                  ->install("flaky",
                            "function handle(msg)\n gh.lock('door1')\n if msg.args == 'loop' then "
                            "while true do end end\n error('boom')\nend",
                            false, op())
                  .is_ok());
  auto looped = call("flaky", "flaky loop");
  EXPECT_EQ(looped.status().code(), Code::kTimeout);
  EXPECT_EQ(looped.status().message(), "instruction budget of 100000 exceeded");
  auto failed = call("flaky", "flaky x");
  EXPECT_EQ(failed.status().code(), Code::kInternal);
  EXPECT_NE(failed.status().message().find("boom"), std::string::npos);
  EXPECT_TRUE(devices_.seen().empty()) << "a failed call acted";
  // Two failures in a row: disabled, and it says why.
  auto table = runner_->table();
  ASSERT_NE(table.find("flaky"), nullptr);
  EXPECT_FALSE(table.find("flaky")->enabled);
  EXPECT_NE(table.find("flaky")->disabled_reason.find("failed 2 calls in a row"),
            std::string::npos);
  auto disabled = call("flaky", "flaky x");
  EXPECT_EQ(disabled.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(disabled.status().message().find("disabled: failed 2 calls in a row"),
            std::string::npos);
  EXPECT_EQ(recorded("flaky").size(), 2u);
  // An operator enables it again.
  ASSERT_TRUE(runner_->change(Enable{"flaky"}, op()).is_ok());
  EXPECT_EQ(call("flaky", "flaky x").status().code(), Code::kInternal);
  EXPECT_TRUE(runner_->table().find("flaky")->enabled);
  ASSERT_TRUE(runner_->change(Remove{"flaky"}, op()).is_ok());
  EXPECT_FALSE(runner_->has("flaky"));
}

// Issue 9: a wedge inside a C function (the pattern matcher) ends at the wall clock, at
// install and at call time, and counts as the script's failure; the thread is free at once.
TEST_F(ActionRunnerTest, AWedgingScriptEndsAtTheWallClockAndCountsAsAFailure) {
  constexpr const char* kWedge = "string.find(string.rep('a', 16000), '.-.-.-.-.-.-b')";
  const auto generous = std::chrono::seconds(5);
  auto start = std::chrono::steady_clock::now();
  auto refused =
      runner_->install("wedge", std::string(kWedge) + "\nfunction handle() end", false, op());
  EXPECT_LT(std::chrono::steady_clock::now() - start, generous);
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("wall-clock limit of 250 ms"), std::string::npos);
  EXPECT_FALSE(runner_->has("wedge"));

  ASSERT_TRUE(runner_
                  ->install("wedge",
                            "function handle(msg)\n if msg.args == 'wedge' then " +
                                std::string(kWedge) + " end\n return 'ok'\nend",
                            false, op())
                  .is_ok());
  start = std::chrono::steady_clock::now();
  auto wedged = call("wedge", "wedge wedge");
  EXPECT_LT(std::chrono::steady_clock::now() - start, generous);
  EXPECT_EQ(wedged.status().code(), Code::kTimeout);
  EXPECT_EQ(wedged.status().message(), "wall-clock limit of 250 ms exceeded");
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(**call("wedge", "wedge fine"), "ok");  // the thread was free at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, generous);
  EXPECT_EQ(call("wedge", "wedge wedge").status().code(), Code::kTimeout);
  EXPECT_EQ(call("wedge", "wedge wedge").status().code(), Code::kTimeout);
  EXPECT_FALSE(runner_->table().find("wedge")->enabled) << "two failures in a row disable";
  auto runs = recorded("wedge");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].outcome, Outcome::kBudgetExceeded);
  EXPECT_EQ(runs[1].outcome, Outcome::kReplied);
}

// Issue 9: oversized inputs are refused before the script, not recorded, and never disable.
TEST_F(ActionRunnerTest, OversizedInputsAreRefusedUnrecordedAndNeverDisable) {
  ASSERT_TRUE(
      runner_->install("echo", "function handle(msg) return msg.args end", false, op()).is_ok());
  const std::string big = "echo " + std::string(4 * 1024 * 1024, 'x');
  for (int i = 0; i < 6; ++i) {
    auto r = call("echo", big);
    EXPECT_EQ(r.status().code(), Code::kTooLarge);
    EXPECT_NE(r.status().message().find("at most 1024 bytes"), std::string::npos)
        << r.status().message();
  }
  EXPECT_TRUE(runner_->table().find("echo")->enabled);
  EXPECT_TRUE(recorded("echo").empty());
  EXPECT_EQ(**call("echo", "echo hi"), "hi");
}

// Issue 9: a run record keeps an excerpt of input, output and error, with the whole input's
// size and SHA-256: a record's size is bounded whatever the call was.
TEST_F(ActionRunnerTest, RunsKeepAnExcerptWithSizeAndHash) {
  ASSERT_TRUE(runner_
                  ->install("big",
                            "function handle(msg)\n if msg.args == 'fail' then "
                            "error(string.rep('e', 100000)) end\n"
                            " gh.log(string.rep('l', 500))\n return string.rep('r', 60000)\nend",
                            false, op())
                  .is_ok());
  const std::string input = "big " + std::string(1000, 'i');
  auto reply = call("big", input);
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ((*reply)->size(), 60000u) << "the caller gets the whole reply";
  auto failed = call("big", "big fail");
  EXPECT_EQ(failed.status().code(), Code::kInternal);
  EXPECT_LE(failed.status().message().size(), kMaxErrorBytes);
  auto runs = recorded("big");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].input, input.substr(0, 16));
  EXPECT_EQ(runs[0].input_bytes, input.size());
  EXPECT_EQ(runs[0].input_sha256, sha256_of(input));
  EXPECT_EQ(runs[0].output.size(), 16u);
  EXPECT_EQ(runs[0].output_bytes, 60000u);
  ASSERT_EQ(runs[0].effects.size(), 1u);
  EXPECT_EQ(runs[0].effects[0].size(), 16u);
  EXPECT_EQ(runs[1].error.size(), 16u);
  auto events = store_.journal().read_stream(runs_stream("big"), 1);
  ASSERT_TRUE(events.is_ok());
  for (const auto& e : events.value()) EXPECT_LT(e.ByteSizeLong(), 1024u) << "a record grew";
}

// Without its sandbox helper the runner refuses to start, naming the path.
TEST_F(ActionRunnerTest, AMissingSandboxHelperIsAClearErrorAtStart) {
  ActionRunnerOptions options;
  options.sandbox_helper = "/nonexistent/gatehouse-lua-sandbox";
  auto runner = ActionRunner::create(
      store_.journal(), devices_, [](const std::string&, const std::string&) {}, options);
  EXPECT_EQ(runner.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(runner.status().message().find("/nonexistent/gatehouse-lua-sandbox"),
            std::string::npos);
}

// actions.runs-retain: only the newest N runs of an action keep their excerpts (input,
// output, error, effects); each new record's write deletes the excerpts that fall out, so an
// action's excerpts do not grow with its traffic. The records (outcome, sizes, hash) stay,
// and the rule holds across a restart of the runner.
TEST_F(ActionRunnerTest, OnlyTheNewestRunsKeepTheirExcerpts) {
  runner_.reset();
  runs_retain_ = 3;
  start();
  ASSERT_TRUE(
      runner_->install("echo", "function handle(msg) return 'got ' .. msg.args end", false, op())
          .is_ok());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(call("echo", "echo " + std::to_string(i)).is_ok()) << i;
  auto runs = recorded("echo");
  ASSERT_EQ(runs.size(), 5u) << "every call keeps its record";
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const bool kept = i >= 2;
    EXPECT_EQ(runs[i].excerpts_dropped, !kept);
    EXPECT_EQ(runs[i].input, kept ? "echo " + std::to_string(i + 1) : "");
    EXPECT_EQ(runs[i].output, kept ? "got " + std::to_string(i + 1) : "");
    EXPECT_EQ(runs[i].outcome, Outcome::kReplied);
    EXPECT_EQ(runs[i].input_bytes, 6u);  // the record itself stays whole
    EXPECT_EQ(runs[i].input_sha256, sha256_of("echo " + std::to_string(i + 1)));
    EXPECT_EQ(store_.journal().read_blob(excerpts_key("echo", i + 1)).is_ok(), kept);
  }
  // The runs stream holds records only: their excerpts are beside them.
  auto events = store_.journal().read_stream(runs_stream("echo"), 1);
  ASSERT_TRUE(events.is_ok());
  EXPECT_EQ(events->back().action_invoked().input(), "");
  EXPECT_EQ(events->back().action_invoked().excerpts_dropped_through(), 2u);
  std::printf("[ figures  ] a run's record without its excerpts: %zu bytes\n",
              events->back().ByteSizeLong());

  runner_.reset();  // a restart: the count goes on from the log
  start();
  ASSERT_TRUE(call("echo", "echo 6").is_ok());
  runs = recorded("echo");
  ASSERT_EQ(runs.size(), 6u);
  EXPECT_TRUE(runs[2].excerpts_dropped);
  EXPECT_FALSE(store_.journal().read_blob(excerpts_key("echo", 3)).is_ok());
  EXPECT_EQ(runs[5].input, "echo 6");
  size_t kept = 0;
  for (const auto& run : runs) kept += run.excerpts_dropped ? 0 : 1;
  EXPECT_EQ(kept, 3u);
}

}  // namespace
}  // namespace gh::actions
