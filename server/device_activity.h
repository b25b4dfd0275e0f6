// What the device streams record, as an operator watches it: every LOCK/UNLOCK command and
// its outcome written to the log (who asked, through which channel), finished commands
// counted by result, and registered doors counted by presence. Fed with every durable event
// (the journal's durable observer), so it shows what is on disk, never what was only tried.
//
// Presence is judged by the devices' own rule (device::presence_of, docs/protocol.md
// "Presence") on what this process saw written: a door is `unknown` until it is heard from
// in the current broker session, whatever an older run recorded.
// Thread-safety: apply() from the journal's writer thread, metrics() from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/device/device_model.h"
#include "events/event.pb.h"

namespace gh::server {

class DeviceActivity {
 public:
  // `registered` doors exist in the log at start (all of them `unknown`).
  explicit DeviceActivity(uint64_t registered) : registered_(registered) {}

  void apply(const events::Envelope& e);

  // gatehouse_device_command_outcomes_total{result=confirmed|failed|timed_out} and
  // gatehouse_doors{presence=online|offline|unknown}, every label present (0 included),
  // gatehouse_doors_drifting and gatehouse_device_drift_alerts_total.
  // Presence as of `now_ms` under `rule` (DeviceSystem::presence_rule()).
  std::vector<std::pair<std::string, double>> metrics(const device::PresenceRule& rule,
                                                      int64_t now_ms) const;

 private:
  mutable std::mutex mu_;
  uint64_t registered_;
  struct Heard {
    bool online = false;
    int64_t last_seen_ms = 0;  // last event the door itself caused; 0: none since this start
  };
  std::unordered_map<std::string, Heard> heard_;  // door id -> what this process saw
  uint64_t confirmed_ = 0, failed_ = 0, timed_out_ = 0;
  std::unordered_set<std::string> drifting_;  // doors drifting, as this process saw it written
  uint64_t drift_alerts_ = 0;                 // DoorDrifted written since this start
};

}  // namespace gh::server
