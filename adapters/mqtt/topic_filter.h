// MQTT topic filter matching ('+' one level, '#' the rest), for routing messages of one
// connection to the handler that subscribed to them. Pure; thread-safe.
#pragma once

#include <string_view>
#include <vector>

namespace gh::mqtt_adapter {

// True when `topic` matches `filter` per MQTT 3.1.1 section 4.7 ('+' matches exactly one
// level, a final '#' matches the parent and every level below; '$'-topics never match a
// filter that starts with a wildcard).
bool topic_matches(std::string_view filter, std::string_view topic);

// The levels of `topic` split at '/': "a//b" -> {"a", "", "b"}.
std::vector<std::string_view> topic_levels(std::string_view topic);

}  // namespace gh::mqtt_adapter
