// The ActionService the MQTT action table calls: runs installed scripted actions in the Lua
// sandbox on the sandbox's own threads, records every invocation durably in
// "system/action-runs.<name>", then carries out the call's effects (LOCK/UNLOCK through the
// DeviceService with the cause {ACTION, name}, publishes under PREFIX/actions/out/) and
// answers. An action that keeps failing is disabled (ActionDisabled, cause SYSTEM).
// Also the operators' way to change the table while the server runs (HTTP routes, remote
// install): install, disable, enable, remove, each an event in "system/actions".
//
// Bounds (issue 9): every call (install check, top level, handle) runs in a sandbox process
// killed past limits.max_call_ms (sandbox_process.h), so no script holds a thread longer; an
// input over max_input_bytes is refused before any script runs (kTooLarge), and refusals are
// neither recorded nor counted as failures; a run is recorded with its input, output, error
// and effects cut to runs_excerpt_bytes, plus the input's size and SHA-256. The excerpts are
// a blob beside the record, and only the newest runs_retain runs of an action keep theirs:
// each record's write deletes the blobs that fall out (the records stay).
//
// No CAF: blocking journal appends and device reads happen on the sandbox threads or on the
// caller's (HTTP worker) thread, never on a CAF scheduler thread; install() holds the caller
// for at most the wall-clock limit (plus starting a sandbox process).
// Cluster mode: other nodes write the same streams. Each write is decided on the state held
// here and appended at its version; on a conflict the stream is read again and the write
// decided again (docs/cluster.md, "The system streams"); follow() brings other nodes'
// changes of the table in.
// Thread-safety: every method is safe from any thread. The journal, the device service and
// `publish` must outlive the runner; the destructor waits for the calls in flight.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/actions/action_model.h"
#include "actors/actions/action_service.h"
#include "actors/actions/lua_sandbox.h"
#include "actors/actions/sandbox_pool.h"
#include "actors/device/device_service.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::actions {

struct ActionRunnerOptions {
  SandboxLimits limits;
  FailurePolicy failures;
  size_t threads = 1;
  size_t queue = 64;
  std::string prefix = "gatehouse";    // gh.publish goes to PREFIX/actions/out/<sub>
  size_t max_input_bytes = 16 * 1024;  // actions.max-input: larger payloads are refused
  size_t runs_excerpt_bytes = 256;     // actions.runs-excerpt: what a run record keeps
  uint64_t runs_retain = 1000;         // actions.runs-retain: runs that keep excerpts; 0: all
  std::string sandbox_helper;          // gatehouse-lua-sandbox; empty: default_helper_path()
};

// Publishes `payload` on `topic` (QoS 1, not retained); must not block.
using PublishFn = std::function<void(const std::string& topic, const std::string& payload)>;

class ActionRunner final : public ActionService, public ActionAdmin {
 public:
  // Replays "system/actions"; the journal's error when it cannot be read, kFailedPrecondition
  // when the sandbox helper (options.sandbox_helper) cannot be run.
  static Result<std::unique_ptr<ActionRunner>> create(Journal& journal,
                                                      device::DeviceService& devices,
                                                      PublishFn publish,
                                                      ActionRunnerOptions options);
  ~ActionRunner() override;

  bool has(const std::string& name) override;
  void invoke(const std::string& name, const std::string& topic, const std::string& payload,
              std::function<void(Result<std::optional<std::string>>)> done) override;

  // Operator changes; block until durable (call from HTTP workers, never from an actor).
  // install: kInvalidArgument (bad name, script refused by the sandbox, top level over the
  // wall-clock limit), kTooLarge, kAlreadyExists (without replace), kUnavailable (no sandbox
  // process could be started); change: kNotFound.
  Result<Action> install(const std::string& name, const std::string& source, bool replace,
                         const events::Cause& by) override;
  Status change(const Command& command, const events::Cause& by) override;
  State table() const override;

  // An event of "system/actions" read from the shared log (cluster mode; other streams are
  // ignored): applied when it is the table's next version, skipped when held already (this
  // node's own write), the table read again when versions are missing. Call from the log
  // follower's thread.
  void follow(const Envelope& e);

  // Writes decided again after a conflict (another node wrote first), at most.
  static constexpr int kAttempts = 5;
  Result<std::vector<Invocation>> runs(const std::string& name, size_t limit) const override;

 private:
  ActionRunner(Journal& journal, device::DeviceService& devices, PublishFn publish,
               ActionRunnerOptions options, State table);
  // Decides on table_ and appends at its version; after a conflict reads the table again and
  // decides again (kAttempts times at most). Caller holds mu_.
  Status decide_and_append(const std::function<Result<std::vector<Envelope>>()>& decide,
                           const events::Cause& by);
  // Records the invocation, applies the failure rule, carries out effects, answers.
  void finish(const Action& action, const Message& message, RunResult result,
              const std::function<void(Result<std::optional<std::string>>)>& done);

  Journal& journal_;
  device::DeviceService& devices_;
  const PublishFn publish_;
  const ActionRunnerOptions options_;
  mutable std::mutex mu_;
  State table_;
  std::map<std::string, Invocations> runs_;  // loaded on an action's first call
  std::unique_ptr<SandboxPool> pool_;        // last: its threads use the members above
};

}  // namespace gh::actions
