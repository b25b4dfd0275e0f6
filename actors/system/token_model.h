// The API tokens of gatehouse as a pure model over the stream "system/tokens": decide
// (create, revoke) -> an event or a rejection, and apply(state, event). Only the SHA-256 of
// each token's secret is ever stored. No I/O, no clock, no CAF. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.pb.h"
#include "events/status.h"

namespace gh::tokens {

inline constexpr std::string_view kStream = "system/tokens";
inline constexpr size_t kHashBytes = 32;  // SHA-256

struct Token {
  std::string name;
  std::string sha256;  // 32 raw bytes: SHA-256 of the secret's hex text
  int64_t created_at_ms = 0;
  events::Cause created_by;
};

struct State {
  std::map<std::string, Token> active;  // by name; revoked tokens are removed
  uint64_t version = 0;                 // version of the last applied event
};

// The ApiTokenCreated event for a new token `name` with secret hash `sha256`, or
// kInvalidArgument (bad name, hash not 32 bytes), kAlreadyExists (an active token has it).
Result<events::Envelope> create(const State& state, std::string_view name, std::string_view sha256);

// The ApiTokenRevoked event for `name`, or kNotFound when no active token has that name.
Result<events::Envelope> revoke(const State& state, std::string_view name);

// Folds one stored event into `state`. Total: other events are ignored.
void apply(State& state, const events::Envelope& event);

// The state after `events` from the empty state.
State replay(const std::vector<events::Envelope>& events);

// The name of the active token whose hash equals `sha256`, or nullopt. Every stored hash is
// compared in full without early exit, so the time taken does not reveal how much matched.
std::optional<std::string> find_by_hash(const State& state, std::string_view sha256);

}  // namespace gh::tokens
