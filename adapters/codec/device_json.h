// JSON views of the device model for the wire: the retained MQTT status topic and the HTTP
// device routes share them, so both speak the same shapes (docs/protocol.md). Times are
// ISO-8601 UTC with milliseconds, or null when not set; enums are their upper-case names
// ("LOCKED", "LOCK"), command statuses lower case ("confirmed"). Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "actors/device/device_alerts.h"
#include "actors/device/device_audit.h"
#include "actors/device/device_model.h"
#include "actors/device/device_service.h"
#include "events/event.pb.h"

namespace gh::codec {

// {id, registered, provisioned, type, name, firmware, registered_at, online, last_seen,
//  desired, reported, version, updated_at, pending (command or null), strangers_seen,
//  last_stranger (stranger or null), unexpected (unexpected report or null, until a
//  confirmed command or a report of the desired state explains it), pictures_kept,
//  unreviewed_alerts (how many stranger alerts nobody reviewed yet), drifting (reported has
//  differed from desired for longer than the command timeout), drift_since (when reported
//  stopped matching desired, while drifting; else null), removed (an operator removed it)}
nlohmann::json to_json(const device::State& state);

// {command_id, action, status, requested_by {kind,name,channel}, requested_at, sent_at,
//  finished_at, timeout_ms, reason (string or null)}
nlohmann::json to_json(const device::CommandRecord& command);

// Commands: {kind: "command", the command's fields, requested_version}.
// Unexpected reports: {kind: "unexpected", reported, desired, at, version}.
nlohmann::json to_json(const device::AuditEntry& entry);

// {reported, desired, at, version}: a report no command explained.
nlohmann::json to_json(const device::UnexpectedReport& report);

// {device, drifting (false: the drift ended), desired, reported, since (when reported stopped
//  matching desired; null when it ended), timeout_ms, at, time (= at), version}
nlohmann::json to_json(std::string_view device_id, const device::DriftChange& change);

// {picture_id, alert_id, content_type, size_bytes, seen_at}
nlohmann::json to_json(const device::Stranger& stranger);

// {device, device_name, alert_id, picture_id (null once dropped), content_type, size_bytes,
//  seen_at, version, reviewed, reviewed_by (cause or null), reviewed_at (or null)}
nlohmann::json to_json(const device::Alert& alert, std::string_view device_name);

// {version, at, event ("LockCommandRequested"), summary ("LOCK requested"), cause}
nlohmann::json to_json(const device::TimelineEntry& entry);

// {kind: "user"|"device"|"api_token"|"system"|"operator"|"action"|"provisioning_key"|
//  "unspecified", name, channel}
nlohmann::json to_json(const events::Cause& cause);

}  // namespace gh::codec
