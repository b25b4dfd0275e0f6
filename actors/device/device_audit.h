// The audit trail of a device's lock commands, derived from its events: who asked, when,
// through which channel, and how it ended. Pure; thread-compatible.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "actors/device/device_model.h"

namespace gh::device {

struct AuditEntry {
  CommandRecord command;           // final (or current) record of the command
  uint64_t requested_version = 0;  // stream version of the LockCommandRequested event
};

// One entry per LockCommandRequested in `events`, oldest first, with its outcome.
std::vector<AuditEntry> audit(const std::vector<Envelope>& events);

// The record of command `command_id` as `events` tell it: a stream's events from its start
// or from the version the command was requested at. nullopt when none of them requested a
// command with that id.
std::optional<CommandRecord> command_record(const std::vector<Envelope>& events,
                                            std::string_view command_id);

}  // namespace gh::device
