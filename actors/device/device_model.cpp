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

Envelope drifted(const State& state, int64_t timeout_ms) {
  Envelope e;
  auto* body = e.mutable_door_drifted();
  body->set_desired(state.desired);
  body->set_reported(state.reported);
  body->set_differs_since_ms(state.differs_since_ms);
  body->set_timeout_ms(timeout_ms);
  return e;
}

Envelope drift_ended(LockState state) {
  Envelope e;
  e.mutable_door_drift_ended()->set_state(state);
  return e;
}

Envelope removed(const State& state) {
  Envelope e;
  e.mutable_device_removed()->set_name(state.name);
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
  if (state.removed) return failed_precondition("device " + state.id + " was removed");
  return failed_precondition("device " + state.id + " is not registered");
}

// When a device (re)appears, a command that waited for it goes out.
void send_waiting_command(const State& state, std::vector<Envelope>& out) {
  if (state.pending && state.pending->status == CommandStatus::kRequested)
    out.push_back(sent(state.pending->id));
}

// True when hearing from the door now should be recorded (Heard in device_model.h).
bool is_news(const State& state, const Heard& heard, int64_t now_ms) {
  return !state.online || state.last_seen_ms < heard.epoch_ms ||
         (heard.refresh_after_ms > 0 && now_ms - state.last_seen_ms >= heard.refresh_after_ms);
}

// A door back after being offline, or first heard in this broker session: a command that
// waited for it (requested while it was offline) goes out.
bool is_back(const State& state, const Heard& heard) {
  return !state.online || state.last_seen_ms < heard.epoch_ms;
}

Result<std::vector<Envelope>> decide_hello(const State& state, const Hello& hello, int64_t now_ms) {
  std::vector<Envelope> out;
  if (!state.registered) {
    if (!hello.auto_register)
      return failed_precondition("device " + state.id +
                                 " is not registered and auto-registration is off");
    out.push_back(registered(hello.info, false));
  } else if (auto info = merged(state, hello.info); !same_info(state, info)) {
    out.push_back(info_changed(info));
  }
  if (is_news(state, hello.heard, now_ms)) out.push_back(came_online());
  if (is_back(state, hello.heard)) send_waiting_command(state, out);
  return out;
}

Result<std::vector<Envelope>> decide_availability(const State& state, const SetAvailability& set,
                                                  int64_t now_ms) {
  if (!state.registered) return not_registered(state);
  std::vector<Envelope> out;
  if (!set.online) {
    if (state.online) out.push_back(went_offline());
    return out;
  }
  if (is_news(state, set.heard, now_ms)) out.push_back(came_online());
  if (is_back(state, set.heard)) send_waiting_command(state, out);
  return out;
}

Envelope unexpected(LockState lock_state, LockState desired) {
  Envelope e;
  auto* body = e.mutable_lock_state_unexpected();
  body->set_reported(lock_state);
  body->set_desired_at_the_time(desired);
  return e;
}

// The state a door passes through on its way to the target of `action`.
LockState intermediate_of(LockAction action) {
  return action == events::UNLOCK ? events::UNLOCKING : events::LOCKING;
}

Result<std::vector<Envelope>> decide_report(const State& state, LockState lock_state,
                                            const Heard& heard, int64_t now_ms) {
  if (!state.registered) return not_registered(state);
  if (lock_state == events::LOCK_STATE_UNKNOWN || !events::LockState_IsValid(lock_state))
    return invalid_argument("unknown lock state");
  std::vector<Envelope> out;
  // A report is a sign of life even when the device skipped its availability message.
  if (is_news(state, heard, now_ms)) out.push_back(came_online());
  if (!explained(state, lock_state))
    out.push_back(unexpected(lock_state, state.desired));
  else if (lock_state != state.reported)
    out.push_back(reported(lock_state));
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

Envelope dropped(const std::vector<std::string>& ids, const char* reason) {
  Envelope e;
  auto* body = e.mutable_stranger_pictures_dropped();
  for (const auto& id : ids) body->add_picture_ids(id);
  body->set_reason(reason);
  return e;
}

// Appends the StrangerPicturesDropped events that bring `kept` (oldest first) within
// `limits` at `now_ms`; the last `protect` pictures are never dropped for the quota.
void drop_pictures(std::vector<KeptPicture> kept, const PictureLimits& limits, int64_t now_ms,
                   size_t protect, std::vector<Envelope>& out) {
  std::vector<std::string> old;
  if (limits.retention_ms > 0) {
    while (kept.size() > protect && kept.front().seen_at_ms < now_ms - limits.retention_ms) {
      old.push_back(kept.front().picture_id);
      kept.erase(kept.begin());
    }
  }
  if (!old.empty()) out.push_back(dropped(old, "retention"));
  uint64_t bytes = 0;
  for (const auto& p : kept) bytes += p.size_bytes;
  std::vector<std::string> over;
  auto over_quota = [&] {
    return (limits.max_count > 0 && kept.size() > limits.max_count) ||
           (limits.max_bytes > 0 && bytes > limits.max_bytes);
  };
  while (kept.size() > protect && over_quota()) {
    over.push_back(kept.front().picture_id);
    bytes -= kept.front().size_bytes;
    kept.erase(kept.begin());
  }
  if (!over.empty()) out.push_back(dropped(over, "quota"));
}

// The kept pictures once `picture` is seen: a re-sent picture (same id) moves to the end.
std::vector<KeptPicture> with_picture(const State& state, KeptPicture picture) {
  std::vector<KeptPicture> kept;
  kept.reserve(state.pictures.size() + 1);
  for (const auto& p : state.pictures)
    if (p.picture_id != picture.picture_id) kept.push_back(p);
  kept.push_back(std::move(picture));
  return kept;
}

size_t pictures_in_last_minute(const State& state, int64_t now_ms) {
  return static_cast<size_t>(std::count_if(state.picture_times.begin(), state.picture_times.end(),
                                           [&](int64_t t) { return t > now_ms - 60000; }));
}

Result<std::vector<Envelope>> decide_stranger(const State& state, const RecordStranger& s,
                                              int64_t now_ms) {
  if (!state.registered) return not_registered(state);
  if (s.picture_id.empty() || s.alert_id.empty())
    return invalid_argument("a stranger needs a picture id and an alert id");
  const size_t per_minute = std::min(s.limits.max_per_minute, State::kPictureTimes);
  if (per_minute > 0 && pictures_in_last_minute(state, now_ms) >= per_minute)
    return too_large("rate limit: device " + state.id + " may send at most " +
                     std::to_string(per_minute) + " pictures per minute; this one was not stored");
  Envelope e;
  auto* body = e.mutable_stranger_seen();
  body->set_picture_id(s.picture_id);
  body->set_content_type(s.content_type);
  body->set_size_bytes(s.size_bytes);
  body->set_alert_id(s.alert_id);
  std::vector<Envelope> out{std::move(e)};
  drop_pictures(with_picture(state, {s.picture_id, s.size_bytes, now_ms}), s.limits, now_ms, 1,
                out);
  return out;
}

Result<std::vector<Envelope>> decide_prune(const State& state, const PrunePictures& prune,
                                           int64_t now_ms) {
  std::vector<Envelope> out;
  if (!state.registered) return out;
  drop_pictures(state.pictures, prune.limits, now_ms, 0, out);
  return out;
}

Result<std::vector<Envelope>> decide_review(const State& state, const ReviewAlert& review) {
  if (!state.registered) return not_registered(state);
  const auto& open = state.unreviewed;
  if (std::find(open.begin(), open.end(), review.alert_id) == open.end())
    return not_found("door " + state.id + " has no unreviewed alert " + review.alert_id);
  Envelope e;
  e.mutable_stranger_alert_reviewed()->set_alert_id(review.alert_id);
  return std::vector<Envelope>{std::move(e)};
}

Result<std::vector<Envelope>> decide_check_drift(const State& state, int64_t now_ms) {
  std::vector<Envelope> out;
  auto deadline = drift_deadline(state);
  if (deadline && now_ms >= *deadline)
    out.push_back(drifted(state, latest_command(state)->timeout_ms));
  return out;
}

Result<std::vector<Envelope>> decide_remove(const State& state) {
  if (!state.registered) return not_registered(state);
  std::vector<Envelope> out;
  if (state.pending) out.push_back(failed(state.pending->id, "removed"));
  out.push_back(removed(state));
  return out;
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

namespace {
Result<std::vector<Envelope>> decide_one(const State& state, const Command& command,
                                         int64_t now_ms) {
  return std::visit(
      [&](const auto& c) -> Result<std::vector<Envelope>> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, Hello>) {
          return decide_hello(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, Provision>) {
          if (state.registered) return already_exists("device " + state.id + " is registered");
          return std::vector<Envelope>{registered(c.info, true)};
        } else if constexpr (std::is_same_v<T, SetAvailability>) {
          return decide_availability(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, ReportState>) {
          return decide_report(state, c.state, c.heard, now_ms);
        } else if constexpr (std::is_same_v<T, RequestLock>) {
          return decide_lock(state, c);
        } else if constexpr (std::is_same_v<T, ExpireCommand>) {
          return decide_expire(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, RecordStranger>) {
          return decide_stranger(state, c, now_ms);
        } else if constexpr (std::is_same_v<T, ReviewAlert>) {
          return decide_review(state, c);
        } else if constexpr (std::is_same_v<T, CheckDrift>) {
          return decide_check_drift(state, now_ms);
        } else if constexpr (std::is_same_v<T, RemoveDevice>) {
          return decide_remove(state);
        } else {
          return decide_prune(state, c, now_ms);
        }
      },
      command);
}

// A drifting door whose decided `events` make it report what is desired: the drift ends.
// Only drifting doors pay for the trial copy.
void end_drift(const State& state, std::vector<Envelope>& events) {
  if (!state.drifting || events.empty()) return;
  State after = state;
  for (const auto& e : events) apply(after, e);
  if (after.drifting && !differs(after)) events.push_back(drift_ended(after.reported));
}
}  // namespace

Result<std::vector<Envelope>> decide(const State& state, const Command& command, int64_t now_ms) {
  auto decided = decide_one(state, command, now_ms);
  if (decided) end_drift(state, *decided);
  return decided;
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
      state.removed = false;
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
      if (state.reported == state.desired) state.unexpected.reset();
      break;
    case Envelope::kLockStateUnexpected: {
      const auto& b = e.lock_state_unexpected();
      state.reported = b.reported();
      state.unexpected = UnexpectedReport{b.reported(), b.desired_at_the_time(), at, e.version()};
      break;
    }
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
      if (is_pending(state, e.lock_command_confirmed().command_id())) {
        finish_pending(state, CommandStatus::kConfirmed, at, "");
        state.unexpected.reset();
      }
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
      state.pictures = with_picture(state, {b.picture_id(), b.size_bytes(), at});
      state.picture_times.push_back(at);
      if (state.picture_times.size() > State::kPictureTimes)
        state.picture_times.erase(state.picture_times.begin());
      state.unreviewed.push_back(b.alert_id());
      if (state.unreviewed.size() > State::kUnreviewed)
        state.unreviewed.erase(state.unreviewed.begin());
      break;
    }
    case Envelope::kStrangerAlertReviewed:
      std::erase(state.unreviewed, e.stranger_alert_reviewed().alert_id());
      break;
    case Envelope::kStrangerPicturesDropped: {
      const auto& ids = e.stranger_pictures_dropped().picture_ids();
      std::erase_if(state.pictures, [&](const KeptPicture& p) {
        return std::find(ids.begin(), ids.end(), p.picture_id) != ids.end();
      });
      break;
    }
    case Envelope::kDoorDrifted:
      state.drifting = true;
      break;
    case Envelope::kDoorDriftEnded:
      state.drifting = false;
      break;
    case Envelope::kDeviceRemoved:
      state.registered = false;
      state.removed = true;
      state.removed_at_ms = at;
      state.online = false;
      state.drifting = false;
      state.pending.reset();
      break;
    default:
      return;  // not a device event: ignored, version untouched
  }
  if (!differs(state))
    state.differs_since_ms = 0;
  else if (state.differs_since_ms == 0)
    state.differs_since_ms = at;
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

bool explained(const State& state, LockState report) {
  if (report == state.reported) return true;                      // a repeat
  if (state.reported == events::LOCK_STATE_UNKNOWN) return true;  // the door's first report
  if (const auto& p = state.pending; p && p->status == CommandStatus::kSent) {
    if (report == target_of(p->action) || report == intermediate_of(p->action)) return true;
    if (report == events::JAMMED) return true;  // the command fails
  }
  return state.desired != events::LOCK_STATE_UNKNOWN && report == state.desired;
}

std::vector<std::string> dropped_pictures(const State& after, const std::vector<Envelope>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.event_case() != Envelope::kStrangerPicturesDropped) continue;
    for (const auto& id : e.stranger_pictures_dropped().picture_ids()) {
      bool kept = std::any_of(after.pictures.begin(), after.pictures.end(),
                              [&](const KeptPicture& p) { return p.picture_id == id; });
      if (!kept && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
  }
  return out;
}

std::string picture_key(std::string_view picture_id) {
  return "picture/" + std::string(picture_id);
}

bool differs(const State& state) {
  return state.registered && state.desired != events::LOCK_STATE_UNKNOWN &&
         state.reported != state.desired;
}

const CommandRecord* latest_command(const State& state) {
  if (state.pending) return &*state.pending;
  return state.recent.empty() ? nullptr : &state.recent.back();
}

std::optional<int64_t> drift_deadline(const State& state) {
  const auto* command = latest_command(state);
  if (state.drifting || !differs(state) || state.differs_since_ms == 0 || command == nullptr)
    return std::nullopt;
  return state.differs_since_ms + command->timeout_ms;
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

Presence presence_of(bool online, int64_t last_seen_ms, const PresenceRule& rule, int64_t now_ms) {
  if (last_seen_ms == 0 || last_seen_ms < rule.epoch_ms) return Presence::kUnknown;
  if (!online) return Presence::kOffline;
  if (rule.offline_after_ms > 0 && now_ms - last_seen_ms > rule.offline_after_ms)
    return Presence::kOffline;
  return Presence::kOnline;
}

Presence presence(const State& state, const PresenceRule& rule, int64_t now_ms) {
  return presence_of(state.online, state.last_seen_ms, rule, now_ms);
}

std::string_view presence_name(Presence presence) {
  switch (presence) {
    case Presence::kOnline:
      return "online";
    case Presence::kOffline:
      return "offline";
    case Presence::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace gh::device
