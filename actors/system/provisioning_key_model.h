// The provisioning keys as a pure model over the stream "system/provisioning-keys": decide
// (create, revoke) -> an event or a rejection, and apply(state, event). A key's full text is
// "pk.<name>.<secret>" with <secret> 32 lower-case hex characters; only SHA-256 of <secret>
// is stored. A new door connects with it (username = its intended device id) and may only
// ask for its own credential. No I/O, no clock, no CAF. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.pb.h"
#include "events/status.h"

namespace gh::provisioning_keys {

inline constexpr std::string_view kStream = "system/provisioning-keys";
inline constexpr std::string_view kTextPrefix = "pk.";

struct Key {
  std::string name;
  std::string sha256;  // 32 raw bytes: SHA-256 of the secret part's hex text
  int64_t created_at_ms = 0;
  events::Cause created_by;
};

struct State {
  std::map<std::string, Key> active;  // by name; revoked keys are removed
  uint64_t version = 0;               // version of the last applied event
};

// A key's text split into its parts.
struct ProvisioningSecret {
  std::string name;
  std::string secret;  // the 32 hex characters
};

// "pk.<name>.<secret>" for key `name` with `secret` (the hex text).
std::string provisioning_secret_text(std::string_view name, std::string_view secret);

// The parts of "pk.<name>.<secret>" (the name may itself contain dots: the secret is what
// follows the last one), or kInvalidArgument when the prefix is missing, the name is not an
// id or the secret is not 32 lower-case hex characters.
Result<ProvisioningSecret> parse_provisioning_secret(std::string_view text);

// The ProvisioningKeyCreated event for `name` with secret hash `sha256`, or
// kInvalidArgument (bad name, hash not 32 bytes), kAlreadyExists (an active key has it).
Result<events::Envelope> create(const State& state, std::string_view name, std::string_view sha256);

// The ProvisioningKeyRevoked event for `name`, or kNotFound when no active key has it.
Result<events::Envelope> revoke(const State& state, std::string_view name);

// Folds one stored event into `state`. Total: other events are ignored.
void apply(State& state, const events::Envelope& event);

// The state after `events` from the empty state.
State replay(const std::vector<events::Envelope>& events);

// True when active key `name` has a secret hashing to `sha256`. The comparison takes the
// same time whatever bytes differ.
bool matches(const State& state, std::string_view name, std::string_view sha256);

}  // namespace gh::provisioning_keys
