// Scripted actions as pure models (docs/protocol.md "Scripted actions (Lua)"):
//
// - the table, stream "system/actions": decide(state, command) -> events | rejection for
//   install, disable, enable and remove, and apply(state, event);
// - the invocations of one action, stream "system/action-runs.<name>": the record of each
//   call (input, output, outcome), and the rule that disables an action failing too often.
//
// Invocations live in their own stream per action so that the table stays small (it is
// replayed on every start) however busy an action is. No I/O, no clock, no CAF: time comes
// in the events' envelopes. Thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "events/event.pb.h"
#include "events/status.h"

namespace gh::actions {

using events::Envelope;

inline constexpr std::string_view kStream = "system/actions";
inline constexpr std::string_view kRunsStreamPrefix = "system/action-runs.";
inline constexpr size_t kMaxNameLength = 48;  // kRunsStreamPrefix + name fits a stream id
inline constexpr size_t kHashBytes = 32;      // SHA-256

// The words the built-in action table answers (hand_shake, lock, unlock, find_stranger):
// a scripted action may not take one of them.
const std::vector<std::string>& builtin_names();
bool is_builtin(std::string_view name);

// ok, or kInvalidArgument: a name is [A-Za-z0-9_-]{1,48} (no '.': it ends a stream name;
// it is also an MQTT topic, so no wildcards or '/'), and not a built-in's.
Status validate_name(std::string_view name);

// "system/action-runs.<name>"; the caller has validated `name`.
std::string runs_stream(std::string_view name);

struct Action {
  std::string name;
  std::string source;
  std::string sha256;  // 32 raw bytes
  bool enabled = true;
  std::string disabled_reason;  // why it is disabled; empty while enabled
  uint64_t revision = 0;        // 1 for the first install, +1 per replacing install
  int64_t installed_at_ms = 0;  // time of the latest install
  events::Cause installed_by;
  // Log position of the latest install or enable: failures recorded before it do not count
  // towards disabling, so a fixed or re-enabled action starts with a clean slate. A position,
  // not a time: an enable in the same millisecond as the last failure still starts over.
  uint64_t failures_count_from = 0;
};

struct State {
  std::map<std::string, Action> actions;  // by name; removed actions are erased
  uint64_t version = 0;                   // version of the last applied event
  int64_t updated_at_ms = 0;

  const Action* find(std::string_view name) const;
};

// ---- commands on the table ----
// Install `source` under `name`. Refused when the name exists unless `replace`.
struct Install {
  std::string name;
  std::string source;
  std::string sha256;  // 32 raw bytes of SHA-256(source); the caller hashes
  bool replace = false;
};
struct Disable {
  std::string name;
  std::string reason = "operator";
};
struct Enable {
  std::string name;
};
struct Remove {
  std::string name;
};
using Command = std::variant<Install, Disable, Enable, Remove>;

struct Limits {
  size_t max_source_bytes = 64 * 1024;
};

// The events `command` produces (none when it changes nothing: disabling a disabled action,
// enabling an enabled one), or a rejection: kInvalidArgument (bad name, empty source, hash
// not 32 bytes or not the one of the source is not checked here), kTooLarge (source over
// limits.max_source_bytes), kAlreadyExists (install of an existing name without replace),
// kNotFound (disable, enable or remove of an unknown name). Does not compile the script:
// the caller checks it with the sandbox first.
Result<std::vector<Envelope>> decide(const State& state, const Command& command,
                                     const Limits& limits = {});

// Folds one stored event into `state`. Total: events of other kinds are ignored, and an
// event naming an unknown action (never decided, possible in a hand-made log) is ignored.
void apply(State& state, const Envelope& event);

// The state after `events` from the empty state.
State replay(const std::vector<Envelope>& events);

// ---- invocations ----

enum class Outcome { kReplied, kNoReply, kError, kBudgetExceeded, kMemoryExceeded };
std::string_view outcome_name(Outcome outcome);  // "replied", "no_reply", "error", ...
bool is_failure(Outcome outcome);                // error, budget or memory exceeded

// One call of an action: what came in, what went out, how it ended.
struct Invocation {
  std::string name;
  std::string source_sha256;  // 32 raw bytes
  std::string topic;
  std::string input;  // the payload, or its first bytes (excerpted())
  Outcome outcome = Outcome::kNoReply;
  std::string output;         // the reply, when kReplied, or its first bytes
  std::string error;          // when a failure
  uint64_t input_bytes = 0;   // the whole payload's size
  std::string input_sha256;   // 32 raw bytes of the whole payload's SHA-256; empty if unknown
  uint64_t output_bytes = 0;  // the whole reply's size
  uint64_t instructions = 0;
  uint64_t peak_memory_bytes = 0;
  std::vector<std::string> effects;  // "lock door1", "publish actions/out/x (12 bytes)", ...
  int64_t time_ms = 0;               // from the envelope, when read back
  uint64_t version = 0;              // in the runs stream, when read back
  uint64_t position = 0;             // in the whole log, when read back
  // Read back: where the excerpts (input, output, error, effects) are kept apart (schema v7),
  // the blob's key; empty when they are inline. `excerpts_dropped`: that blob was deleted
  // (the run is older than actions.runs-retain), so input, output, error and effects are empty.
  std::string excerpts_blob;
  bool excerpts_dropped = false;
};

// `run` as it is recorded: input, output, error and each effect cut to their first
// `max_bytes` bytes; input_bytes and output_bytes set to the whole sizes first (when 0).
// What bounds a record's size whatever the call did (actions.runs-excerpt).
Invocation excerpted(Invocation run, size_t max_bytes);

// The ActionInvoked event recording `run` (for runs_stream(run.name)), excerpts inline.
Envelope record(const Invocation& run);
// The run an ActionInvoked event records; nullopt for any other event. Records from before
// the sizes were kept read back with input_bytes and output_bytes of their whole values.
std::optional<Invocation> run_of(const Envelope& event);

// The recent invocations of one action, newest last, at most kRecent.
struct Invocations {
  std::deque<Invocation> recent;
  uint64_t total = 0, failures = 0;
  uint64_t version = 0;
  // Retention (schema v7): excerpt blobs are deleted up to this version; the newest version
  // whose excerpts are inline (no blob to delete at or before it).
  uint64_t excerpts_dropped_through = 0;
  uint64_t newest_inline = 0;

  static constexpr size_t kRecent = 64;
};
void apply(Invocations& runs, const Envelope& event);

// ---- retention of the runs' excerpts (actions.runs-retain) ----

// "action-run/<name>/<version>": the blob of the excerpts of run `version` of `name`.
std::string excerpts_key(std::string_view name, uint64_t version);

// How the next run is written when `runs` is its action's history so far and only the newest
// `retain` runs keep their excerpts (0: all do): the ActionInvoked event (excerpts apart,
// excerpts_dropped_through set), the blob of its excerpts, and the keys of the blobs that
// fall out of the retention with it, to delete in the same write.
struct StoredRun {
  Envelope event;
  std::string excerpts_key;
  std::string excerpts;  // serialized ActionInvoked with input, output, error, effects only
  std::vector<std::string> drop_keys;
};
StoredRun stored_run(const Invocation& run, const Invocations& runs, uint64_t retain);

// Fills `run`'s input, output, error and effects from its excerpts blob `bytes`; false when
// they do not parse.
bool restore_excerpts(Invocation& run, const std::string& bytes);

struct FailurePolicy {
  uint32_t max_failures_in_a_row = 5;  // 0: never disable
};

// The failures in a row among `runs` (newest first) that count for `action`: since its
// latest install or enable.
uint32_t failures_in_a_row(const Action& action, const Invocations& runs);

// After a run was recorded: the ActionDisabled event for the table when `action` is enabled
// and has now failed policy.max_failures_in_a_row times in a row, or nullopt.
std::optional<Envelope> disable_if_failing(const Action& action, const Invocations& runs,
                                           const FailurePolicy& policy);

}  // namespace gh::actions
