// Which of gatehouse's NATS door users the account must revoke, folded from the stream
// system/door-credentials (docs/cluster.md, "Revocation on NATS"), the same on every node
// since it is read from the shared log, never from one node's memory.
//
// A door's NATS user is one per door (nats_identities::door_user_key), and NATS refuses a
// user's JWT when its iat is at or before the account's revocation time of that user. So
// each door needs one number the log fixes: `revoked_s`, at or after the iat of every JWT the
// door's ended credentials were given, and before the iat of its current credential's JWT.
// Folding the events in order:
//   - DoorCredentialIssued at time t: a rotation first ends the current credential (as a
//     revocation at t); the new credential's JWT is issued at max(t_s, revoked_s + 1);
//   - DoorCredentialRevoked at t (a revocation or a removal of the door):
//     revoked_s = max(t_s, issued_s).
// t_s is the event's time in whole seconds. A JWT's iat may so be a second or two ahead of
// the clock when a door's credential changes several times within one second (NATS does not
// check iat against its clock).
//
// The list is bounded by the doors ever revoked (one entry per door, whatever its number of
// rotations): an entry can never be dropped while a JWT it refuses could still be presented,
// and door JWTs do not expire.
// Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "events/event.pb.h"

namespace gh::nats_revocations {

struct Door {
  int64_t issued_s = 0;   // the iat of the JWT of the door's current (or last) credential
  int64_t revoked_s = 0;  // 0: never revoked; else JWTs issued at or before are refused
  bool has_credential = false;
};

struct State {
  std::map<std::string, Door> doors;  // by device id
  uint64_t version = 0;               // of the last event of system/door-credentials folded
};

// Folds one event of system/door-credentials into `state`; others, and events at or before
// state.version (already folded), are ignored. Total.
void apply(State& state, const events::Envelope& event);

// The iat of the JWT door `device_id` is given now: its current credential's, or, for a door
// the log does not show a credential of (yet), max(now_s, revoked_s + 1).
int64_t jwt_issued_at(const State& state, const std::string& device_id, int64_t now_s);

// The account's revocations the log asks for: NATS user public key -> revoked_s, for every
// door ever revoked; `user_of` gives a door id's NATS user public key
// (nats_identities::door_user_key of the account, cached by the caller: deriving one costs a
// key derivation).
std::map<std::string, int64_t> wanted(
    const State& state, const std::function<std::string(const std::string&)>& user_of);

// `current` (an account JWT's `revocations` object, or null) with every entry of `wanted`
// at least as late: the later time of the two for each user, the others kept as they are.
nlohmann::json merged(const nlohmann::json& current, const std::map<std::string, int64_t>& wanted);

// True when every entry of `wanted` is in `current` at that time or later.
bool covers(const nlohmann::json& current, const std::map<std::string, int64_t>& wanted);

}  // namespace gh::nats_revocations
