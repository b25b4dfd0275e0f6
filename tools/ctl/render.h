// How gatehousectl shows events and times, and how it reads times given by an operator.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/event.pb.h"

namespace gh::ctl {

// "2026-11-23T09:00:00.123Z" for unix milliseconds.
std::string format_time(int64_t unix_ms);

// Unix milliseconds from "1763884800000" (unix ms) or ISO-8601 UTC
// "2026-11-23T09:00:00Z" / "2026-11-23T09:00:00.5Z" / "2026-11-23" (midnight); a trailing
// "Z" is optional, other offsets are refused. nullopt when it is neither.
std::optional<int64_t> parse_time(std::string_view text);

// What is printed instead of a secret: the value of every field of an event named *_hash or
// *sha256* (password and security-answer hashes, session and API token SHA-256s), in
// event_line() and event_json() alike.
inline constexpr std::string_view kRedacted = "[redacted]";

// One line per event for people (secrets redacted, UTF-8 text as it is):
// "p17 device/d1 v3 2026-11-23T09:00:00.000Z cmd=c1 by=user:alice/http lock_state_reported { state:
// LOCKED }"
std::string event_line(const events::Envelope& envelope);

// One line of JSON per event (Protobuf's JSON mapping: bytes as base64, 64-bit ints as
// strings), for scripts. Secret fields are the string "[redacted]".
std::string event_json(const events::Envelope& envelope);

// "user:alice/http"; "-" when the cause is empty.
std::string cause_text(const events::Cause& cause);

}  // namespace gh::ctl
