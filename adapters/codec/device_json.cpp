#include "adapters/codec/device_json.h"

#include <string>

#include "adapters/codec/iso_time.h"

namespace gh::codec {

using nlohmann::json;

namespace {

std::string kind_name(events::Cause::Kind kind) {
  switch (kind) {
    case events::Cause::USER:
      return "user";
    case events::Cause::DEVICE:
      return "device";
    case events::Cause::API_TOKEN:
      return "api_token";
    case events::Cause::SYSTEM:
      return "system";
    case events::Cause::OPERATOR:
      return "operator";
    case events::Cause::ACTION:
      return "action";
    case events::Cause::PROVISIONING_KEY:
      return "provisioning_key";
    default:
      return "unspecified";
  }
}

json string_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

}  // namespace

json to_json(const events::Cause& cause) {
  return json{
      {"kind", kind_name(cause.kind())}, {"name", cause.name()}, {"channel", cause.channel()}};
}

json to_json(const device::CommandRecord& command) {
  return json{{"command_id", command.id},
              {"action", std::string(device::action_name(command.action))},
              {"status", std::string(device::status_name(command.status))},
              {"requested_by", to_json(command.requested_by)},
              {"requested_at", iso8601_or_null(command.requested_at_ms)},
              {"sent_at", iso8601_or_null(command.sent_at_ms)},
              {"finished_at", iso8601_or_null(command.finished_at_ms)},
              {"timeout_ms", command.timeout_ms},
              {"reason", string_or_null(command.reason)}};
}

json to_json(const device::UnexpectedReport& report) {
  return json{{"reported", std::string(device::lock_state_name(report.reported))},
              {"desired", std::string(device::lock_state_name(report.desired))},
              {"at", iso8601_or_null(report.at_ms)},
              {"version", report.version}};
}

json to_json(const device::AuditEntry& entry) {
  if (entry.kind == device::AuditKind::kUnexpected) {
    json out = to_json(entry.unexpected);
    out["kind"] = "unexpected";
    return out;
  }
  json out = to_json(entry.command);
  out["kind"] = "command";
  out["requested_version"] = entry.requested_version;
  return out;
}

json to_json(const device::Stranger& stranger) {
  return json{{"picture_id", stranger.picture_id},
              {"alert_id", stranger.alert_id},
              {"content_type", stranger.content_type},
              {"size_bytes", stranger.size_bytes},
              {"seen_at", iso8601_or_null(stranger.seen_at_ms)}};
}

json to_json(const device::State& state) {
  return json{
      {"id", state.id},
      {"registered", state.registered},
      {"provisioned", state.provisioned},
      {"type", state.type},
      {"name", state.name},
      {"firmware", state.firmware},
      {"registered_at", iso8601_or_null(state.registered_at_ms)},
      {"online", state.presence == device::Presence::kOnline},
      {"presence", std::string(device::presence_name(state.presence))},
      {"last_seen", iso8601_or_null(state.last_seen_ms)},
      {"desired", std::string(device::lock_state_name(state.desired))},
      {"reported", std::string(device::lock_state_name(state.reported))},
      {"version", state.version},
      {"updated_at", iso8601_or_null(state.updated_at_ms)},
      {"pending", state.pending ? to_json(*state.pending) : json(nullptr)},
      {"strangers_seen", state.strangers_seen},
      {"last_stranger", state.last_stranger ? to_json(*state.last_stranger) : json(nullptr)},
      {"unexpected", state.unexpected ? to_json(*state.unexpected) : json(nullptr)},
      {"pictures_kept", state.pictures.size()},
      {"unreviewed_alerts", state.unreviewed.size()},
      {"drifting", state.drifting},
      {"drift_since", state.drifting ? iso8601_or_null(state.differs_since_ms) : json(nullptr)},
      {"removed", state.removed},
  };
}

json to_json(std::string_view device_id, const device::DriftChange& change) {
  return json{{"device", std::string(device_id)},
              {"drifting", change.drifting},
              {"desired", std::string(device::lock_state_name(change.desired))},
              {"reported", std::string(device::lock_state_name(change.reported))},
              {"since", iso8601_or_null(change.differs_since_ms)},
              {"timeout_ms", change.timeout_ms},
              {"at", iso8601_or_null(change.at_ms)},
              {"time", iso8601_or_null(change.at_ms)},
              {"version", change.version}};
}

json to_json(const device::Alert& alert, std::string_view device_name) {
  return json{{"device", alert.device_id},
              {"device_name", device_name},
              {"alert_id", alert.alert_id},
              {"picture_id", alert.picture_kept ? json(alert.picture_id) : json(nullptr)},
              {"content_type", alert.content_type},
              {"size_bytes", alert.size_bytes},
              {"seen_at", iso8601_or_null(alert.seen_at_ms)},
              {"version", alert.version},
              {"reviewed", alert.reviewed},
              {"reviewed_by", alert.reviewed ? to_json(alert.reviewed_by) : json(nullptr)},
              {"reviewed_at", iso8601_or_null(alert.reviewed_at_ms)}};
}

json to_json(const device::TimelineEntry& entry) {
  return json{{"version", entry.version},
              {"at", iso8601_or_null(entry.at_ms)},
              {"event", entry.event},
              {"summary", entry.summary},
              {"cause", to_json(entry.cause)}};
}

}  // namespace gh::codec
