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
        heard_[door] = online;
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
    case events::Envelope::kStrangerSeen:
      log::info("devices", "stranger seen",
                {{"door", door}, {"picture", e.stranger_seen().picture_id()}});
      break;
    default:
      break;
  }
}

std::vector<std::pair<std::string, double>> DeviceActivity::metrics() const {
  std::lock_guard lock(mu_);
  uint64_t online = 0;
  for (const auto& [door, is_online] : heard_) online += is_online ? 1 : 0;
  const uint64_t heard = heard_.size();
  const uint64_t unknown = registered_ > heard ? registered_ - heard : 0;
  return {
      {"gatehouse_device_command_outcomes_total{result=\"confirmed\"}", double(confirmed_)},
      {"gatehouse_device_command_outcomes_total{result=\"failed\"}", double(failed_)},
      {"gatehouse_device_command_outcomes_total{result=\"timed_out\"}", double(timed_out_)},
      {"gatehouse_doors{presence=\"online\"}", double(online)},
      {"gatehouse_doors{presence=\"offline\"}", double(heard - online)},
      {"gatehouse_doors{presence=\"unknown\"}", double(unknown)},
  };
}

}  // namespace gh::server
