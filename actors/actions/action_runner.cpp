#include "actors/actions/action_runner.h"

#include <sodium.h>

#include <chrono>
#include <future>

#include "actors/actions/action_log.h"
#include "actors/actions/sandbox_process.h"
#include "events/cause.h"

namespace gh::actions {

namespace {

events::Cause cause_of_action(const std::string& name) {
  return events::make_cause(events::Cause::ACTION, name, "system");
}

events::Cause gatehouse_cause() { return events::system_cause("actions"); }

// The answer of a failed call, as ActionService documents.
Status failure_status(const RunResult& result) {
  switch (result.outcome) {
    case Outcome::kBudgetExceeded:
      return timed_out(result.error);
    case Outcome::kMemoryExceeded:
      return too_large(result.error);
    default:
      return internal_error(result.error);
  }
}

}  // namespace

Result<std::unique_ptr<ActionRunner>> ActionRunner::create(Journal& journal,
                                                           device::DeviceService& devices,
                                                           PublishFn publish,
                                                           ActionRunnerOptions options) {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialize");
  GH_RETURN_IF_ERROR(helper_available(options.sandbox_helper));
  auto table = load_table(journal);
  if (!table) return table.status();
  return std::unique_ptr<ActionRunner>(new ActionRunner(journal, devices, std::move(publish),
                                                        std::move(options), std::move(*table)));
}

ActionRunner::ActionRunner(Journal& journal, device::DeviceService& devices, PublishFn publish,
                           ActionRunnerOptions options, State table)
    : journal_(journal),
      devices_(devices),
      publish_(std::move(publish)),
      options_(std::move(options)),
      table_(std::move(table)),
      pool_(std::make_unique<SandboxPool>(options_.threads, options_.queue,
                                          options_.sandbox_helper)) {}

ActionRunner::~ActionRunner() { pool_.reset(); }

bool ActionRunner::has(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  const Action* action = table_.find(name);
  return action != nullptr;
}

State ActionRunner::table() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_;
}

Result<std::vector<Invocation>> ActionRunner::runs(const std::string& name, size_t limit) const {
  return load_invocations(journal_, name, limit);
}

Status ActionRunner::decide_and_append(const std::function<Result<std::vector<Envelope>>()>& decide,
                                       const events::Cause& by) {
  for (int attempt = 1;; ++attempt) {
    auto events = decide();
    if (!events) return events.status();
    auto status = append_to_table(journal_, table_, std::move(*events), by);
    if (status.code() != Code::kConflict || attempt == kAttempts) return status;
    // Another node changed the table since this one read it: read it again, decide again.
    auto table = load_table(journal_);
    if (!table) return table.status();
    table_ = std::move(*table);
  }
}

void ActionRunner::follow(const Envelope& e) {
  if (e.stream() != kStream) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (e.version() <= table_.version) return;  // held already (this node's own write)
  if (e.version() == table_.version + 1) return apply(table_, e);
  // Versions in between are missing here: the log is the truth.
  if (auto table = load_table(journal_)) table_ = std::move(*table);
}

Result<Action> ActionRunner::install(const std::string& name, const std::string& source,
                                     bool replace, const events::Cause& by) {
  GH_RETURN_IF_ERROR(validate_name(name));
  // On this (HTTP worker) thread, but in a child process killed past the wall-clock limit.
  GH_RETURN_IF_ERROR(ProcessSandbox(options_.sandbox_helper).check(source, options_.limits));
  std::lock_guard<std::mutex> lock(mu_);
  const std::string sha256 = sha256_of(source);
  GH_RETURN_IF_ERROR(decide_and_append(
      [&] {
        return decide(table_, Install{name, source, sha256, replace},
                      Limits{options_.limits.max_source_bytes});
      },
      by));
  return *table_.find(name);
}

Status ActionRunner::change(const Command& command, const events::Cause& by) {
  std::lock_guard<std::mutex> lock(mu_);
  return decide_and_append([&] { return decide(table_, command); }, by);
}

void ActionRunner::invoke(const std::string& name, const std::string& topic,
                          const std::string& payload,
                          std::function<void(Result<std::optional<std::string>>)> done) {
  Action action;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Action* found = table_.find(name);
    if (found == nullptr) return done(not_found("no action named " + name));
    if (!found->enabled)
      return done(
          failed_precondition("action " + name + " is disabled: " + found->disabled_reason));
    action = *found;
  }
  // Refused before any script runs, and not the script's failure: nothing is recorded.
  if (payload.size() > options_.max_input_bytes)
    return done(too_large("the input has " + std::to_string(payload.size()) +
                          " bytes; an action's input is at most " +
                          std::to_string(options_.max_input_bytes) + " bytes"));
  Host host;
  host.device = [this](const std::string& id) -> std::optional<DeviceView> {
    // On a sandbox thread: waiting is allowed there, within the call's own limit (the
    // sandbox process is killed past it anyway).
    auto promise = std::make_shared<std::promise<Result<device::State>>>();
    auto future = promise->get_future();
    devices_.get(id, [promise](Result<device::State> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(std::chrono::milliseconds(options_.limits.max_call_ms)) !=
        std::future_status::ready)
      return std::nullopt;
    auto state = future.get();
    if (!state || !state->registered) return std::nullopt;
    return DeviceView{id,
                      true,
                      state->online,
                      std::string(device::lock_state_name(state->reported)),
                      std::string(device::lock_state_name(state->desired)),
                      state->name,
                      state->type};
  };
  Message message{topic, payload};
  auto source = action.source;
  auto status = pool_->submit(
      std::move(source), message, std::move(host), options_.limits,
      [this, action, message, done](RunResult result) { finish(action, message, result, done); });
  if (!status.is_ok()) done(status);
}

void ActionRunner::finish(const Action& action, const Message& message, RunResult result,
                          const std::function<void(Result<std::optional<std::string>>)>& done) {
  // Not run (stopping, no sandbox process): not the script's doing, so neither recorded nor
  // counted.
  if (result.not_run) return done(unavailable(result.error));
  Invocation run = to_invocation(action, message, result);
  run.input_sha256 = sha256_of(message.payload);
  run = excerpted(std::move(run), options_.runs_excerpt_bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = runs_.find(action.name);
    if (it == runs_.end()) {
      auto loaded = load_recent_runs(journal_, action.name);
      if (!loaded)
        return done(
            unavailable("the invocation could not be recorded: " + loaded.status().message()));
      it = runs_.emplace(action.name, std::move(*loaded)).first;
    }
    Result<AppendResult> appended = unavailable("not recorded");
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
      AppendRequest request;
      request.stream = runs_stream(action.name);
      request.expected_version = it->second.version;
      request.cause = cause_of_action(action.name);
      StoredRun stored = stored_run(run, it->second, options_.runs_retain);
      request.events.push_back(std::move(stored.event));
      request.blobs.push_back({stored.excerpts_key, std::move(stored.excerpts)});
      request.delete_blobs = std::move(stored.drop_keys);
      appended = journal_.append_and_wait(std::move(request));
      if (appended || appended.status().code() != Code::kConflict) break;
      // Another node recorded a run of this action first: read the runs again, then retry.
      auto reloaded = load_recent_runs(journal_, action.name);
      if (!reloaded) break;
      it->second = std::move(*reloaded);
    }
    if (!appended) {
      // Not recorded: nothing is carried out, and the next call re-reads the stream.
      runs_.erase(action.name);
      return done(
          unavailable("the invocation could not be recorded: " + appended.status().message()));
    }
    for (const auto& e : appended->events) apply(it->second, e);
    // The record holds no excerpts (they are in the blob); the failure rule names the error.
    it->second.recent.back().error = run.error;
    const Action* current = table_.find(action.name);
    if (current != nullptr && is_failure(result.outcome)) {
      if (disable_if_failing(*current, it->second, options_.failures)) {
        // Best effort: a failed append leaves it enabled; the next failure tries again.
        (void)decide_and_append(
            [&]() -> Result<std::vector<Envelope>> {
              // Decided again on the table as it is now (first: as `current` was).
              const Action* now = table_.find(action.name);
              auto again =
                  now ? disable_if_failing(*now, it->second, options_.failures) : std::nullopt;
              return again ? std::vector<Envelope>{*again} : std::vector<Envelope>{};
            },
            gatehouse_cause());
      }
    }
  }
  if (is_failure(result.outcome)) return done(failure_status(result));
  for (const auto& effect : result.effects) {
    switch (effect.kind) {
      case Effect::Kind::kLock:
      case Effect::Kind::kUnlock:
        devices_.request_lock(effect.target,
                              effect.kind == Effect::Kind::kLock ? device::LockAction::LOCK
                                                                 : device::LockAction::UNLOCK,
                              "", cause_of_action(action.name),
                              [](Result<device::CommandRecord>) {});
        break;
      case Effect::Kind::kPublish:
        if (publish_) publish_(options_.prefix + "/actions/out/" + effect.target, effect.payload);
        break;
      case Effect::Kind::kLog:
        break;  // recorded with the invocation
    }
  }
  if (result.outcome == Outcome::kReplied) return done(std::optional<std::string>(result.reply));
  done(std::optional<std::string>());
}

}  // namespace gh::actions
