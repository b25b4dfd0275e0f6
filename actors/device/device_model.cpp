#include "actors/device/device_model.h"

#include <algorithm>
#include <cctype>

namespace gh::device {
namespace {

// Builders keep decide() readable: one line per event it emits.
Envelope registered(const DeviceInfo& info, bool provisioned) {
  Envelope e;
  auto* body = e.mutable_device_registered();
  body->set_type(info.type);
  body->set_name(info.name);
  body->set_firmware(info.firmware);
  body->set_provisioned(provisioned);
  return e;
}

Envelope info_changed(const DeviceInfo& info) {
  Envelope e;
  auto* body = e.mutable_device_info_changed();
  body->set_type(info.type);
  body->set_name(info.name);
  body->set_firmware(info.firmware);
  return e;
}

Envelope came_online() {
  Envelope e;
  e.mutable_device_came_online();
  return e;
}

Envelope went_offline() {
  Envelope e;
  e.mutable_device_went_offline();
  return e;
}

Envelope reported(LockState state) {
  Envelope e;
  e.mutable_lock_state_reported()->set_state(state);
  return e;
}

Envelope requested(LockAction action, int64_t timeout_ms) {
  Envelope e;
  auto* body = e.mutable_lock_command_requested();
  body->set_action(action);
  body->set_timeout_ms(timeout_ms);
  return e;
}

Envelope sent(const std::string& command_id) {
  Envelope e;
  e.mutable_lock_command_sent()->set_command_id(command_id);
  return e;
}

Envelope confirmed(const std::string& command_id, LockState state) {
  Envelope e;
  auto* body = e.mutable_lock_command_confirmed();
  body->set_command_id(command_id);
  body->set_state(state);
  return e;
}

Envelope failed(const std::string& command_id, const std::string& reason) {
  Envelope e;
  auto* body = e.mutable_lock_command_failed();
  body->set_command_id(command_id);
  body->set_reason(reason);
  return e;
}

Envelope timed_out(const std::string& command_id) {
  Envelope e;
  e.mutable_lock_command_timed_out()->set_command_id(command_id);
  return e;
}

bool same_info(const State& state, const DeviceInfo& info) {
  return state.type == info.type && state.name == info.name && state.firmware == info.firmware;
}

// A hello that omits a field keeps the registered value rather than erasing it.
DeviceInfo merged(const State& state, const DeviceInfo& info) {
  return {info.type.empty() ? state.type : info.type, info.name.empty() ? state.name : info.name,
          info.firmware.empty() ? state.firmware : info.firmware};
}

Status not_registered(const State& state) {
  return failed_precondition("device " + state.id + " is not registered");
}

// When a device (re)appears, a command that waited for it goes out.
void send_waiting_command(const State& state, std::vector<Envelope>& out) {
  if (state.pending && state.pending->status == CommandStatus::kRequested)
    out.push_back(sent(state.pending->id));
}

Result<std::vector<Envelope>> decide_hello(const State& state, const Hello& hello) {
  std::vector<Envelope> out;
  if (!state.registered) {
    if (!hello.auto_register)
      return failed_precondition("device " + state.id +
                                 " is not registered and auto-registration is off");
    out.push_back(registered(hello.info, false));
  } else if (auto info = merged(state, hello.info); !same_info(state, info)) {
    out.push_back(info_changed(info));
  }
  if (!state.online) out.push_back(came_online());
  send_waiting_command(state, out);
  return out;
}

Result<std::vector<Envelope>> decide_availability(const State& state, bool online) {
  if (!state.registered) return not_registered(state);
  std::vector<Envelope> out;
  if (online == state.online) return out;
  out.push_back(online ? came_online() : went_offline());
  if (online) send_waiting_command(state, out);
  return out;
}

Result<std::vector<Envelope>> decide_report(const State& state, LockState lock_state) {
  if (!state.registered) return not_registered(state);
  if (lock_state == events::LOCK_STATE_UNKNOWN || !events::LockState_IsValid(lock_state))
    return invalid_argument("unknown lock state");
  std::vector<Envelope> out;
  // A report is a sign of life even when the device skipped its availability message.
  if (!state.online) out.push_back(came_online());
  if (lock_state != state.reported) out.push_back(reported(lock_state));
  if (const auto& p = state.pending; p && p->status == CommandStatus::kSent) {
    if (lock_state == target_of(p->action))
      out.push_back(confirmed(p->id, lock_state));
    else if (lock_state == events::JAMMED)
      out.push_back(failed(p->id, "jammed"));
  }
  return out;
}

Result<std::vector<Envelope>> decide_lock(const State& state, const RequestLock& request) {
  if (!state.registered) return not_registered(state);
  if (request.action != events::LOCK && request.action != events::UNLOCK)
    return invalid_argument("action must be LOCK or UNLOCK");
  if (request.command_id.empty()) return invalid_argument("a command needs an id");
  if (request.timeout_ms <= 0) return invalid_argument("command timeout must be positive");
  std::vector<Envelope> out;
  if (state.find_command(request.command_id)) return out;  // a retry: already known
  if (state.pending) out.push_back(failed(state.pending->id, "superseded"));
  out.push_back(requested(request.action, request.timeout_ms));
  if (state.online) out.push_back(sent(request.command_id));
  return out;
}

Result<std::vector<Envelope>> decide_expire(const State& state, const ExpireCommand& expire,
                                            int64_t now_ms) {
  std::vector<Envelope> out;
  auto deadline = pending_deadline(state);
  if (deadline && state.pending->id == expire.command_id && now_ms >= *deadline)
    out.push_back(timed_out(expire.command_id));
  return out;
}

Result<std::vector<Envelope>> decide_stranger(const State& state, const RecordStranger& s) {
  if (!state.registered) return not_registered(state);
  if (s.picture_id.empty() || s.alert_id.empty())
    return invalid_argument("a stranger needs a picture id and an alert id");
  Envelope e;
  auto* body = e.mutable_stranger_seen();
  body->set_picture_id(s.picture_id);
  body->set_content_type(s.content_type);
  body->set_size_bytes(s.size_bytes);
  body->set_alert_id(s.alert_id);
  return std::vector<Envelope>{std::move(e)};
}

CommandStatus& pending_status(State& state) { return state.pending->status; }

// Moves the pending command to `recent` once it has finished.
void finish_pending(State& state, CommandStatus status, int64_t at_ms, std::string reason) {
  if (!state.pending) return;
  pending_status(state) = status;
  state.pending->finished_at_ms = at_ms;
  state.pending->reason = std::move(reason);
  state.recent.push_back(std::move(*state.pending));
  state.pending.reset();
  if (state.recent.size() > State::kRecent)
    state.recent.erase(state.recent.begin(), state.recent.end() - State::kRecent);
}

bool is_pending(const State& state, const std::string& command_id) {
  return state.pending && state.pending->id == command_id;
}

bool caused_by_device(const Envelope& e) { return e.cause().kind() == events::Cause::DEVICE; }

}  // namespace

const CommandRecord* State::find_command(std::string_view command_id) const {
  if (pending && pending->id == command_id) return &*pending;
  for (const auto& record : recent)
    if (record.id == command_id) return &record;
  return nullptr;
}

Result<std::vector<Envelope>> decide(const State& state, const Command& command, int64_t now_ms) {
  return std::visit(
      [&](const auto& c) -> Result<std::vector<Envelope>> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, Hello>) {
          return decide_hello(state, c);
        } else if constexpr (std::is_same_v<T, Provision>) {
          if (state.registered) return already_exists("device " + state.id + " is registered");
          return std::vector<Envelope>{registered(c.info, true)};
        } else if constexpr (std::is_same_v<T, SetAvailability>) {
          return decide_availability(state, c.online);
        } else if constexpr (std::is_same_v<T, ReportState>) {
          return decide_report(state, c.state);
        } else if constexpr (std::is_same_v<T, RequestLock>) {
          return decide_lock(state, c);
        } else if constexpr (std::is_same_v<T, ExpireCommand>) {
          return decide_expire(state, c, now_ms);
        } else {
          return decide_stranger(state, c);
        }
      },
      command);
}

void apply(State& state, const Envelope& e) {
  const int64_t at = e.time_unix_ms();
  switch (e.event_case()) {
    case Envelope::kDeviceRegistered: {
      const auto& b = e.device_registered();
      state.registered = true;
      state.provisioned = b.provisioned();
      state.type = b.type();
      state.name = b.name();
      state.firmware = b.firmware();
      state.registered_at_ms = at;
      break;
    }
    case Envelope::kDeviceInfoChanged: {
      const auto& b = e.device_info_changed();
      state.type = b.type();
      state.name = b.name();
      state.firmware = b.firmware();
      break;
    }
    case Envelope::kDeviceCameOnline:
      state.online = true;
      break;
    case Envelope::kDeviceWentOffline:
      state.online = false;
      break;
    case Envelope::kLockStateReported:
      state.reported = e.lock_state_reported().state();
      break;
    case Envelope::kLockCommandRequested: {
      const auto& b = e.lock_command_requested();
      CommandRecord record;
      record.id = e.command_id();
      record.action = b.action();
      record.requested_by = e.cause();
      record.requested_at_ms = at;
      record.timeout_ms = b.timeout_ms();
      state.pending = std::move(record);
      state.desired = target_of(b.action());
      break;
    }
    case Envelope::kLockCommandSent:
      if (is_pending(state, e.lock_command_sent().command_id())) {
        pending_status(state) = CommandStatus::kSent;
        state.pending->sent_at_ms = at;
      }
      break;
    case Envelope::kLockCommandConfirmed:
      if (is_pending(state, e.lock_command_confirmed().command_id()))
        finish_pending(state, CommandStatus::kConfirmed, at, "");
      break;
    case Envelope::kLockCommandFailed:
      if (is_pending(state, e.lock_command_failed().command_id()))
        finish_pending(state, CommandStatus::kFailed, at, e.lock_command_failed().reason());
      break;
    case Envelope::kLockCommandTimedOut:
      if (is_pending(state, e.lock_command_timed_out().command_id()))
        finish_pending(state, CommandStatus::kTimedOut, at, "no confirmation in time");
      break;
    case Envelope::kStrangerSeen: {
      const auto& b = e.stranger_seen();
      state.strangers_seen++;
      state.last_stranger =
          Stranger{b.picture_id(), b.alert_id(), b.content_type(), b.size_bytes(), at};
      break;
    }
    default:
      return;  // not a device event: ignored, version untouched
  }
  if (caused_by_device(e)) state.last_seen_ms = at;
  state.version = e.version();
  state.updated_at_ms = at;
}

State replay(std::string_view id, const std::vector<Envelope>& events) {
  State state;
  state.id = std::string(id);
  for (const auto& e : events) apply(state, e);
  return state;
}

std::optional<int64_t> pending_deadline(const State& state) {
  if (!state.pending || state.pending->status != CommandStatus::kSent) return std::nullopt;
  return state.pending->sent_at_ms + state.pending->timeout_ms;
}

LockState target_of(LockAction action) {
  return action == events::UNLOCK ? events::UNLOCKED : events::LOCKED;
}

std::string_view status_name(CommandStatus status) {
  switch (status) {
    case CommandStatus::kRequested:
      return "requested";
    case CommandStatus::kSent:
      return "sent";
    case CommandStatus::kConfirmed:
      return "confirmed";
    case CommandStatus::kFailed:
      return "failed";
    case CommandStatus::kTimedOut:
      return "timed_out";
  }
  return "requested";
}

std::string_view lock_state_name(LockState state) {
  switch (state) {
    case events::LOCKED:
      return "LOCKED";
    case events::UNLOCKED:
      return "UNLOCKED";
    case events::LOCKING:
      return "LOCKING";
    case events::UNLOCKING:
      return "UNLOCKING";
    case events::JAMMED:
      return "JAMMED";
    default:
      return "UNKNOWN";
  }
}

namespace {
std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}
}  // namespace

std::optional<LockState> parse_lock_state(std::string_view text) {
  auto word = upper(text);
  for (auto state :
       {events::LOCKED, events::UNLOCKED, events::LOCKING, events::UNLOCKING, events::JAMMED})
    if (word == lock_state_name(state)) return state;
  return std::nullopt;
}

std::string_view action_name(LockAction action) {
  return action == events::UNLOCK ? "UNLOCK" : "LOCK";
}

std::optional<LockAction> parse_action(std::string_view text) {
  auto word = upper(text);
  if (word == "LOCK") return events::LOCK;
  if (word == "UNLOCK") return events::UNLOCK;
  return std::nullopt;
}

}  // namespace gh::device
