// gatehousectl action install/disable/enable/remove/try: changes to the scripted actions'
// table in "system/actions", and a dry run against their invocations in
// "system/action-runs.<name>" (docs/protocol.md "Scripted actions (Lua)"; reading both back is
// actions/action_log.h). Writes go through the journal and need the store open read-write,
// i.e. the server stopped; `try` works while it runs.
// Scripts run in the sandbox process (actors/actions/sandbox_process.h) under the wall-clock
// limit of `limits`, as in the server: a wedging script ends its call, never gatehousectl.
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "actors/actions/action_log.h"
#include "actors/actions/action_model.h"
#include "actors/actions/lua_sandbox.h"
#include "actors/actions/sandbox_process.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::ctl {

// Checks `source` in the sandbox (compiles, runs its top level, defines handle) and appends
// ActionInstalled with its SHA-256: kInvalidArgument (bad name, script refused, with Lua's
// message), kTooLarge, kAlreadyExists (installed and not `replace`), or the journal's error.
Result<actions::Action> install_action(Journal& journal, const std::string& name,
                                       const std::string& source, bool replace,
                                       const actions::SandboxLimits& limits,
                                       const events::Cause& by);

// Disable, enable or remove: kNotFound for an unknown name. Ok and nothing written when it
// changes nothing (disabling a disabled action).
Status change_action(Journal& journal, const actions::Command& command, const events::Cause& by);

// A dry run: `source` against the recorded inputs of action `name`, device states read from
// the log as they are now. Effects are described, never carried out. Runs recorded since
// issue 9 keep an excerpt of their input: those whose input was cut are tried on the excerpt
// (TryRow::input_cut says so).
struct TryRow {
  actions::Invocation recorded;
  actions::RunResult now;
  bool input_cut = false;  // the recorded input is an excerpt of a larger one
};
Result<std::vector<TryRow>> try_action(const Journal& journal, const std::string& name,
                                       const std::string& source, size_t limit,
                                       const actions::SandboxLimits& limits);

}  // namespace gh::ctl
