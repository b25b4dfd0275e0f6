// Runs Lua calls in a child process, gatehouse-lua-sandbox, under a wall-clock limit
// (SandboxLimits::max_call_ms) that holds wherever the script is, C functions included.
//
// Why a process: the instruction budget is a Lua count hook, and hooks only fire between VM
// instructions. A C function the script calls runs without them: string.find(('a'):rep(16000),
// '.-.-.-.-.-.-b') backtracks for hours inside Lua's pattern matcher. A thread stuck there
// cannot be stopped from outside (no safe way to cancel or unwind it), so it wedged the only
// sandbox thread, an HTTP worker at install, and shutdown. A child process can be killed
// (SIGKILL) at any instant and nothing of gatehouse is left in an unknown state; the
// alternative, a pattern matcher of our own with a step budget, would only cover the C
// functions we thought of. The cost is a round trip over a socket per call
// (docs/benchmarks.md "Scripted actions") and a fork+exec after each kill.
//
// The child is exec'd (never a bare fork of this multi-threaded process, whose locks it would
// inherit), gets only the socket (fd 3) and stdin/stdout/stderr, dies with the thread that
// started it (PR_SET_PDEATHSIG), and serves one call at a time: the Lua state is fresh per
// call inside it, as before. gh.device questions come back over the socket and are answered
// here with Host::device, so the host API is unchanged.
//
// Outcomes: a call past max_call_ms is killed and answers kBudgetExceeded with "wall-clock
// limit of N ms exceeded" (a script failure); a child that dies or talks nonsense answers
// kError (a script failure: the script made it die). A call that could not be run (helper
// missing, cancelled by shutdown) sets RunResult::not_run and is no script failure.
//
// Thread-safety: a ProcessSandbox is used by one thread at a time (the pool gives each
// thread its own). default_helper_path() is safe from any thread.
#pragma once

#include <sys/types.h>

#include <string>

#include "actors/actions/lua_sandbox.h"
#include "events/status.h"

namespace gh::actions {

// Where gatehouse-lua-sandbox is: next to the running executable when it is there, else
// where the build put it.
std::string default_helper_path();

// ok when `helper` (empty: default_helper_path()) can be executed; kFailedPrecondition
// naming the path otherwise. For a clear error at start rather than at the first call.
Status helper_available(const std::string& helper);

class ProcessSandbox {
 public:
  // `helper`: the path of gatehouse-lua-sandbox; empty: default_helper_path().
  explicit ProcessSandbox(std::string helper = "");
  ~ProcessSandbox();  // kills the child, if any
  ProcessSandbox(const ProcessSandbox&) = delete;
  ProcessSandbox& operator=(const ProcessSandbox&) = delete;

  // run() of lua_sandbox.h in the child, within limits.max_call_ms. `cancel_fd`, when not
  // -1, is a descriptor that becomes readable to stop the call at once (not_run).
  RunResult run(const std::string& source, const Message& message, const Host& host,
                const SandboxLimits& limits, int cancel_fd = -1);

  // check() of lua_sandbox.h in the child, within limits.max_call_ms: ok, kTooLarge,
  // kInvalidArgument (including a top level that overruns the wall-clock limit), or
  // kUnavailable (the helper could not be started).
  Status check(const std::string& source, const SandboxLimits& limits);

  // The child's process id, or -1 when none runs (tests).
  pid_t pid() const { return pid_; }

 private:
  struct Exchange;
  Status spawn();
  // Kills and reaps the child; its wait status, or -1 when there was none.
  int kill_child();
  // Sends `request`, then serves device queries until the final reply, the deadline, the
  // cancel descriptor or the child's end.
  RunResult exchange(const std::string& request, const Host* host, const SandboxLimits& limits,
                     int cancel_fd, std::optional<Status>* checked);

  const std::string helper_;
  pid_t pid_ = -1;
  int fd_ = -1;
};

}  // namespace gh::actions
