#include "actors/device/device_alerts.h"

#include <algorithm>
#include <tuple>

namespace gh::device {

std::vector<Alert> alerts_of(std::string_view device_id, const std::vector<Envelope>& events) {
  std::vector<Alert> alerts;
  auto find = [&](std::string_view alert_id) -> Alert* {
    for (auto it = alerts.rbegin(); it != alerts.rend(); ++it)
      if (it->alert_id == alert_id) return &*it;
    return nullptr;
  };
  for (const auto& e : events) {
    if (e.has_stranger_seen()) {
      const auto& b = e.stranger_seen();
      Alert alert;
      alert.device_id = std::string(device_id);
      alert.alert_id = b.alert_id();
      alert.picture_id = b.picture_id();
      alert.content_type = b.content_type();
      alert.size_bytes = b.size_bytes();
      alert.seen_at_ms = e.time_unix_ms();
      alert.version = e.version();
      alert.position = e.position();
      alerts.push_back(std::move(alert));
    } else if (e.has_stranger_alert_reviewed()) {
      if (Alert* alert = find(e.stranger_alert_reviewed().alert_id()); alert && !alert->reviewed) {
        alert->reviewed = true;
        alert->reviewed_by = e.cause();
        alert->reviewed_at_ms = e.time_unix_ms();
      }
    } else if (e.has_stranger_pictures_dropped()) {
      const auto& ids = e.stranger_pictures_dropped().picture_ids();
      for (auto& alert : alerts)
        if (std::find(ids.begin(), ids.end(), alert.picture_id) != ids.end())
          alert.picture_kept = false;
    }
  }
  return alerts;
}

bool matches(const Alert& alert, const AlertFilter& filter) {
  if (filter.reviewed == AlertFilter::Reviewed::kOnly && !alert.reviewed) return false;
  if (filter.reviewed == AlertFilter::Reviewed::kNot && alert.reviewed) return false;
  if (filter.since_ms != 0 && alert.seen_at_ms < filter.since_ms) return false;
  if (filter.until_ms != 0 && alert.seen_at_ms >= filter.until_ms) return false;
  return true;
}

bool newer_first(const Alert& a, const Alert& b) {
  return std::tie(b.seen_at_ms, b.position) < std::tie(a.seen_at_ms, a.position);
}

namespace {

std::string name_of(LockState state) { return std::string(lock_state_name(state)); }

// The event type's name and a sentence for people; empty name: not a device event.
std::pair<std::string, std::string> describe(const Envelope& e) {
  switch (e.event_case()) {
    case Envelope::kDeviceRegistered:
      return {"DeviceRegistered",
              e.device_registered().provisioned() ? "provisioned" : "registered by its own hello"};
    case Envelope::kDeviceInfoChanged:
      return {"DeviceInfoChanged", "name, type or firmware changed"};
    case Envelope::kDeviceCameOnline:
      return {"DeviceCameOnline", "came online"};
    case Envelope::kDeviceWentOffline:
      return {"DeviceWentOffline", "went offline"};
    case Envelope::kLockStateReported:
      return {"LockStateReported", "reported " + name_of(e.lock_state_reported().state())};
    case Envelope::kLockCommandRequested:
      return {"LockCommandRequested",
              std::string(action_name(e.lock_command_requested().action())) + " requested"};
    case Envelope::kLockCommandSent:
      return {"LockCommandSent", "command sent to the door"};
    case Envelope::kLockCommandConfirmed:
      return {"LockCommandConfirmed",
              "command confirmed: " + name_of(e.lock_command_confirmed().state())};
    case Envelope::kLockCommandFailed:
      return {"LockCommandFailed", "command failed: " + e.lock_command_failed().reason()};
    case Envelope::kLockCommandTimedOut:
      return {"LockCommandTimedOut", "command timed out"};
    case Envelope::kStrangerSeen:
      return {"StrangerSeen", "stranger seen"};
    case Envelope::kLockStateUnexpected:
      return {"LockStateUnexpected",
              "unexpected report " + name_of(e.lock_state_unexpected().reported()) + " (desired " +
                  name_of(e.lock_state_unexpected().desired_at_the_time()) + ")"};
    case Envelope::kStrangerPicturesDropped:
      return {"StrangerPicturesDropped",
              std::to_string(e.stranger_pictures_dropped().picture_ids_size()) +
                  " picture(s) dropped (" + e.stranger_pictures_dropped().reason() + ")"};
    case Envelope::kStrangerAlertReviewed:
      return {"StrangerAlertReviewed", "alert reviewed"};
    case Envelope::kDoorDrifted:
      return {"DoorDrifted", "drifting: reports " + name_of(e.door_drifted().reported()) +
                                 ", desired " + name_of(e.door_drifted().desired())};
    case Envelope::kDoorDriftEnded:
      return {"DoorDriftEnded", "drift ended: " + name_of(e.door_drift_ended().state())};
    case Envelope::kDeviceRemoved:
      return {"DeviceRemoved", "removed"};
    default:
      return {"", ""};
  }
}

}  // namespace

std::vector<TimelineEntry> timeline(const std::vector<Envelope>& events) {
  std::vector<TimelineEntry> entries;
  entries.reserve(events.size());
  for (const auto& e : events) {
    auto [event, summary] = describe(e);
    if (event.empty()) {
      // A device event this version does not describe (a newer type): named by its number.
      event = "event " + std::to_string(static_cast<int>(e.event_case()));
    }
    entries.push_back(
        {e.version(), e.time_unix_ms(), std::move(event), std::move(summary), e.cause()});
  }
  return entries;
}

}  // namespace gh::device
