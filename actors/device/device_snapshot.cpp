#include "actors/device/device_snapshot.h"

#include "events/stream_name.h"

namespace gh::device {
namespace {

// DeviceState.device_format written by this version (snapshot.proto).
constexpr uint32_t kDeviceFormat = 1;
// DeviceState.alerts_format written by this version: the unreviewed alerts are kept.
constexpr uint32_t kAlertsFormat = 1;
// DeviceState.drift_format written by this version: drift and removal are kept.
constexpr uint32_t kDriftFormat = 1;

void write_command(const CommandRecord& in, snapshots::CommandRecord* out) {
  out->set_id(in.id);
  out->set_action(in.action);
  out->set_status(static_cast<int32_t>(in.status));
  *out->mutable_requested_by() = in.requested_by;
  out->set_requested_at_ms(in.requested_at_ms);
  out->set_sent_at_ms(in.sent_at_ms);
  out->set_finished_at_ms(in.finished_at_ms);
  out->set_timeout_ms(in.timeout_ms);
  out->set_reason(in.reason);
}

std::optional<CommandRecord> read_command(const snapshots::CommandRecord& in) {
  if (in.status() < 0 || in.status() > static_cast<int32_t>(CommandStatus::kTimedOut))
    return std::nullopt;
  CommandRecord out;
  out.id = in.id();
  out.action = in.action();
  out.status = static_cast<CommandStatus>(in.status());
  out.requested_by = in.requested_by();
  out.requested_at_ms = in.requested_at_ms();
  out.sent_at_ms = in.sent_at_ms();
  out.finished_at_ms = in.finished_at_ms();
  out.timeout_ms = in.timeout_ms();
  out.reason = in.reason();
  return out;
}

}  // namespace

snapshots::Snapshot to_snapshot(const State& state, int64_t now_ms) {
  snapshots::Snapshot snapshot;
  snapshot.set_stream(device_stream(state.id));
  snapshot.set_version(state.version);
  snapshot.set_taken_at_unix_ms(now_ms);
  auto* d = snapshot.mutable_device();
  d->set_id(state.id);
  d->set_registered(state.registered);
  d->set_provisioned(state.provisioned);
  d->set_type(state.type);
  d->set_name(state.name);
  d->set_firmware(state.firmware);
  d->set_registered_at_ms(state.registered_at_ms);
  d->set_online(state.online);
  d->set_last_seen_ms(state.last_seen_ms);
  d->set_desired(state.desired);
  d->set_reported(state.reported);
  if (state.pending) write_command(*state.pending, d->mutable_pending());
  for (const auto& record : state.recent) write_command(record, d->add_recent());
  d->set_strangers_seen(state.strangers_seen);
  if (state.last_stranger) {
    auto* s = d->mutable_last_stranger();
    s->set_picture_id(state.last_stranger->picture_id);
    s->set_alert_id(state.last_stranger->alert_id);
    s->set_content_type(state.last_stranger->content_type);
    s->set_size_bytes(state.last_stranger->size_bytes);
    s->set_seen_at_ms(state.last_stranger->seen_at_ms);
  }
  d->set_version(state.version);
  d->set_updated_at_ms(state.updated_at_ms);
  if (state.unexpected) {
    auto* u = d->mutable_unexpected();
    u->set_reported(state.unexpected->reported);
    u->set_desired(state.unexpected->desired);
    u->set_at_ms(state.unexpected->at_ms);
    u->set_version(state.unexpected->version);
  }
  for (const auto& picture : state.pictures) {
    auto* p = d->add_pictures();
    p->set_picture_id(picture.picture_id);
    p->set_size_bytes(picture.size_bytes);
    p->set_seen_at_ms(picture.seen_at_ms);
  }
  for (int64_t t : state.picture_times) d->add_picture_times(t);
  d->set_device_format(kDeviceFormat);
  for (const auto& alert : state.unreviewed) d->add_unreviewed_alerts(alert);
  d->set_alerts_format(kAlertsFormat);
  d->set_differs_since_ms(state.differs_since_ms);
  d->set_drifting(state.drifting);
  d->set_removed(state.removed);
  d->set_removed_at_ms(state.removed_at_ms);
  d->set_drift_format(kDriftFormat);
  return snapshot;
}

std::optional<State> from_snapshot(const snapshots::Snapshot& snapshot) {
  if (!snapshot.has_device()) return std::nullopt;
  const auto& d = snapshot.device();
  if (d.version() != snapshot.version() || device_stream(d.id()) != snapshot.stream() ||
      d.device_format() != kDeviceFormat || d.alerts_format() != kAlertsFormat ||
      d.drift_format() != kDriftFormat)
    return std::nullopt;
  State state;
  state.id = d.id();
  state.registered = d.registered();
  state.provisioned = d.provisioned();
  state.type = d.type();
  state.name = d.name();
  state.firmware = d.firmware();
  state.registered_at_ms = d.registered_at_ms();
  state.online = d.online();
  state.last_seen_ms = d.last_seen_ms();
  state.desired = d.desired();
  state.reported = d.reported();
  if (d.has_pending()) {
    auto pending = read_command(d.pending());
    if (!pending) return std::nullopt;
    state.pending = std::move(*pending);
  }
  for (const auto& r : d.recent()) {
    auto record = read_command(r);
    if (!record) return std::nullopt;
    state.recent.push_back(std::move(*record));
  }
  state.strangers_seen = d.strangers_seen();
  if (d.has_last_stranger()) {
    const auto& s = d.last_stranger();
    state.last_stranger =
        Stranger{s.picture_id(), s.alert_id(), s.content_type(), s.size_bytes(), s.seen_at_ms()};
  }
  if (d.has_unexpected()) {
    const auto& u = d.unexpected();
    state.unexpected = UnexpectedReport{u.reported(), u.desired(), u.at_ms(), u.version()};
  }
  for (const auto& p : d.pictures())
    state.pictures.push_back({p.picture_id(), p.size_bytes(), p.seen_at_ms()});
  state.picture_times.assign(d.picture_times().begin(), d.picture_times().end());
  state.unreviewed.assign(d.unreviewed_alerts().begin(), d.unreviewed_alerts().end());
  state.differs_since_ms = d.differs_since_ms();
  state.drifting = d.drifting();
  state.removed = d.removed();
  state.removed_at_ms = d.removed_at_ms();
  state.version = d.version();
  state.updated_at_ms = d.updated_at_ms();
  return state;
}

}  // namespace gh::device
