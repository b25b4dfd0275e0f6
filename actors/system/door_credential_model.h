// The doors' broker credentials as a pure model over the stream "system/door-credentials":
// decide (issue, revoke) -> an event or a rejection, and apply(state, event). A door connects
// to the broker with username = its device id and password = its secret; only SHA-256 of the
// secret's hex text is ever stored (actors/system/secret.h). No I/O, no clock, no CAF.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.pb.h"
#include "events/status.h"

namespace gh::door_credentials {

inline constexpr std::string_view kStream = "system/door-credentials";

struct Credential {
  std::string sha256;  // 32 raw bytes: SHA-256 of the secret's hex text
  int64_t issued_at_ms = 0;
  events::Cause issued_by;
  uint64_t version = 0;  // version of the DoorCredentialIssued event in kStream
};

struct State {
  std::map<std::string, Credential> doors;  // by device id; revoked credentials are removed
  uint64_t version = 0;                     // version of the last applied event
};

// Whether issue() may replace a credential the door already has.
enum class Issue { kNewOnly, kNewOrRotate };

// The DoorCredentialIssued event giving door `device_id` the secret hashing to `sha256`
// (replaced = true when it had one: a rotation), or kInvalidArgument (bad id, hash not 32
// bytes), kAlreadyExists (the door has a credential and `mode` is kNewOnly).
Result<events::Envelope> issue(const State& state, std::string_view device_id,
                               std::string_view sha256, Issue mode);

// The DoorCredentialRevoked event for `device_id`, or kNotFound when it has no credential.
Result<events::Envelope> revoke(const State& state, std::string_view device_id);

// Folds one stored event into `state`. Total: other events are ignored.
void apply(State& state, const events::Envelope& event);

// The state after `events` from the empty state.
State replay(const std::vector<events::Envelope>& events);

// True when door `device_id` has a credential whose hash equals `sha256`. The comparison
// takes the same time whatever bytes differ.
bool matches(const State& state, std::string_view device_id, std::string_view sha256);

}  // namespace gh::door_credentials
