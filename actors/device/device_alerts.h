// Stranger alerts as history, derived from a door's events: every StrangerSeen is an alert,
// reviewed once a StrangerAlertReviewed names it (by whom, when); and the door's timeline,
// every event with a readable name, its time and who caused it. Pure; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "actors/device/device_model.h"

namespace gh::device {

struct Alert {
  std::string device_id;
  std::string alert_id;
  std::string picture_id;
  std::string content_type;
  uint64_t size_bytes = 0;
  int64_t seen_at_ms = 0;
  uint64_t version = 0;      // stream version of the StrangerSeen event
  uint64_t position = 0;     // its global position: the order alerts were recorded in
  bool picture_kept = true;  // false once its bytes were dropped (quota or retention)
  bool reviewed = false;
  events::Cause reviewed_by;  // set when reviewed
  int64_t reviewed_at_ms = 0;
};

// The alerts of door `device_id` in `events` (its stream from the start), oldest first.
std::vector<Alert> alerts_of(std::string_view device_id, const std::vector<Envelope>& events);

// Which alerts a listing keeps. Times are unix ms; 0 means "no bound".
struct AlertFilter {
  enum class Reviewed { kAny, kOnly, kNot };
  Reviewed reviewed = Reviewed::kAny;
  int64_t since_ms = 0;  // seen at or after
  int64_t until_ms = 0;  // seen strictly before
};
bool matches(const Alert& alert, const AlertFilter& filter);

// Newest first (by time, then by the order they were recorded in: the global position), so
// that merging the doors' lists gives one history.
bool newer_first(const Alert& a, const Alert& b);

struct TimelineEntry {
  uint64_t version = 0;
  int64_t at_ms = 0;
  std::string event;    // the event type: "LockCommandRequested", "StrangerSeen", ...
  std::string summary;  // for people: "UNLOCK requested", "reported LOCKED", "went offline"
  events::Cause cause;
};

// One entry per device event in `events`, oldest first.
std::vector<TimelineEntry> timeline(const std::vector<Envelope>& events);

}  // namespace gh::device
