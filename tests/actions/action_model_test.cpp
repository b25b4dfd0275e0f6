// The scripted actions' pure models: given (events) / when (command) / then (events or a
// rejection), no actor system, no disk.
#include "actors/actions/action_model.h"

#include <gtest/gtest.h>

#include <memory>

namespace gh::actions {
namespace {

const std::string kSource = "function handle(msg) return 'hi ' .. msg.args end";
const std::string kHash(32, '\x11');
const std::string kOtherHash(32, '\x22');

events::Cause operator_cause(const std::string& name) {
  events::Cause c;
  c.set_kind(events::Cause::OPERATOR);
  c.set_name(name);
  c.set_channel("tool");
  return c;
}

// Events as the journal would have stored them: versions 1, 2, ..., a second apart, at
// increasing positions of a log that `same_log` shares with another stream.
class Given {
 public:
  explicit Given(std::string stream = std::string(kStream))
      : stream_(std::move(stream)), position_(std::make_shared<uint64_t>(0)) {}
  Given(std::string stream, const Given& same_log)
      : stream_(std::move(stream)), position_(same_log.position_) {}

  Envelope store(Envelope e, const events::Cause& cause = operator_cause("root")) {
    e.set_stream(stream_);
    e.set_version(++version_);
    e.set_position(++*position_);
    e.set_time_unix_ms(1000 * static_cast<int64_t>(version_));
    *e.mutable_cause() = cause;
    return e;
  }
  // Decides `command` against `state`, stores and applies what it produced.
  std::vector<Envelope> when(State& state, const Command& command) {
    auto events = decide(state, command);
    EXPECT_TRUE(events.is_ok()) << events.status().to_string();
    std::vector<Envelope> out;
    if (!events.is_ok()) return out;
    for (auto& e : *events) {
      out.push_back(store(e));
      apply(state, out.back());
    }
    return out;
  }
  uint64_t version() const { return version_; }

 private:
  std::string stream_;
  std::shared_ptr<uint64_t> position_;
  uint64_t version_ = 0;
};

TEST(ActionModelTest, InstallRecordsSourceHashAndWho) {
  State state;
  Given given;
  auto events = decide(state, Install{"greet", kSource, kHash});
  ASSERT_TRUE(events.is_ok());
  ASSERT_EQ(events->size(), 1u);
  const auto& installed = (*events)[0].action_installed();
  EXPECT_EQ(installed.name(), "greet");
  EXPECT_EQ(installed.source(), kSource);
  EXPECT_EQ(installed.sha256(), kHash);

  apply(state, given.store((*events)[0], operator_cause("alice")));
  const Action* action = state.find("greet");
  ASSERT_NE(action, nullptr);
  EXPECT_TRUE(action->enabled);
  EXPECT_EQ(action->source, kSource);
  EXPECT_EQ(action->sha256, kHash);
  EXPECT_EQ(action->revision, 1u);
  EXPECT_EQ(action->installed_by.name(), "alice");
  EXPECT_EQ(action->installed_by.kind(), events::Cause::OPERATOR);
  EXPECT_EQ(action->installed_at_ms, 1000);
  EXPECT_EQ(state.version, 1u);
}

TEST(ActionModelTest, InstallRejections) {
  State state;
  Given given;
  given.when(state, Install{"greet", kSource, kHash});
  EXPECT_EQ(decide(state, Install{"greet", kSource, kHash}).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(decide(state, Install{"bad name", kSource, kHash}).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(decide(state, Install{"a.b", kSource, kHash}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(decide(state, Install{"x/#", kSource, kHash}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(decide(state, Install{std::string(49, 'a'), kSource, kHash}).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(decide(state, Install{std::string(48, 'a'), kSource, kHash}).is_ok());
  EXPECT_EQ(decide(state, Install{"", kSource, kHash}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(decide(state, Install{"other", "", kHash}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(decide(state, Install{"other", kSource, "short"}).status().code(),
            Code::kInvalidArgument);
  Limits small{.max_source_bytes = 10};
  EXPECT_EQ(decide(state, Install{"other", kSource, kHash}, small).status().code(),
            Code::kTooLarge);
  for (const auto& builtin : builtin_names()) {
    auto refused = decide(state, Install{builtin, kSource, kHash});
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument) << builtin;
    EXPECT_NE(refused.status().message().find("built-in"), std::string::npos);
  }
  EXPECT_EQ(state.version, 1u);
}

TEST(ActionModelTest, ReplaceBumpsRevisionAndEnables) {
  State state;
  Given given;
  given.when(state, Install{"greet", kSource, kHash});
  given.when(state, Disable{"greet", "operator"});
  ASSERT_FALSE(state.find("greet")->enabled);
  auto events = given.when(state, Install{"greet", "function handle() end", kOtherHash, true});
  ASSERT_EQ(events.size(), 1u);
  const Action* action = state.find("greet");
  EXPECT_EQ(action->revision, 2u);
  EXPECT_EQ(action->sha256, kOtherHash);
  EXPECT_TRUE(action->enabled);
  EXPECT_TRUE(action->disabled_reason.empty());
  EXPECT_EQ(action->failures_count_from, 3u);
}

TEST(ActionModelTest, DisableEnableRemove) {
  State state;
  Given given;
  given.when(state, Install{"greet", kSource, kHash});
  auto disabled = given.when(state, Disable{"greet", "operator"});
  ASSERT_EQ(disabled.size(), 1u);
  EXPECT_EQ(disabled[0].action_disabled().reason(), "operator");
  EXPECT_FALSE(state.find("greet")->enabled);
  EXPECT_EQ(state.find("greet")->disabled_reason, "operator");
  // Disabling a disabled action changes nothing.
  auto again = decide(state, Disable{"greet", "operator"});
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->empty());

  auto enabled = given.when(state, Enable{"greet"});
  ASSERT_EQ(enabled.size(), 1u);
  EXPECT_TRUE(state.find("greet")->enabled);
  EXPECT_EQ(state.find("greet")->failures_count_from, 3u);
  EXPECT_TRUE(decide(state, Enable{"greet"})->empty());

  auto removed = given.when(state, Remove{"greet"});
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(state.find("greet"), nullptr);
  EXPECT_EQ(state.version, 4u);
  for (const Command& c :
       {Command{Disable{"greet"}}, Command{Enable{"greet"}}, Command{Remove{"greet"}}})
    EXPECT_EQ(decide(state, c).status().code(), Code::kNotFound);
  // The name can be installed again, from revision 1.
  given.when(state, Install{"greet", kSource, kHash});
  EXPECT_EQ(state.find("greet")->revision, 1u);
}

TEST(ActionModelTest, ReplayEqualsLiveAndIgnoresOtherEvents) {
  State live;
  Given given;
  std::vector<Envelope> log;
  auto keep = [&](std::vector<Envelope> events) {
    log.insert(log.end(), events.begin(), events.end());
  };
  keep(given.when(live, Install{"a", kSource, kHash}));
  keep(given.when(live, Install{"b", kSource, kOtherHash}));
  keep(given.when(live, Disable{"a", "failed 5 calls in a row: boom"}));
  keep(given.when(live, Remove{"b"}));
  Envelope other;
  other.mutable_device_came_online();
  log.push_back(given.store(other));
  // An event naming an unknown action (a hand-made log) is ignored, not a crash.
  Envelope stray;
  stray.mutable_action_enabled()->set_name("ghost");
  log.push_back(given.store(stray));

  State replayed = replay(log);
  ASSERT_EQ(replayed.actions.size(), 1u);
  EXPECT_EQ(replayed.version, live.version);
  const Action* a = replayed.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->enabled);
  EXPECT_EQ(a->disabled_reason, "failed 5 calls in a row: boom");
  EXPECT_EQ(replayed.find("ghost"), nullptr);
}

TEST(ActionModelTest, RunRecordRoundTrips) {
  Invocation run;
  run.name = "greet";
  run.source_sha256 = kHash;
  run.topic = "server";
  run.input = std::string("greet bob\0\xff", 11);
  run.outcome = Outcome::kReplied;
  run.output = "hi bob";
  run.instructions = 1234;
  run.peak_memory_bytes = 56789;
  run.effects = {"lock door1", "publish actions/out/x (3 bytes)"};
  Given given(runs_stream("greet"));
  auto stored = given.store(record(run), operator_cause("x"));
  auto back = run_of(stored);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->name, run.name);
  EXPECT_EQ(back->source_sha256, run.source_sha256);
  EXPECT_EQ(back->topic, run.topic);
  EXPECT_EQ(back->input, run.input);
  EXPECT_EQ(back->outcome, Outcome::kReplied);
  EXPECT_EQ(back->output, "hi bob");
  EXPECT_EQ(back->instructions, 1234u);
  EXPECT_EQ(back->peak_memory_bytes, 56789u);
  EXPECT_EQ(back->effects, run.effects);
  EXPECT_EQ(back->time_ms, 1000);
  EXPECT_EQ(back->version, 1u);
  for (auto outcome : {Outcome::kReplied, Outcome::kNoReply, Outcome::kError,
                       Outcome::kBudgetExceeded, Outcome::kMemoryExceeded}) {
    run.outcome = outcome;
    EXPECT_EQ(run_of(record(run))->outcome, outcome) << outcome_name(outcome);
  }
  Envelope other;
  other.mutable_action_removed()->set_name("greet");
  EXPECT_FALSE(run_of(other).has_value());
  EXPECT_EQ(runs_stream("greet"), "system/action-runs.greet");
}

// Given an installed action, when its calls fail N times in a row, then it is disabled and
// says why; a success in between, an enable or a new install start the count again.
TEST(ActionModelTest, KeepsFailingThenDisabled) {
  State table;
  Given given;
  given.when(table, Install{"flaky", kSource, kHash});
  Invocations runs;
  Given runs_log(runs_stream("flaky"), given);
  FailurePolicy policy{.max_failures_in_a_row = 3};
  auto run_once = [&](Outcome outcome, const std::string& error = "") {
    Invocation run;
    run.name = "flaky";
    run.outcome = outcome;
    run.error = error;
    apply(runs, runs_log.store(record(run)));
  };
  run_once(Outcome::kError, "boom");
  run_once(Outcome::kBudgetExceeded, "instruction budget exceeded");
  EXPECT_EQ(failures_in_a_row(*table.find("flaky"), runs), 2u);
  EXPECT_FALSE(disable_if_failing(*table.find("flaky"), runs, policy));
  run_once(Outcome::kReplied);
  EXPECT_EQ(failures_in_a_row(*table.find("flaky"), runs), 0u);
  run_once(Outcome::kError, "a");
  run_once(Outcome::kError, "b");
  run_once(Outcome::kMemoryExceeded, "memory cap of 1024 bytes exceeded");
  auto disabled = disable_if_failing(*table.find("flaky"), runs, policy);
  ASSERT_TRUE(disabled.has_value());
  EXPECT_EQ(disabled->action_disabled().name(), "flaky");
  EXPECT_EQ(disabled->action_disabled().reason(),
            "failed 3 calls in a row: memory cap of 1024 bytes exceeded");
  apply(table, given.store(*disabled, events::Cause()));
  EXPECT_FALSE(table.find("flaky")->enabled);
  // Already disabled: nothing more.
  EXPECT_FALSE(disable_if_failing(*table.find("flaky"), runs, policy));
  EXPECT_EQ(runs.total, 6u);
  EXPECT_EQ(runs.failures, 5u);

  // Enabled again: the old failures no longer count.
  given.when(table, Enable{"flaky"});
  EXPECT_EQ(failures_in_a_row(*table.find("flaky"), runs), 0u);
  run_once(Outcome::kError, "c");
  EXPECT_EQ(failures_in_a_row(*table.find("flaky"), runs), 1u);
  EXPECT_FALSE(disable_if_failing(*table.find("flaky"), runs, policy));
  // Policy 0: never disabled.
  run_once(Outcome::kError, "d");
  run_once(Outcome::kError, "e");
  EXPECT_TRUE(disable_if_failing(*table.find("flaky"), runs, policy));
  EXPECT_FALSE(disable_if_failing(*table.find("flaky"), runs, FailurePolicy{0}));
}

TEST(ActionModelTest, AnEnableInTheMillisecondOfAFailureStillStartsOver) {
  State table;
  Given given;
  given.when(table, Install{"flaky", kSource, kHash});
  Invocations runs;
  Given runs_log(runs_stream("flaky"), given);
  Invocation run;
  run.name = "flaky";
  run.outcome = Outcome::kError;
  for (int i = 0; i < 2; ++i) {
    auto e = runs_log.store(record(run));
    e.set_time_unix_ms(5000);
    apply(runs, e);
  }
  apply(table, given.store(decide(table, Disable{"flaky", "operator"})->at(0)));
  auto again = given.store(decide(table, Enable{"flaky"})->at(0));
  again.set_time_unix_ms(5000);
  apply(table, again);
  EXPECT_EQ(failures_in_a_row(*table.find("flaky"), runs), 0u);
}

TEST(ActionModelTest, RunsKeepTheRecentOnes) {
  Invocations runs;
  Given log(runs_stream("busy"));
  for (int i = 0; i < 100; ++i) {
    Invocation run;
    run.name = "busy";
    run.input = std::to_string(i);
    apply(runs, log.store(record(run)));
  }
  EXPECT_EQ(runs.total, 100u);
  ASSERT_EQ(runs.recent.size(), Invocations::kRecent);
  EXPECT_EQ(runs.recent.back().input, "99");
  EXPECT_EQ(runs.recent.front().input, std::to_string(100 - Invocations::kRecent));
  EXPECT_EQ(runs.version, 100u);
}

}  // namespace
}  // namespace gh::actions
