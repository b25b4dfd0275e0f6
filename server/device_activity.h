// What the device streams record, as an operator watches it: every LOCK/UNLOCK command and
// its outcome written to the log (who asked, through which channel), finished commands
// counted by result, and registered doors counted by presence. Fed with every durable event
// (the journal's durable observer), so it shows what is on disk, never what was only tried.
//
// Presence is what gatehouse heard since it started: a door is `unknown` until it comes online
// or goes offline in front of this process, whatever an older run recorded.
// Thread-safety: apply() from the journal's writer thread, metrics() from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/event.pb.h"

namespace gh::server {

class DeviceActivity {
 public:
  // `registered` doors exist in the log at start (all of them `unknown`).
  explicit DeviceActivity(uint64_t registered) : registered_(registered) {}

  void apply(const events::Envelope& e);

  // gatehouse_device_command_outcomes_total{result=confirmed|failed|timed_out} and
  // gatehouse_doors{presence=online|offline|unknown}, every label present (0 included).
  std::vector<std::pair<std::string, double>> metrics() const;

 private:
  mutable std::mutex mu_;
  uint64_t registered_;
  std::unordered_map<std::string, bool> heard_;  // door id -> online, since this start
  uint64_t confirmed_ = 0, failed_ = 0, timed_out_ = 0;
};

}  // namespace gh::server
