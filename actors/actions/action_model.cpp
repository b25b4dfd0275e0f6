#include "actors/actions/action_model.h"

#include <algorithm>

namespace gh::actions {

namespace {

Envelope named(std::string_view name, auto mutate) {
  Envelope envelope;
  mutate(envelope)->set_name(std::string(name));
  return envelope;
}

events::ActionOutcome to_proto(Outcome outcome) {
  switch (outcome) {
    case Outcome::kReplied:
      return events::ACTION_REPLIED;
    case Outcome::kNoReply:
      return events::ACTION_NO_REPLY;
    case Outcome::kError:
      return events::ACTION_ERROR;
    case Outcome::kBudgetExceeded:
      return events::ACTION_BUDGET_EXCEEDED;
    case Outcome::kMemoryExceeded:
      return events::ACTION_MEMORY_EXCEEDED;
  }
  return events::ACTION_OUTCOME_UNSPECIFIED;
}

Outcome from_proto(events::ActionOutcome outcome) {
  switch (outcome) {
    case events::ACTION_REPLIED:
      return Outcome::kReplied;
    case events::ACTION_NO_REPLY:
      return Outcome::kNoReply;
    case events::ACTION_BUDGET_EXCEEDED:
      return Outcome::kBudgetExceeded;
    case events::ACTION_MEMORY_EXCEEDED:
      return Outcome::kMemoryExceeded;
    default:
      // An unknown outcome from a newer build still counts as a failure, never as success.
      return Outcome::kError;
  }
}

Result<std::vector<Envelope>> decide_install(const State& state, const Install& install,
                                             const Limits& limits) {
  GH_RETURN_IF_ERROR(validate_name(install.name));
  if (install.source.empty()) return invalid_argument("the script is empty");
  if (install.source.size() > limits.max_source_bytes)
    return too_large("the script has " + std::to_string(install.source.size()) +
                     " bytes; at most " + std::to_string(limits.max_source_bytes) + " are allowed");
  if (install.sha256.size() != kHashBytes)
    return invalid_argument("the script's hash must be " + std::to_string(kHashBytes) + " bytes");
  const Action* existing = state.find(install.name);
  if (existing != nullptr && !install.replace)
    return already_exists("action " + install.name + " is installed; replace it or remove it");
  Envelope envelope;
  auto* installed = envelope.mutable_action_installed();
  installed->set_name(install.name);
  installed->set_source(install.source);
  installed->set_sha256(install.sha256);
  return std::vector<Envelope>{std::move(envelope)};
}

}  // namespace

const std::vector<std::string>& builtin_names() {
  static const auto* names =
      new std::vector<std::string>{"hand_shake", "lock", "unlock", "find_stranger"};
  return *names;
}

bool is_builtin(std::string_view name) {
  const auto& names = builtin_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

Status validate_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength;
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  if (!ok)
    return invalid_argument("an action name must be 1-" + std::to_string(kMaxNameLength) +
                            " characters of A-Z a-z 0-9 _ -");
  if (is_builtin(name)) return invalid_argument("'" + std::string(name) + "' is a built-in action");
  return Status::ok();
}

std::string runs_stream(std::string_view name) {
  return std::string(kRunsStreamPrefix) + std::string(name);
}

const Action* State::find(std::string_view name) const {
  auto it = actions.find(std::string(name));
  return it == actions.end() ? nullptr : &it->second;
}

Result<std::vector<Envelope>> decide(const State& state, const Command& command,
                                     const Limits& limits) {
  if (const auto* install = std::get_if<Install>(&command))
    return decide_install(state, *install, limits);
  std::string name;
  std::visit([&](const auto& c) { name = c.name; }, command);
  const Action* action = state.find(name);
  if (action == nullptr) return not_found("no action named " + name);
  std::vector<Envelope> out;
  if (const auto* disable = std::get_if<Disable>(&command)) {
    if (!action->enabled) return out;
    auto envelope = named(name, [](Envelope& e) { return e.mutable_action_disabled(); });
    envelope.mutable_action_disabled()->set_reason(disable->reason.empty() ? "operator"
                                                                           : disable->reason);
    out.push_back(std::move(envelope));
  } else if (std::holds_alternative<Enable>(command)) {
    if (action->enabled) return out;
    out.push_back(named(name, [](Envelope& e) { return e.mutable_action_enabled(); }));
  } else {
    out.push_back(named(name, [](Envelope& e) { return e.mutable_action_removed(); }));
  }
  return out;
}

void apply(State& state, const Envelope& event) {
  switch (event.event_case()) {
    case Envelope::kActionInstalled: {
      const auto& installed = event.action_installed();
      Action& action = state.actions[installed.name()];
      action.name = installed.name();
      action.source = installed.source();
      action.sha256 = installed.sha256();
      action.enabled = true;  // a new script starts enabled, whatever the old one was
      action.disabled_reason.clear();
      action.revision += 1;
      action.installed_at_ms = event.time_unix_ms();
      action.installed_by = event.cause();
      action.failures_count_from = event.position();
      break;
    }
    case Envelope::kActionDisabled: {
      auto it = state.actions.find(event.action_disabled().name());
      if (it == state.actions.end()) return;
      it->second.enabled = false;
      it->second.disabled_reason = event.action_disabled().reason();
      break;
    }
    case Envelope::kActionEnabled: {
      auto it = state.actions.find(event.action_enabled().name());
      if (it == state.actions.end()) return;
      it->second.enabled = true;
      it->second.disabled_reason.clear();
      it->second.failures_count_from = event.position();
      break;
    }
    case Envelope::kActionRemoved:
      if (state.actions.erase(event.action_removed().name()) == 0) return;
      break;
    default:
      return;
  }
  state.version = event.version();
  state.updated_at_ms = event.time_unix_ms();
}

State replay(const std::vector<Envelope>& events) {
  State state;
  for (const auto& event : events) apply(state, event);
  return state;
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kReplied:
      return "replied";
    case Outcome::kNoReply:
      return "no_reply";
    case Outcome::kError:
      return "error";
    case Outcome::kBudgetExceeded:
      return "budget_exceeded";
    case Outcome::kMemoryExceeded:
      return "memory_exceeded";
  }
  return "error";
}

bool is_failure(Outcome outcome) {
  return outcome != Outcome::kReplied && outcome != Outcome::kNoReply;
}

Invocation excerpted(Invocation run, size_t max_bytes) {
  if (run.input_bytes == 0) run.input_bytes = run.input.size();
  if (run.output_bytes == 0) run.output_bytes = run.output.size();
  auto cut = [max_bytes](std::string& text) {
    if (text.size() > max_bytes) text.resize(max_bytes);
  };
  cut(run.input);
  cut(run.output);
  cut(run.error);
  for (auto& effect : run.effects) cut(effect);
  return run;
}

Envelope record(const Invocation& run) {
  Envelope envelope;
  auto* invoked = envelope.mutable_action_invoked();
  invoked->set_name(run.name);
  invoked->set_source_sha256(run.source_sha256);
  invoked->set_topic(run.topic);
  invoked->set_input(run.input);
  invoked->set_outcome(to_proto(run.outcome));
  invoked->set_output(run.output);
  invoked->set_error(run.error);
  invoked->set_instructions(run.instructions);
  invoked->set_peak_memory_bytes(run.peak_memory_bytes);
  for (const auto& effect : run.effects) invoked->add_effects(effect);
  invoked->set_input_bytes(run.input_bytes);
  invoked->set_input_sha256(run.input_sha256);
  invoked->set_output_bytes(run.output_bytes);
  return envelope;
}

std::optional<Invocation> run_of(const Envelope& event) {
  if (!event.has_action_invoked()) return std::nullopt;
  const auto& invoked = event.action_invoked();
  Invocation run;
  run.name = invoked.name();
  run.source_sha256 = invoked.source_sha256();
  run.topic = invoked.topic();
  run.input = invoked.input();
  run.outcome = from_proto(invoked.outcome());
  run.output = invoked.output();
  run.error = invoked.error();
  run.instructions = invoked.instructions();
  run.peak_memory_bytes = invoked.peak_memory_bytes();
  run.effects.assign(invoked.effects().begin(), invoked.effects().end());
  // Before issue 9 the whole input and output were recorded, and their sizes were not.
  run.input_bytes = invoked.input_bytes() != 0 ? invoked.input_bytes() : run.input.size();
  run.input_sha256 = invoked.input_sha256();
  run.output_bytes = invoked.output_bytes() != 0 ? invoked.output_bytes() : run.output.size();
  run.time_ms = event.time_unix_ms();
  run.version = event.version();
  run.position = event.position();
  run.excerpts_blob = invoked.excerpts_blob();
  return run;
}

void apply(Invocations& runs, const Envelope& event) {
  auto run = run_of(event);
  if (!run) return;
  runs.total += 1;
  if (is_failure(run->outcome)) runs.failures += 1;
  if (run->excerpts_blob.empty()) runs.newest_inline = event.version();
  runs.excerpts_dropped_through =
      std::max(runs.excerpts_dropped_through, event.action_invoked().excerpts_dropped_through());
  runs.recent.push_back(std::move(*run));
  while (runs.recent.size() > Invocations::kRecent) runs.recent.pop_front();
  runs.version = event.version();
}

std::string excerpts_key(std::string_view name, uint64_t version) {
  return "action-run/" + std::string(name) + "/" + std::to_string(version);
}

StoredRun stored_run(const Invocation& run, const Invocations& runs, uint64_t retain) {
  const uint64_t version = runs.version + 1;
  StoredRun out;
  out.event = record(run);
  auto* invoked = out.event.mutable_action_invoked();
  events::ActionInvoked excerpts;
  excerpts.set_input(invoked->input());
  excerpts.set_output(invoked->output());
  excerpts.set_error(invoked->error());
  *excerpts.mutable_effects() = invoked->effects();
  excerpts.SerializeToString(&out.excerpts);
  invoked->clear_input();
  invoked->clear_output();
  invoked->clear_error();
  invoked->clear_effects();
  out.excerpts_key = excerpts_key(run.name, version);
  invoked->set_excerpts_blob(out.excerpts_key);
  uint64_t through = runs.excerpts_dropped_through;
  if (retain > 0 && version > retain) {
    const uint64_t now_through = version - retain;
    // Blobs exist only after the newest inline record and after what was dropped already.
    for (uint64_t v = std::max(through, runs.newest_inline) + 1; v <= now_through; ++v)
      out.drop_keys.push_back(excerpts_key(run.name, v));
    through = std::max(through, now_through);
  }
  invoked->set_excerpts_dropped_through(through);
  return out;
}

bool restore_excerpts(Invocation& run, const std::string& bytes) {
  events::ActionInvoked excerpts;
  if (!excerpts.ParseFromString(bytes)) return false;
  run.input = excerpts.input();
  run.output = excerpts.output();
  run.error = excerpts.error();
  run.effects.assign(excerpts.effects().begin(), excerpts.effects().end());
  return true;
}

uint32_t failures_in_a_row(const Action& action, const Invocations& runs) {
  uint32_t count = 0;
  for (auto it = runs.recent.rbegin(); it != runs.recent.rend(); ++it) {
    if (it->position < action.failures_count_from || !is_failure(it->outcome)) break;
    ++count;
  }
  return count;
}

std::optional<Envelope> disable_if_failing(const Action& action, const Invocations& runs,
                                           const FailurePolicy& policy) {
  if (!action.enabled || policy.max_failures_in_a_row == 0) return std::nullopt;
  const uint32_t count = failures_in_a_row(action, runs);
  if (count < policy.max_failures_in_a_row) return std::nullopt;
  std::string reason = "failed " + std::to_string(count) + " calls in a row";
  if (!runs.recent.empty() && !runs.recent.back().error.empty())
    reason += ": " + runs.recent.back().error.substr(0, 200);
  Envelope envelope;
  envelope.mutable_action_disabled()->set_name(action.name);
  envelope.mutable_action_disabled()->set_reason(reason);
  return envelope;
}

}  // namespace gh::actions
