// The audit trail of a device's lock commands, derived from its events: who asked, when,
// through which channel, and how it ended; and the reports no command explained (kind
// `unexpected`), in stream order with the commands. Pure; thread-compatible.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "actors/device/device_model.h"

namespace gh::device {

enum class AuditKind { kCommand, kUnexpected };

struct AuditEntry {
  CommandRecord command;           // kCommand: final (or current) record of the command
  uint64_t requested_version = 0;  // kCommand: stream version of the LockCommandRequested
  AuditKind kind = AuditKind::kCommand;
  UnexpectedReport unexpected;  // kUnexpected: what the door reported, and when
};

// One entry per LockCommandRequested (with its outcome) and per LockStateUnexpected in
// `events`, oldest first.
std::vector<AuditEntry> audit(const std::vector<Envelope>& events);

// The record of command `command_id` as `events` tell it: a stream's events from its start
// or from the version the command was requested at. nullopt when none of them requested a
// command with that id.
std::optional<CommandRecord> command_record(const std::vector<Envelope>& events,
                                            std::string_view command_id);

}  // namespace gh::device
