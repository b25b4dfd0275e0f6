// gatehouse_actions_bench: what running every scripted-action call in the sandbox process
// (actors/actions/sandbox_process.h) costs, next to the in-process call it replaced, in the
// same run. Results and the command live in docs/benchmarks.md "Scripted actions".
//
//   gatehouse_actions_bench [--calls N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "actors/actions/lua_sandbox.h"
#include "actors/actions/sandbox_process.h"

namespace {

using namespace gh::actions;
using Clock = std::chrono::steady_clock;

constexpr const char* kGreet = "function handle(msg) return 'hi ' .. msg.args end";
constexpr const char* kDevice =
    "function handle(msg) local d = gh.device(msg.args) return d.reported end";
constexpr const char* kWedge =
    "function handle(msg) string.find(string.rep('a', 16000), '.-.-.-.-.-.-b') end";

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Stats {
  double p50, p99, max, mean;
};

Stats measure(int n, const std::function<void()>& call) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto start = Clock::now();
    call();
    ms.push_back(ms_since(start));
  }
  double sum = 0;
  for (double m : ms) sum += m;
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back(),
          sum / static_cast<double>(ms.size())};
}

void print(const char* what, int n, const Stats& s) {
  std::printf("%-58s n=%-5d p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  mean %7.3f ms\n", what, n,
              s.p50, s.p99, s.max, s.mean);
}

void expect(const RunResult& r, Outcome outcome) {
  if (r.outcome != outcome) {
    std::fprintf(stderr, "unexpected outcome %s: %s\n",
                 std::string(outcome_name(r.outcome)).c_str(), r.error.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 2000;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--calls") == 0) calls = std::atoi(argv[i + 1]);
  const Message message{"server", "greet bob"};
  Host host;
  host.device = [](const std::string& id) -> std::optional<DeviceView> {
    return DeviceView{id, true, true, "LOCKED", "UNLOCKED", "Front", "lock"};
  };
  const SandboxLimits limits;  // defaults: 250 ms, 1M instructions, 4 MiB

  print("in-process run() (before issue 9), trivial handle", calls,
        measure(calls, [&] { expect(run(kGreet, message, host, limits), Outcome::kReplied); }));
  ProcessSandbox sandbox;
  expect(sandbox.run(kGreet, message, host, limits), Outcome::kReplied);  // start the child
  print("sandbox process, trivial handle", calls, measure(calls, [&] {
          expect(sandbox.run(kGreet, message, host, limits), Outcome::kReplied);
        }));
  const Message door{"server", "night door1"};
  print("in-process run(), handle with one gh.device", calls,
        measure(calls, [&] { expect(run(kDevice, door, host, limits), Outcome::kReplied); }));
  print("sandbox process, handle with one gh.device (2 round trips)", calls, measure(calls, [&] {
          expect(sandbox.run(kDevice, door, host, limits), Outcome::kReplied);
        }));
  const int fresh = std::max(calls / 10, 10);
  print("fresh process (spawn + first call), as after a kill", fresh, measure(fresh, [&] {
          ProcessSandbox once;
          expect(once.run(kGreet, message, host, limits), Outcome::kReplied);
        }));
  print("install check in a fresh process (what PUT /api/actions does)", fresh, measure(fresh, [&] {
          if (!ProcessSandbox().check(kGreet, limits).is_ok()) std::exit(1);
        }));
  const int wedges = 10;
  print("pattern wedge, max-call-ms 250: answered after", wedges, measure(wedges, [&] {
          expect(sandbox.run(kWedge, message, host, limits), Outcome::kBudgetExceeded);
        }));
  return 0;
}
