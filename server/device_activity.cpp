#include "server/device_activity.h"

#include "events/log.h"

namespace gh::server {
namespace {

std::string action_name(events::LockAction action) {
  return action == events::LOCK ? "lock" : action == events::UNLOCK ? "unlock" : "unspecified";
}

// Who caused an event: its kind and name ("api_token admin"), never a secret.
std::string by(const events::Cause& cause) {
  std::string kind = events::Cause_Kind_Name(cause.kind());
  for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return cause.name().empty() ? kind : kind + " " + cause.name();
}

}  // namespace

void DeviceActivity::apply(const events::Envelope& e) {
  if (e.stream().rfind("device/", 0) != 0) return;
  const std::string door = e.stream().substr(7);
  if (e.cause().kind() == events::Cause::DEVICE) {
    std::lock_guard lock(mu_);
    heard_[door].last_seen_ms = e.time_unix_ms();
  }
  switch (e.event_case()) {
    case events::Envelope::kDeviceRegistered: {
      std::lock_guard lock(mu_);
      ++registered_;
      break;
    }
    case events::Envelope::kDeviceCameOnline:
    case events::Envelope::kDeviceWentOffline: {
      const bool online = e.event_case() == events::Envelope::kDeviceCameOnline;
      {
        std::lock_guard lock(mu_);
        heard_[door].online = online;
      }
      log::info("devices", online ? "door online" : "door offline", {{"door", door}});
      break;
    }
    case events::Envelope::kLockCommandRequested:
      log::info("devices", "command requested",
                {{"door", door},
                 {"command", e.command_id()},
                 {"action", action_name(e.lock_command_requested().action())},
                 {"by", by(e.cause())},
                 {"via", e.cause().channel()}});
      break;
    case events::Envelope::kLockCommandConfirmed: {
      {
        std::lock_guard lock(mu_);
        ++confirmed_;
      }
      log::info("devices", "command confirmed",
                {{"door", door}, {"command", e.lock_command_confirmed().command_id()}});
      break;
    }
    case events::Envelope::kLockCommandFailed: {
      {
        std::lock_guard lock(mu_);
        ++failed_;
      }
      log::warning("devices", "command failed",
                   {{"door", door},
                    {"command", e.lock_command_failed().command_id()},
                    {"reason", e.lock_command_failed().reason()}});
      break;
    }
    case events::Envelope::kLockCommandTimedOut: {
      {
        std::lock_guard lock(mu_);
        ++timed_out_;
      }
      log::warning("devices", "command timed out",
                   {{"door", door}, {"command", e.lock_command_timed_out().command_id()}});
      break;
    }
    case events::Envelope::kLockStateUnexpected:
      log::warning("devices", "unexpected lock state report", {{"door", door}});
      break;
    case events::Envelope::kDoorDrifted: {
      {
        std::lock_guard lock(mu_);
        drifting_.insert(door);
        ++drift_alerts_;
      }
      const auto& b = e.door_drifted();
      log::warning("devices", "door drifting",
                   {{"door", door},
                    {"desired", std::string(device::lock_state_name(b.desired()))},
                    {"reported", std::string(device::lock_state_name(b.reported()))}});
      break;
    }
    case events::Envelope::kDoorDriftEnded: {
      {
        std::lock_guard lock(mu_);
        drifting_.erase(door);
      }
      log::info("devices", "door drift ended",
                {{"door", door},
                 {"state", std::string(device::lock_state_name(e.door_drift_ended().state()))}});
      break;
    }
    case events::Envelope::kDeviceRemoved: {
      {
        std::lock_guard lock(mu_);
        if (registered_ > 0) --registered_;
        drifting_.erase(door);
        heard_.erase(door);
      }
      log::info("devices", "door removed", {{"door", door}, {"by", by(e.cause())}});
      break;
    }
    case events::Envelope::kStrangerSeen:
      log::info("devices", "stranger seen",
                {{"door", door}, {"picture", e.stranger_seen().picture_id()}});
      break;
    default:
      break;
  }
}

std::vector<std::pair<std::string, double>> DeviceActivity::metrics(
    const device::PresenceRule& rule, int64_t now_ms) const {
  std::lock_guard lock(mu_);
  uint64_t online = 0, offline = 0;
  for (const auto& [door, heard] : heard_) {
    switch (device::presence_of(heard.online, heard.last_seen_ms, rule, now_ms)) {
      case device::Presence::kOnline:
        ++online;
        break;
      case device::Presence::kOffline:
        ++offline;
        break;
      case device::Presence::kUnknown:
        break;
    }
  }
  const uint64_t known = online + offline;
  const uint64_t unknown = registered_ > known ? registered_ - known : 0;
  return {
      {"gatehouse_device_command_outcomes_total{result=\"confirmed\"}", double(confirmed_)},
      {"gatehouse_device_command_outcomes_total{result=\"failed\"}", double(failed_)},
      {"gatehouse_device_command_outcomes_total{result=\"timed_out\"}", double(timed_out_)},
      {"gatehouse_doors{presence=\"online\"}", double(online)},
      {"gatehouse_doors{presence=\"offline\"}", double(offline)},
      {"gatehouse_doors{presence=\"unknown\"}", double(unknown)},
      {"gatehouse_doors_drifting", double(drifting_.size())},
      {"gatehouse_device_drift_alerts_total", double(drift_alerts_)},
  };
}

}  // namespace gh::server
