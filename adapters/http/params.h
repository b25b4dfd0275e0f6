// Parsing of query parameters and headers into typed values, with the error each route
// returns for bad input (always kInvalidArgument, naming the parameter). Pure; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "events/status.h"

namespace gh::http {

// A decimal unsigned integer without sign or spaces; kInvalidArgument naming `what`.
Result<uint64_t> parse_u64(std::string_view text, std::string_view what);

// A page size: `fallback` when `text` is empty, at least 1, capped at `max`.
// kInvalidArgument when not a number or 0.
Result<size_t> parse_limit(std::string_view text, size_t fallback, size_t max);

// A point in time as Unix milliseconds (all digits) or ISO-8601 "YYYY-MM-DDTHH:MM:SS"
// with optional fraction (up to 9 digits, truncated to ms) and a zone "Z" or "+HH:MM" /
// "-HH:MM" (required). Returns Unix ms; kInvalidArgument otherwise or before 1970.
Result<int64_t> parse_time_ms(std::string_view text);

// True when the Content-Type header value `content_type` names application/json, in any
// case, with or without parameters ("application/json; charset=utf-8").
bool is_json_media_type(std::string_view content_type);

// A wait in whole seconds, 0..max; kInvalidArgument when not a number or above `max`.
Result<std::chrono::seconds> parse_wait(std::string_view text, std::chrono::seconds max);

}  // namespace gh::http
