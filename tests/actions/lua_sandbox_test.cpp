// The Lua sandbox: every escape named in docs/protocol.md "Scripted actions (Lua)" is refused with
// a clear error, endless loops, memory bombs and deep recursion end the call (never the process),
// and the sandbox keeps serving afterwards.
#include "actors/actions/lua_sandbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <lua.hpp>

#include "actors/actions/sandbox_pool.h"

namespace gh::actions {
namespace {

using std::chrono::steady_clock;

RunResult call(const std::string& source, const std::string& payload = "greet bob",
               const SandboxLimits& limits = {}, const Host& host = {}) {
  return run(source, Message{"server", payload}, host, limits);
}

// handle() with `body`.
std::string handler(const std::string& body) { return "function handle(msg)\n" + body + "\nend"; }

void expect_error(const RunResult& r, const std::string& part) {
  EXPECT_EQ(r.outcome, Outcome::kError) << outcome_name(r.outcome) << ": " << r.error;
  EXPECT_NE(r.error.find(part), std::string::npos) << r.error;
  EXPECT_TRUE(r.effects.empty());
}

// A healthy call still works: whatever ran before did not harm the sandbox.
void expect_still_serving() {
  auto r = call(handler("return 'still ' .. msg.args"), "x here");
  EXPECT_EQ(r.outcome, Outcome::kReplied);
  EXPECT_EQ(r.reply, "still here");
}

TEST(LuaSandboxTest, HandleSeesTheMessageAndReplies) {
  auto r = call(handler("return msg.word .. '|' .. msg.args .. '|' .. msg.topic .. '|' .. "
                        "msg.payload"),
                "  greet   bob and  alice ");
  ASSERT_EQ(r.outcome, Outcome::kReplied) << r.error;
  EXPECT_EQ(r.reply, "greet|bob and  alice |server|  greet   bob and  alice ");
  EXPECT_GT(r.peak_memory_bytes, 0u);

  auto number = call(handler("return 6 * 7"));
  ASSERT_EQ(number.outcome, Outcome::kReplied);
  EXPECT_EQ(number.reply, "42");
  EXPECT_EQ(call(handler("return nil")).outcome, Outcome::kNoReply);
  EXPECT_EQ(call(handler("")).outcome, Outcome::kNoReply);
  // Safe libraries are there.
  auto libs =
      call(handler("return table.concat({string.upper('a'), math.floor(2.5), "
                   "utf8.char(72), tostring(math.random(1, 1))}, ',')"));
  ASSERT_EQ(libs.outcome, Outcome::kReplied) << libs.error;
  EXPECT_EQ(libs.reply, "A,2,H,1");
  // Nothing survives between calls: each runs in a fresh state.
  const std::string counter = "n = (n or 0) + 1\n" + handler("return n");
  EXPECT_EQ(call(counter).reply, "1");
  EXPECT_EQ(call(counter).reply, "1");
}

TEST(LuaSandboxTest, SplitWord) {
  EXPECT_EQ(split_word("lock door1"), (std::pair<std::string, std::string>{"lock", "door1"}));
  EXPECT_EQ(split_word("  lock\t  a b "), (std::pair<std::string, std::string>{"lock", "a b "}));
  EXPECT_EQ(split_word("lock"), (std::pair<std::string, std::string>{"lock", ""}));
  EXPECT_EQ(split_word(""), (std::pair<std::string, std::string>{"", ""}));
}

// Every escape: the library or function is simply not there.
TEST(LuaSandboxTest, EscapesAreRefused) {
  const std::vector<std::pair<std::string, std::string>> escapes = {
      {"return io.open('/etc/passwd'):read('a')", "global 'io'"},
      {"return io.popen('id'):read('a')", "global 'io'"},
      {"return os.execute('id')", "global 'os'"},
      {"return os.getenv('HOME')", "global 'os'"},
      {"return os.exit(1)", "global 'os'"},
      {"return require('os')", "global 'require'"},
      {"return package.loadlib('libc.so.6', 'system')", "global 'package'"},
      {"return load('return 1')()", "global 'load'"},
      {"return loadstring('return 1')()", "global 'loadstring'"},
      {"return dofile('/etc/passwd')", "global 'dofile'"},
      {"return loadfile('/etc/passwd')()", "global 'loadfile'"},
      {"return debug.getregistry()", "global 'debug'"},
      {"return debug.sethook()", "global 'debug'"},
      {"return string.dump(handle)", "field 'dump'"},
      {"return ('x').dump(handle)", "field 'dump'"},
      {"return collectgarbage('count')", "global 'collectgarbage'"},
      {"return coroutine.wrap(function() end)", "global 'coroutine'"},
      {"return warn('@on')", "global 'warn'"},
  };
  for (const auto& [body, part] : escapes) {
    SCOPED_TRACE(body);
    auto r = call(handler(body));
    expect_error(r, part);
    EXPECT_NE(r.error.find("nil value"), std::string::npos) << r.error;
  }
  // Neither at the top level of a script.
  auto top = check("local f = io.open('/etc/passwd')\nfunction handle() end", {});
  EXPECT_EQ(top.code(), Code::kInvalidArgument);
  EXPECT_NE(top.message().find("global 'io'"), std::string::npos) << top.message();
  expect_still_serving();
}

// Bytecode is refused: the VM does not verify it, so a crafted chunk could corrupt memory.
TEST(LuaSandboxTest, BinaryChunksAreRefused) {
  lua_State* L = luaL_newstate();
  ASSERT_EQ(luaL_loadstring(L, "function handle() return 'compiled' end"), LUA_OK);
  std::string bytecode;
  lua_dump(
      L,
      [](lua_State*, const void* p, size_t n, void* ud) {
        static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
        return 0;
      },
      &bytecode, 0);
  lua_close(L);
  ASSERT_FALSE(bytecode.empty());
  expect_error(call(bytecode), "binary chunk");
  EXPECT_EQ(check(bytecode, {}).code(), Code::kInvalidArgument);
}

TEST(LuaSandboxTest, EndlessLoopsRunOutOfBudget) {
  SandboxLimits limits;
  limits.max_instructions = 200'000;
  for (const std::string body : {
           "while true do end",
           "local i = 0 repeat i = i + 1 until false",
           // pcall cannot swallow the overrun
           "while true do pcall(function() while true do end end) end",
           "while true do xpcall(function() while true do end end, function(e) return e end) "
           "end",
           "local ok = pcall(function() while true do end end) return 'swallowed'",
       }) {
    SCOPED_TRACE(body);
    const auto start = steady_clock::now();
    auto r = call(handler(body), "x", limits);
    EXPECT_EQ(r.outcome, Outcome::kBudgetExceeded) << r.error;
    EXPECT_EQ(r.error, "instruction budget of 200000 exceeded");
    EXPECT_GE(r.instructions, 200'000u);
    EXPECT_TRUE(r.effects.empty());
    EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  }
  // At the top level, check() refuses it.
  auto top = check("while true do end\nfunction handle() end", limits);
  EXPECT_EQ(top.code(), Code::kInvalidArgument);
  EXPECT_EQ(top.message(), "instruction budget of 200000 exceeded");
  expect_still_serving();
}

TEST(LuaSandboxTest, TheBudgetIsDeterministic) {
  const std::string source = handler("local s = 0 for i = 1, 12345 do s = s + i end return s");
  auto a = call(source), b = call(source);
  ASSERT_EQ(a.outcome, Outcome::kReplied);
  EXPECT_EQ(a.instructions, b.instructions);
  SandboxLimits tight;
  tight.max_instructions = a.instructions;  // exactly what it used: the hook stops it there
  EXPECT_EQ(call(source, "x", tight).outcome, Outcome::kBudgetExceeded);
  tight.max_instructions = a.instructions + 1000;
  EXPECT_EQ(call(source, "x", tight).outcome, Outcome::kReplied);
}

TEST(LuaSandboxTest, MemoryBombsHitTheCap) {
  SandboxLimits limits;
  limits.max_memory_bytes = 1024 * 1024;
  limits.max_instructions = 100'000'000;
  for (const std::string body : {
           "return string.rep('x', 1 << 30)",
           "local t = {} while true do t[#t + 1] = string.rep('x', 100) .. #t end",
           "local s = 'x' while true do s = s .. s end",
           "local t = {} for i = 1, 1e9 do t[i] = i end",
           // pcall cannot swallow it either
           "while true do pcall(string.rep, 'x', 1 << 30) end",
           "local t = {} while true do pcall(function() t[#t + 1] = {} end) end",
       }) {
    SCOPED_TRACE(body);
    auto r = call(handler(body), "x", limits);
    EXPECT_EQ(r.outcome, Outcome::kMemoryExceeded) << r.error;
    EXPECT_EQ(r.error, "memory cap of 1048576 bytes exceeded");
    EXPECT_LE(r.peak_memory_bytes, limits.max_memory_bytes);
  }
  // A cap too small for Lua itself is a failure too, not a crash.
  limits.max_memory_bytes = 512;
  EXPECT_EQ(call(handler("return 1"), "x", limits).outcome, Outcome::kMemoryExceeded);
  expect_still_serving();
}

TEST(LuaSandboxTest, DeepRecursionIsAnError) {
  // Lua recursion: Lua's own "stack overflow" (given room for it), or the caps.
  SandboxLimits roomy;
  roomy.max_memory_bytes = 256 * 1024 * 1024;
  roomy.max_instructions = 1'000'000'000;
  const std::string lua_recursion =
      "local function f(n) return f(n + 1) + 1 end\n" + handler("return f(1)");
  expect_error(call(lua_recursion, "x", roomy), "stack overflow");
  EXPECT_TRUE(is_failure(call(lua_recursion).outcome));
  // Recursion through C (metamethods, gsub callbacks): LUAI_MAXCCALLS, "C stack overflow".
  expect_error(call(handler("local t = setmetatable({}, {__index = function(t, k) return t[k] "
                            "end}) return t.x")),
               "stack overflow");
  expect_error(
      call("local function f(s) return (s:gsub('.', f)) end\n" + handler("return f('ab')")),
      "stack overflow");
  expect_error(call(handler("local t = setmetatable({}, {__tostring = function(t) return "
                            "tostring(t) end}) return tostring(t)")),
               "stack overflow");
  // pcall does not help a stack overflow become anything else.
  auto wrapped = call(handler("local function f() return f() + 1 end local ok, e = pcall(f) "
                              "return tostring(ok) .. ' ' .. e"),
                      "x", roomy);
  ASSERT_EQ(wrapped.outcome, Outcome::kReplied) << wrapped.error;
  EXPECT_NE(wrapped.reply.find("false"), std::string::npos);
  expect_still_serving();
}

// Lua runs finalizers with hooks off: a __gc loop would escape the budget, so there are none.
TEST(LuaSandboxTest, FinalizersAreRefused) {
  const auto start = steady_clock::now();
  expect_error(call("setmetatable({}, {__gc = function() while true do end end})\n" +
                    handler("return 'done'")),
               "__gc metamethods are not allowed");
  expect_error(call(handler("setmetatable({}, {__gc = false}) return 'x'")),
               "__gc metamethods are not allowed");
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  // Other metatables are fine, and a __gc added afterwards marks nothing for finalization.
  auto r =
      call(handler("local mt = {__index = function() return 7 end} "
                   "local t = setmetatable({}, mt) mt.__gc = function() while true do end "
                   "end t = nil return t"));
  EXPECT_EQ(r.outcome, Outcome::kNoReply) << r.error;
  auto idx = call(handler("return setmetatable({}, {__index = function() return 7 end}).x"));
  EXPECT_EQ(idx.reply, "7");
}

TEST(LuaSandboxTest, ErrorsAndBadReturns) {
  expect_error(call(handler("error('boom')")), "action:2: boom");
  expect_error(call(handler("error({})")), "(error object is a table value)");
  expect_error(call(handler("return {}")), "handle must return a string, a number or nothing");
  expect_error(call(handler("return true")), "not a boolean");
  expect_error(call(handler("return nil .. 1")), "attempt to concatenate");
  expect_error(call("function handle(msg"), "expected");
  expect_error(call("x = 1"), "the script defines no function handle(msg)");
  EXPECT_EQ(check("x = 1", {}).message(), "the script defines no function handle(msg)");
  EXPECT_TRUE(check(handler("return 1"), {}).is_ok());
  SandboxLimits limits;
  limits.max_output_bytes = 10;
  expect_error(call(handler("return string.rep('x', 11)"), "x", limits),
               "the reply has 11 bytes; at most 10 are allowed");
  EXPECT_EQ(call(handler("return string.rep('x', 10)"), "x", limits).outcome, Outcome::kReplied);
  expect_still_serving();
}

TEST(LuaSandboxTest, SourceSizeCap) {
  SandboxLimits limits;
  limits.max_source_bytes = 100;
  const std::string big = handler("return '" + std::string(200, 'x') + "'");
  auto status = check(big, limits);
  EXPECT_EQ(status.code(), Code::kTooLarge);
  EXPECT_NE(status.message().find("at most 100"), std::string::npos) << status.message();
  expect_error(call(big, "x", limits), "at most 100 are allowed");
}

TEST(LuaSandboxTest, PatternSubjectsAreCapped) {
  SandboxLimits limits;
  limits.max_pattern_subject = 1000;
  expect_error(call(handler("return string.rep('a', 1001):find('b')"), "x", limits),
               "pattern functions take subjects of at most 1000 bytes");
  expect_error(call(handler("return (string.rep('a', 1001):gsub('a', 'b'))"), "x", limits),
               "at most 1000 bytes");
  auto ok = call(handler("local n = 0 for w in ('a b c'):gmatch('%a') do n = n + 1 end "
                         "return n .. (('abc'):match('b') or '')"),
                 "x", limits);
  ASSERT_EQ(ok.outcome, Outcome::kReplied) << ok.error;
  EXPECT_EQ(ok.reply, "3b");
}

TEST(LuaSandboxTest, HostApiCollectsEffects) {
  Host host;
  host.device = [](const std::string& id) -> std::optional<DeviceView> {
    if (id != "door1") return std::nullopt;
    return DeviceView{"door1", true, true, "LOCKED", "LOCKED", "Front", "lock"};
  };
  auto r = call(handler(R"(
    local d = gh.device('door1')
    if gh.device('nobody') ~= nil then error('found nobody') end
    gh.unlock(d.id)
    gh.lock('door2')
    gh.publish('doors/state', d.reported .. ' ' .. tostring(d.online))
    gh.log('checked', d.name, 1)
    print('also', d.type)
    return d.desired)"),
                "x", {}, host);
  ASSERT_EQ(r.outcome, Outcome::kReplied) << r.error;
  EXPECT_EQ(r.reply, "LOCKED");
  ASSERT_EQ(r.effects.size(), 5u);
  EXPECT_EQ(r.effects[0].kind, Effect::Kind::kUnlock);
  EXPECT_EQ(r.effects[0].describe(), "unlock door1");
  EXPECT_EQ(r.effects[1].describe(), "lock door2");
  EXPECT_EQ(r.effects[2].kind, Effect::Kind::kPublish);
  EXPECT_EQ(r.effects[2].target, "doors/state");
  EXPECT_EQ(r.effects[2].payload, "LOCKED true");
  EXPECT_EQ(r.effects[2].describe(), "publish actions/out/doors/state (11 bytes)");
  EXPECT_EQ(r.effects[3].describe(), "log checked\tFront\t1");
  EXPECT_EQ(r.effects[4].describe(), "log also\tlock");

  Action action;
  action.name = "check";
  action.sha256 = std::string(32, '\x01');
  auto invocation = to_invocation(action, Message{"server", "check door1"}, r);
  EXPECT_EQ(invocation.effects.size(), 5u);
  EXPECT_EQ(invocation.output, "LOCKED");
  EXPECT_EQ(invocation.input, "check door1");
  EXPECT_EQ(invocation.source_sha256, action.sha256);

  // A failing call hands back no effects: nothing half-done.
  auto failed = call(handler("gh.lock('door1') error('later')"));
  EXPECT_EQ(failed.outcome, Outcome::kError);
  EXPECT_TRUE(failed.effects.empty());
  // Bad arguments are errors.
  expect_error(call(handler("gh.lock('bad id!')")), "a device id is");
  expect_error(call(handler("gh.lock()")), "bad argument #1 to 'lock'");
  expect_error(call(handler("gh.device('../x')")), "a device id is");
  expect_error(call(handler("gh.publish('a/+/b', 'x')")), "gh.publish: the topic");
  expect_error(call(handler("gh.publish('a//b', 'x')")), "gh.publish: the topic");
  expect_error(call(handler("gh.publish('#', 'x')")), "gh.publish: the topic");
  expect_error(call(handler("gh.publish('/a', 'x')")), "gh.publish: the topic");
  SandboxLimits limits;
  limits.max_effects = 3;
  expect_error(call(handler("for i = 1, 4 do gh.log(i) end"), "x", limits),
               "more than 3 host calls");
  limits.max_log_bytes = 4;
  auto cut = call(handler("gh.log('abcdefgh')"), "x", limits);
  ASSERT_EQ(cut.effects.size(), 1u);
  EXPECT_EQ(cut.effects[0].payload, "abcd");
  // Without a device reader gh.device answers nil; a throwing one is nil too.
  EXPECT_EQ(call(handler("return tostring(gh.device('door1'))")).reply, "nil");
  Host throwing;
  throwing.device = [](const std::string&) -> std::optional<DeviceView> { throw 1; };
  EXPECT_EQ(call(handler("return tostring(gh.device('door1'))"), "x", {}, throwing).reply, "nil");
}

TEST(LuaSandboxTest, PoolRunsOnItsOwnThreadsWithABoundedQueue) {
  SandboxPool pool(1, 2);
  SandboxLimits slow;  // the device read below waits for the test: no wall clock in the way
  slow.max_call_ms = 60'000;
  std::latch release(1);
  std::promise<void> started;
  Host blocking;
  blocking.device = [&](const std::string&) -> std::optional<DeviceView> {
    started.set_value();
    release.wait();
    return std::nullopt;
  };
  const auto caller = std::this_thread::get_id();
  std::atomic<int> done{0};
  std::atomic<bool> other_thread{true};
  auto count = [&](RunResult r) {
    if (std::this_thread::get_id() == caller) other_thread = false;
    if (r.outcome == Outcome::kReplied) ++done;
  };
  ASSERT_TRUE(
      pool.submit(handler("gh.device('d') return 'a'"), {"t", "a"}, blocking, slow, count).is_ok());
  started.get_future().wait();  // the only thread is busy
  ASSERT_TRUE(pool.submit(handler("return 'b'"), {"t", "b"}, {}, slow, count).is_ok());
  ASSERT_TRUE(pool.submit(handler("return 'c'"), {"t", "c"}, {}, slow, count).is_ok());
  auto full = pool.submit(handler("return 'd'"), {"t", "d"}, {}, slow, count);
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_EQ(pool.queued(), 2u);
  release.count_down();
  for (int i = 0; i < 500 && done.load() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(done.load(), 3);
  EXPECT_TRUE(other_thread.load());
}

}  // namespace
}  // namespace gh::actions
