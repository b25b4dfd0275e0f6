// The sandbox process (actors/actions/sandbox_process.h, sandbox_pool.h) with the real
// gatehouse-lua-sandbox helper: a script wedged inside a C function (Lua's pattern matcher)
// is stopped by the wall-clock limit, at install and at call time; the thread is free for the
// next call at once; stopping the pool does not wait for a wedged script; gh.device works
// across the process boundary. Bounds are generous (seconds where the limit is 250 ms): they
// catch a wedge (hours), not a slow machine.
#include "actors/actions/sandbox_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>

#include "actors/actions/sandbox_pool.h"
#include "actors/actions/sandbox_wire.h"

namespace gh::actions {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Backtracks for hours in C (no count hook there); 16000 bytes is under max_pattern_subject.
constexpr const char* kWedge = "string.find(string.rep('a', 16000), '.-.-.-.-.-.-b')";
constexpr auto kGenerous = milliseconds(5000);

std::string handler(const std::string& body) { return "function handle(msg)\n" + body + "\nend"; }

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST(SandboxProcessTest, RunsCallsAndAnswersDeviceQuestions) {
  ProcessSandbox sandbox;
  Host host;
  host.device = [](const std::string& id) -> std::optional<DeviceView> {
    if (id != "door1") return std::nullopt;
    return DeviceView{"door1", true, true, "LOCKED", "UNLOCKED", "Front", "lock"};
  };
  auto r = sandbox.run(handler(R"(
    local d = gh.device(msg.args)
    gh.lock(d.id)
    gh.log('seen', d.name)
    return d.reported .. ' ' .. tostring(d.online) .. ' ' .. tostring(gh.device('ghost')))"),
                       Message{"server", "x door1"}, host, {});
  ASSERT_EQ(r.outcome, Outcome::kReplied) << r.error;
  EXPECT_EQ(r.reply, "LOCKED true nil");
  ASSERT_EQ(r.effects.size(), 2u);
  EXPECT_EQ(r.effects[0].describe(), "lock door1");
  EXPECT_EQ(r.effects[1].payload, "seen\tFront");
  EXPECT_GT(r.peak_memory_bytes, 0u);
  // The same child serves the next call; a Lua failure ends that call only.
  const pid_t child = sandbox.pid();
  auto failed = sandbox.run(handler("error('boom')"), Message{"server", "x"}, host, {});
  EXPECT_EQ(failed.outcome, Outcome::kError);
  EXPECT_NE(failed.error.find("boom"), std::string::npos);
  EXPECT_FALSE(failed.not_run);
  EXPECT_EQ(sandbox.pid(), child);
}

TEST(SandboxProcessTest, APatternWedgeEndsAtTheWallClockAndTheNextCallRunsAtOnce) {
  ProcessSandbox sandbox;
  SandboxLimits limits;  // max_call_ms 250
  auto start = Clock::now();
  auto r = sandbox.run(handler(std::string(kWedge) + " return 'never'"), Message{"server", "x"},
                       Host{}, limits);
  EXPECT_LT(since(start), kGenerous);
  EXPECT_EQ(r.outcome, Outcome::kBudgetExceeded);
  EXPECT_EQ(r.error, "wall-clock limit of 250 ms exceeded");
  EXPECT_FALSE(r.not_run);
  EXPECT_TRUE(r.effects.empty());
  EXPECT_EQ(sandbox.pid(), -1) << "the wedged child was not killed";
  start = Clock::now();
  auto next = sandbox.run(handler("return 'next'"), Message{"server", "x"}, Host{}, limits);
  EXPECT_EQ(next.outcome, Outcome::kReplied) << next.error;
  EXPECT_EQ(next.reply, "next");
  EXPECT_LT(since(start), kGenerous);
  // gsub and gmatch and match are the same matcher: the same end.
  for (const char* fn : {"match", "gsub", "gmatch"}) {
    std::string call = std::string("string.") + fn + "(string.rep('a', 16000), '.-.-.-.-.-.-b'" +
                       (std::string(fn) == "gsub" ? ", '')" : ")");
    if (std::string(fn) == "gmatch") call += "()";
    auto wedged = sandbox.run(handler(call), Message{"server", "x"}, Host{}, limits);
    EXPECT_EQ(wedged.outcome, Outcome::kBudgetExceeded) << fn << ": " << wedged.error;
  }
}

TEST(SandboxProcessTest, CheckStopsAWedgingTopLevel) {
  ProcessSandbox sandbox;
  auto start = Clock::now();
  auto status = sandbox.check(std::string(kWedge) + "\nfunction handle() end", {});
  EXPECT_LT(since(start), kGenerous);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "wall-clock limit of 250 ms exceeded");
  EXPECT_TRUE(sandbox.check("function handle() end", {}).is_ok());
  EXPECT_EQ(sandbox.check("x = ", {}).code(), Code::kInvalidArgument);
  SandboxLimits tiny;
  tiny.max_source_bytes = 4;
  EXPECT_EQ(sandbox.check("function handle() end", tiny).code(), Code::kTooLarge);
}

TEST(SandboxProcessTest, AMissingHelperIsNotTheScriptsFailure) {
  ProcessSandbox sandbox("/nonexistent/gatehouse-lua-sandbox");
  auto r = sandbox.run(handler("return 'x'"), Message{"server", "x"}, Host{}, {});
  EXPECT_TRUE(r.not_run);
  EXPECT_NE(r.error.find("cannot be run"), std::string::npos) << r.error;
  EXPECT_EQ(sandbox.check("function handle() end", {}).code(), Code::kUnavailable);
}

TEST(SandboxProcessTest, AChildThatDiesIsAFailedCallAndTheNextStartsAnew) {
  ProcessSandbox sandbox;
  SandboxLimits limits;
  limits.max_call_ms = 60'000;  // the host below kills the child; no wall clock needed
  Host killer;
  pid_t* child = nullptr;
  pid_t seen = -1;
  child = &seen;
  killer.device = [&sandbox, child](const std::string&) -> std::optional<DeviceView> {
    *child = sandbox.pid();
    ::kill(sandbox.pid(), SIGKILL);
    return std::nullopt;
  };
  auto r =
      sandbox.run(handler("gh.device('d') return 'x'"), Message{"server", "x"}, killer, limits);
  EXPECT_EQ(r.outcome, Outcome::kError);
  EXPECT_EQ(r.error, "the sandbox process ended during the call");
  EXPECT_FALSE(r.not_run);
  auto next = sandbox.run(handler("return 'y'"), Message{"server", "x"}, Host{}, limits);
  EXPECT_EQ(next.reply, "y");
  EXPECT_NE(sandbox.pid(), seen);
}

TEST(SandboxProcessTest, StoppingThePoolDoesNotWaitForAWedgedScript) {
  std::promise<RunResult> first;
  std::atomic<int> not_run{0};
  auto start = Clock::now();
  {
    SandboxPool pool(1, 8);
    SandboxLimits forever;
    forever.max_call_ms = 3'600'000;  // only stopping can end it
    ASSERT_TRUE(pool.submit(handler(kWedge), {"t", "x"}, {}, forever,
                            [&](RunResult r) { first.set_value(std::move(r)); })
                    .is_ok());
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(pool.submit(handler("return 'q'"), {"t", "x"}, {}, forever,
                              [&](RunResult r) { not_run += r.not_run ? 1 : 0; })
                      .is_ok());
    std::this_thread::sleep_for(milliseconds(300));  // let the wedge start (not required)
  }
  EXPECT_LT(since(start), kGenerous);
  auto r = first.get_future().get();
  EXPECT_TRUE(r.not_run) << r.error;
  EXPECT_EQ(r.error, "the action sandbox is stopping");
  EXPECT_EQ(not_run.load(), 3);
}

TEST(SandboxProcessTest, PoolThreadIsFreeAfterAWedge) {
  SandboxPool pool(1, 8);
  std::promise<RunResult> wedged, next;
  ASSERT_TRUE(pool.submit(handler(kWedge), {"t", "x"}, {}, {},
                          [&](RunResult r) { wedged.set_value(std::move(r)); })
                  .is_ok());
  ASSERT_TRUE(pool.submit(handler("return 'free'"), {"t", "x"}, {}, {},
                          [&](RunResult r) { next.set_value(std::move(r)); })
                  .is_ok());
  auto f = next.get_future();
  ASSERT_EQ(f.wait_for(kGenerous), std::future_status::ready);
  EXPECT_EQ(wedged.get_future().get().outcome, Outcome::kBudgetExceeded);
  EXPECT_EQ(f.get().reply, "free");
}

TEST(SandboxWireTest, MessagesRoundTrip) {
  SandboxLimits limits;
  limits.max_call_ms = 77;
  limits.max_instructions = 1234;
  auto frame = wire::encode_run("src", Message{"top", std::string("a\0b", 3)}, limits);
  auto request = wire::decode_request(std::string_view(frame).substr(4));
  ASSERT_TRUE(request.is_ok());
  EXPECT_FALSE(request->check);
  EXPECT_EQ(request->message.payload, std::string("a\0b", 3));
  EXPECT_EQ(request->limits.max_call_ms, 77u);
  EXPECT_EQ(request->limits.max_instructions, 1234u);
  RunResult result;
  result.outcome = Outcome::kReplied;
  result.reply = "hi";
  result.effects.push_back(Effect{Effect::Kind::kPublish, "a/b", "text"});
  frame = wire::encode_result(result);
  auto reply = wire::decode_reply(std::string_view(frame).substr(4));
  ASSERT_TRUE(reply.is_ok());
  ASSERT_TRUE(reply->result.has_value());
  EXPECT_EQ(reply->result->reply, "hi");
  EXPECT_EQ(reply->result->effects.at(0).describe(), "publish actions/out/a/b (4 bytes)");
  EXPECT_FALSE(wire::decode_reply("\x03\x00\x00\x00zzz").is_ok());
  EXPECT_FALSE(wire::decode_request("").is_ok());
}

}  // namespace
}  // namespace gh::actions
