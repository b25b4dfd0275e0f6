// Wall-clock times on the wire: ISO-8601 UTC with milliseconds ("2026-11-23T09:04:23.123Z").
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace gh::codec {

// "YYYY-MM-DDTHH:MM:SS.mmmZ" for `unix_ms` milliseconds since the Unix epoch.
std::string iso8601_ms(int64_t unix_ms);

// The ISO string, or JSON null when `unix_ms` is 0 (our "never"/"not yet").
nlohmann::json iso8601_or_null(int64_t unix_ms);

}  // namespace gh::codec
