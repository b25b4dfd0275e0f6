#include "actors/actions/action_log.h"

#include <sodium.h>

#include "events/system_writer.h"

namespace gh::actions {

Result<State> load_table(const Journal& journal) {
  auto events = journal.read_stream(std::string(kStream), 1);
  if (!events) return events.status();
  return replay(*events);
}

namespace {

// The newest `limit` events of action `name`'s runs stream (0: all), oldest first.
Result<std::vector<Envelope>> newest_runs(const Journal& journal, const std::string& name,
                                          size_t limit) {
  GH_RETURN_IF_ERROR(validate_name(name));
  const std::string stream = runs_stream(name);
  auto last = journal.stream_version(stream);
  if (!last) return last.status();
  uint64_t from = 1;
  if (limit > 0 && *last > limit) from = *last - limit + 1;
  return journal.read_stream(stream, from);
}

// Reads `run`'s excerpts from their blob when they are kept apart; a deleted blob (the run is
// older than the retention) leaves them empty and marks the run. kDataLoss when the blob is
// there but does not parse; the journal's error otherwise.
Status read_excerpts(const Journal& journal, Invocation& run) {
  if (run.excerpts_blob.empty()) return Status::ok();
  auto bytes = journal.read_blob(run.excerpts_blob);
  if (!bytes) {
    if (bytes.status().code() != Code::kNotFound) return bytes.status();
    run.excerpts_dropped = true;
    return Status::ok();
  }
  if (!restore_excerpts(run, *bytes))
    return data_loss("the excerpts of " + runs_stream(run.name) + " version " +
                     std::to_string(run.version) + " (" + run.excerpts_blob + ") do not decode");
  return Status::ok();
}

}  // namespace

Result<std::vector<Invocation>> load_invocations(const Journal& journal, const std::string& name,
                                                 size_t limit) {
  auto events = newest_runs(journal, name, limit);
  if (!events) return events.status();
  std::vector<Invocation> out;
  for (const auto& e : *events) {
    if (auto run = run_of(e)) {
      GH_RETURN_IF_ERROR(read_excerpts(journal, *run));
      out.push_back(std::move(*run));
    }
  }
  return out;
}

Result<Invocations> load_recent_runs(const Journal& journal, const std::string& name) {
  auto events = newest_runs(journal, name, Invocations::kRecent);
  if (!events) return events.status();
  Invocations runs;
  for (const auto& e : *events) apply(runs, e);
  for (auto& run : runs.recent) GH_RETURN_IF_ERROR(read_excerpts(journal, run));
  return runs;
}

Status append_to_table(Journal& journal, State& state, std::vector<Envelope> events,
                       const events::Cause& by) {
  if (events.empty()) return Status::ok();
  auto result = write_and_wait(journal, kStream, state.version, by, std::move(events));
  if (!result) return result.status();
  for (const auto& e : result->events) apply(state, e);
  return Status::ok();
}

std::string sha256_of(const std::string& text) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return digest;
}

}  // namespace gh::actions
