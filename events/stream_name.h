// Validation and construction of stream names ("device/<id>", "user/<name>", ...).
// Ids are checked before they reach the journal: [A-Za-z0-9._-]{1,64}. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "events/status.h"

namespace gh {

inline constexpr size_t kMaxIdLength = 64;

// True when `id` matches [A-Za-z0-9._-]{1,64}.
bool is_valid_id(std::string_view id);

// ok, or kInvalidArgument explaining what is wrong with `id` (`what` names it: "device id").
Status validate_id(std::string_view id, std::string_view what);

// "device/<id>"; the caller has validated `id`.
std::string device_stream(std::string_view id);

// True when `stream` is "<kind>/<valid id>" with kind in device, user, room, system.
bool is_valid_stream(std::string_view stream);

// True when `prefix` can start a stream name: [A-Za-z0-9/._-], no longer than a stream name.
bool is_stream_prefix(std::string_view prefix);

}  // namespace gh
