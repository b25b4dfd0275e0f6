#include "tools/ctl/action_admin.h"

#include "actors/device/device_model.h"
#include "events/stream_name.h"

namespace gh::ctl {

Result<actions::Action> install_action(Journal& journal, const std::string& name,
                                       const std::string& source, bool replace,
                                       const actions::SandboxLimits& limits,
                                       const events::Cause& by) {
  GH_RETURN_IF_ERROR(actions::validate_name(name));
  GH_RETURN_IF_ERROR(actions::ProcessSandbox().check(source, limits));
  auto state = actions::load_table(journal);
  if (!state) return state.status();
  auto events =
      actions::decide(*state, actions::Install{name, source, actions::sha256_of(source), replace},
                      actions::Limits{limits.max_source_bytes});
  if (!events) return events.status();
  GH_RETURN_IF_ERROR(actions::append_to_table(journal, *state, std::move(*events), by));
  return *state->find(name);
}

Status change_action(Journal& journal, const actions::Command& command, const events::Cause& by) {
  auto state = actions::load_table(journal);
  if (!state) return state.status();
  auto events = actions::decide(*state, command);
  if (!events) return events.status();
  return actions::append_to_table(journal, *state, std::move(*events), by);
}

Result<std::vector<TryRow>> try_action(const Journal& journal, const std::string& name,
                                       const std::string& source, size_t limit,
                                       const actions::SandboxLimits& limits) {
  actions::ProcessSandbox sandbox;
  auto status = sandbox.check(source, limits);
  if (!status.is_ok()) return status;
  auto recorded = actions::load_invocations(journal, name, limit);
  if (!recorded) return recorded.status();
  actions::Host host;
  host.device = [&journal](const std::string& id) -> std::optional<actions::DeviceView> {
    auto events = journal.read_stream(device_stream(id), 1);
    if (!events || events->empty()) return std::nullopt;
    auto state = device::replay(id, *events);
    if (!state.registered) return std::nullopt;
    return actions::DeviceView{id,
                               true,
                               state.online,
                               std::string(device::lock_state_name(state.reported)),
                               std::string(device::lock_state_name(state.desired)),
                               state.name,
                               state.type};
  };
  std::vector<TryRow> rows;
  for (auto& run : *recorded) {
    if (run.excerpts_dropped) continue;  // past actions.runs-retain: no input left to try
    TryRow row;
    row.now = sandbox.run(source, actions::Message{run.topic, run.input}, host, limits);
    row.input_cut = run.input_bytes > run.input.size();
    row.recorded = std::move(run);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace gh::ctl
