// Fuzz target: the Lua sandbox's install check (actors/actions/lua_sandbox.h check()), which
// compiles and runs a script's top level as sent by an operator (HTTP, MQTT remote install,
// gatehousectl), and the decoding of the frames exchanged with the sandbox process
// (sandbox_wire.h). Limits are small so a run stays short; the process boundary of the real
// server (its wall-clock kill) is not under test here. Input: script \0 frame body.
// Promises: never a crash, an escape or an unbounded run; errors are kInvalidArgument or
// kTooLarge; frame decoding fails with an error, never a crash.
//
// Scripts that call Lua's pattern functions are not run: their matcher is C code the
// instruction budget cannot stop (lua_sandbox.h), which the server bounds by killing the
// sandbox process at max_call_ms; in-process they would only report that known limit as
// timeouts.
#include "actors/actions/lua_sandbox.h"
#include "actors/actions/sandbox_wire.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gh::Code;
  const auto f = gh::fuzz::fields(gh::fuzz::as_text(data, size), 2);
  gh::actions::SandboxLimits limits;
  limits.max_source_bytes = 4096;
  limits.max_instructions = 20'000;
  limits.max_memory_bytes = 1 << 20;
  limits.max_pattern_subject = 256;
  const auto script = f[0];
  const bool patterns = script.find("find") != std::string_view::npos ||
                        script.find("match") != std::string_view::npos ||
                        script.find("gsub") != std::string_view::npos;
  if (!patterns) {
    auto status = gh::actions::check(std::string(script), limits);
    gh::fuzz::require_code(status, {Code::kInvalidArgument, Code::kTooLarge}, "check");
  }

  if (f[1].size() >= 4) (void)gh::actions::wire::frame_length(f[1]);
  (void)gh::actions::wire::decode_request(f[1]);
  (void)gh::actions::wire::decode_reply(f[1]);
  (void)gh::actions::wire::decode_device_answer(f[1]);
  return 0;
}
