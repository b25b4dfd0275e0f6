// The JSON envelope of every answer on the wire (MQTT and HTTP), and the one safe way to
// parse JSON that came from outside. DESIGN.md "Protocols": every request gets
// {"ok":true,...} or {"ok":false,"error":{"code":"...","message":"..."}}.
// Pure functions; thread-safe. Nothing here throws.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::codec {

inline constexpr size_t kDefaultMaxJsonBytes = 64 * 1024;
inline constexpr size_t kDefaultMaxJsonDepth = 32;

// {"ok":true} merged with the members of `fields` (an object; null adds nothing; any other
// value is placed under "value").
nlohmann::json ok_reply(nlohmann::json fields = nlohmann::json::object());

// {"ok":false,"error":{"code":code_name(status.code()),"message":status.message()}}.
nlohmann::json error_reply(const Status& status);

// Parses `text` as one JSON value. Returns kTooLarge when `text` is longer than `max_bytes`
// or nests arrays/objects deeper than `max_depth` (checked before building anything), and
// kInvalidArgument (with the parser's position) when it is not valid JSON or not UTF-8.
Result<nlohmann::json> parse_json(std::string_view text, size_t max_bytes = kDefaultMaxJsonBytes,
                                  size_t max_depth = kDefaultMaxJsonDepth);

// Serializes `value` compactly. Invalid UTF-8 in strings (e.g. echoed device input) is
// replaced by U+FFFD instead of throwing.
std::string to_wire(const nlohmann::json& value);

}  // namespace gh::codec
