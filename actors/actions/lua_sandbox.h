// The sandbox scripted actions run in: Lua 5.4 with only safe libraries, a deterministic
// instruction budget, a memory cap and a source size cap (docs/protocol.md "Scripted actions
// (Lua)").
//
// A script defines `handle(msg)`, which returns a string (the reply), a number (sent as its
// text) or nothing. `msg` has `topic`, `payload`, `word` (the payload's first word) and
// `args` (the rest, leading blanks removed). The host API is the table `gh`:
//   gh.device(id)          the device's state {id, registered, online, reported, desired,
//                          name, type} or nil; read through Host::device
//   gh.lock(id), gh.unlock(id)   request LOCK/UNLOCK (carried out after a successful call)
//   gh.publish(sub, text)  publish under PREFIX/actions/out/<sub> (after a successful call)
//   gh.log(...), print(...)      a log line
// Effects are collected and handed back with the result; none is carried out by the sandbox,
// and a call that fails hands back none, so a failing script never half-acts.
//
// What is not there: io, os, package/require, load, loadstring, dofile, loadfile, debug,
// string.dump, collectgarbage, coroutine, warn, __gc metamethods (Lua runs finalizers with
// hooks off, beyond the budget); binary chunks are refused. Each call runs in
// a fresh Lua state (nothing survives between calls, so a call's outcome depends only on the
// script, its input and the device states read), under a count hook that stops it after
// `max_instructions` VM instructions and an allocator that refuses memory past
// `max_memory_bytes`. pcall/xpcall cannot swallow those two: once the budget or the cap is
// hit the call ends. Every Lua entry is a protected call: an error, a budget overrun, a
// memory bomb or a stack overflow (Lua's own "stack overflow" and "C stack overflow"
// errors) end that call with an error outcome and never the process.
//
// What the count hook cannot stop: C functions. string.find/match/gmatch/gsub run Lua's
// pattern matcher in C, and a backtracking pattern ('.-.-.-.-.-.-b' on 16 KB) runs for hours
// there. So gatehouse never calls run() or check() on a thread of its own: it calls them in a
// child process under a wall-clock limit, `max_call_ms`, killed when it is exceeded
// (sandbox_process.h; SandboxPool in sandbox_pool.h). run() and check() here are what that
// child executes. Pattern subjects are still capped at `max_pattern_subject` bytes.
//
// Thread-safety: run() and check() are reentrant (no shared state), and may block for as
// long as a C function of the script runs: call them in the sandbox process only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/actions/action_model.h"
#include "events/status.h"

namespace gh::actions {

struct SandboxLimits {
  size_t max_source_bytes = 64 * 1024;
  uint64_t max_instructions = 1'000'000;  // VM instructions per call (top level + handle)
  size_t max_memory_bytes = 4 * 1024 * 1024;
  size_t max_output_bytes = 64 * 1024;  // the reply, and each published payload
  size_t max_effects = 32;              // host calls that act (lock, unlock, publish, log)
  size_t max_log_bytes = 1024;          // one log line, cut beyond
  size_t max_pattern_subject = 16 * 1024;
  // Wall-clock limit of one call (top level + handle, or the install check), enforced by the
  // sandbox process (sandbox_process.h), C functions included. Unused by run() itself.
  uint64_t max_call_ms = 250;
};

inline constexpr size_t kMaxErrorBytes = 1024;  // a failure's message, cut beyond

// What a script may see of a device.
struct DeviceView {
  std::string id;
  bool registered = false;
  bool online = false;
  std::string reported, desired;  // "LOCKED", "UNLOCKED", ..., "UNKNOWN"
  std::string name, type;
};

// The host side of the API. device() may block (it runs on a sandbox thread), but should
// bound its wait. Unset: gh.device answers nil.
struct Host {
  std::function<std::optional<DeviceView>(const std::string& id)> device;
};

struct Effect {
  enum class Kind { kLock, kUnlock, kPublish, kLog };
  Kind kind = Kind::kLog;
  std::string target;   // device id (lock, unlock), sub-topic below actions/out/ (publish)
  std::string payload;  // published text, or the log line
  // "lock door1", "publish alerts (12 bytes)", "log said hello": how invocation records
  // name it.
  std::string describe() const;
};

struct Message {
  std::string topic;
  std::string payload;
};

struct RunResult {
  Outcome outcome = Outcome::kNoReply;
  std::string reply;            // when kReplied
  std::string error;            // when a failure
  std::vector<Effect> effects;  // empty unless the call succeeded
  // Counted by the hook every 1000 instructions: a multiple of 1000, 0 for a short call.
  uint64_t instructions = 0;
  uint64_t peak_memory_bytes = 0;
  // The call did not run (the sandbox process could not be started, or it is stopping):
  // `error` says why. Not the script's failure: neither recorded nor counted.
  bool not_run = false;
};

// The first word of `payload` (up to the first blank) and the rest without leading blanks.
std::pair<std::string, std::string> split_word(const std::string& payload);

// Compiles `source` and runs its top level under `limits` (no message): ok, or
// kTooLarge (source over the cap) or kInvalidArgument (binary chunk, syntax error, error or
// overrun at top level, no function `handle`) with Lua's message. For install: a script
// that passes may still fail on some input.
Status check(const std::string& source, const SandboxLimits& limits);

// Runs `handle(msg)` of `source` for `message` in a fresh state. Never throws; every
// failure is in the result.
RunResult run(const std::string& source, const Message& message, const Host& host,
              const SandboxLimits& limits);

// The invocation record of `result` for action `action` (effects described).
Invocation to_invocation(const Action& action, const Message& message, const RunResult& result);

}  // namespace gh::actions
