// What the MQTT action table calls to run an installed scripted action. No CAF in it: the
// adapter stays cheap to compile. The implementation (the action runner) looks the action up
// in the table, runs it in the sandbox on the sandbox's threads, records the invocation
// durably, carries out its effects and answers.
// Thread-safety: all methods are safe from any thread; `done` runs on a sandbox or actor
// thread and must not block.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/actions/action_model.h"
#include "events/event.pb.h"
#include "events/status.h"

namespace gh::actions {

class ActionService {
 public:
  virtual ~ActionService() = default;

  // True when a scripted action named `name` is installed (enabled or disabled: a disabled
  // one is answered by invoke() with kFailedPrecondition, saying why).
  virtual bool has(const std::string& name) = 0;

  // Runs action `name` for the message `payload` received on `topic`. Answers the reply
  // (nullopt: handle() returned nothing), or kNotFound (no such action), kFailedPrecondition
  // (disabled), kTooLarge (the payload is over actions.max-input: refused before the script,
  // not recorded, not a failure), kUnavailable (too many calls waiting, or stopping), or the
  // script's failure (kInternal for a Lua error, kTimeout for an instruction budget or
  // wall-clock overrun, kTooLarge for the memory cap), with its message.
  virtual void invoke(const std::string& name, const std::string& topic, const std::string& payload,
                      std::function<void(Result<std::optional<std::string>>)> done) = 0;
};

// What operators see and change of the table while the server runs (HTTP routes, remote
// install). Changes block until durable and reads of the runs read the journal: call from a
// thread that may block, never an actor's.
class ActionAdmin {
 public:
  virtual ~ActionAdmin() = default;
  // The table as it is now (installed actions, enabled or not, with their sources).
  virtual State table() const = 0;
  // The recorded invocations of `name`, oldest first, at most the newest `limit` (0: all);
  // kInvalidArgument for a bad name, an empty list for an action never called.
  virtual Result<std::vector<Invocation>> runs(const std::string& name, size_t limit) const = 0;
  // Checks `source` in the sandbox, then records ActionInstalled caused by `by`:
  // kInvalidArgument (bad name, script refused), kTooLarge, kAlreadyExists (without replace).
  virtual Result<Action> install(const std::string& name, const std::string& source, bool replace,
                                 const events::Cause& by) = 0;
  // Disable, enable, remove: kNotFound for an unknown name.
  virtual Status change(const Command& command, const events::Cause& by) = 0;
};

}  // namespace gh::actions
