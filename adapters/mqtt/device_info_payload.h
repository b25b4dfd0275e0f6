// The optional JSON payload in which a door describes itself: {"type","name","firmware"},
// each a string (or null or absent) of at most max_info_length bytes; an empty or blank
// payload describes nothing. Shared by the hello topic (device_topics.h) and the
// provisioning topic (provision_topics.h), so both apply the same rules.
// Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "actors/device/device_model.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

// What was wrong with a payload, for counting refusals by reason.
enum class InfoProblem { kNone, kTooLarge, kBadJson, kBadValue };

struct ParsedInfo {
  device::DeviceInfo info;
  InfoProblem problem = InfoProblem::kNone;
  Status status;  // the error to answer with when problem != kNone
};

// `payload` parsed: kTooLarge beyond `max_payload_bytes`; kBadJson when it is not a JSON
// object; kBadValue when a field is not a string or longer than `max_info_length`. `what`
// names the payload in messages ("hello").
ParsedInfo parse_device_info(std::string_view payload, std::string_view what,
                             size_t max_payload_bytes, size_t max_info_length);

}  // namespace gh::mqtt_adapter
