#include "actors/device/device_audit.h"

#include <unordered_map>

namespace gh::device {

std::vector<AuditEntry> audit(const std::vector<Envelope>& events) {
  // Replaying is the one way to know how each command ended: the model already says when
  // a command is confirmed, failed, superseded or timed out.
  std::vector<AuditEntry> entries;
  std::unordered_map<std::string, size_t> index;
  State state;
  auto sync_entry = [&](const std::string& id) {
    auto it = index.find(id);
    if (it == index.end()) return;
    if (const auto* record = state.find_command(id)) entries[it->second].command = *record;
  };
  for (const auto& e : events) {
    std::string before = state.pending ? state.pending->id : "";
    apply(state, e);
    if (e.event_case() == Envelope::kLockCommandRequested) {
      index[e.command_id()] = entries.size();
      AuditEntry entry;
      entry.command = *state.pending;
      entry.requested_version = e.version();
      entries.push_back(std::move(entry));
    }
    if (e.event_case() == Envelope::kLockStateUnexpected && state.unexpected) {
      AuditEntry entry;
      entry.kind = AuditKind::kUnexpected;
      entry.unexpected = *state.unexpected;
      entries.push_back(std::move(entry));
    }
    if (!before.empty()) sync_entry(before);
    if (state.pending) sync_entry(state.pending->id);
  }
  return entries;
}

std::optional<CommandRecord> command_record(const std::vector<Envelope>& events,
                                            std::string_view command_id) {
  for (auto& entry : audit(events)) {
    if (entry.command.id == command_id) return std::move(entry.command);
  }
  return std::nullopt;
}

}  // namespace gh::device
