// One update of gatehouse's account JWT at NATS with the doors' revocations (docs/cluster.md,
// "Revocation on NATS"), shared by a node's push (adapters/nats/revocation_push.h) and
// gatehousectl nats-auth revoke --nats-url:
//   1. asks NATS' resolver for the account's current JWT ($SYS.REQ.ACCOUNT.<A>.CLAIMS.LOOKUP)
//      over `connection`, a system-account user's;
//   2. refuses to build on one the operator signing key did not sign (NATS 2.9.10's resolver
//      stores a pushed JWT whatever key signed it, without applying it);
//   3. when its revocations cover `wanted`, stops (returns false);
//   4. otherwise keeps every other claim, sets each wanted revocation to the later of the two
//      times, re-signs with `signing_key` (iat past the held JWT's: NATS keeps the newer) and
//      pushes it ($SYS.REQ.CLAIMS.UPDATE); returns true once NATS says "jwt updated".
// Errors: the connection's (kUnavailable, kTimeout, kPermissionDenied), kFailedPrecondition
// (a JWT not ours, or NATS refused the push, its description quoted).
// Thread-compatible (the connection's).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "actors/system/nats_connection.h"
#include "actors/system/nats_nkey.h"
#include "events/status.h"

namespace gh::nats_client {

Result<bool> update_account(NatsConnection& connection, const std::string& account,
                            const nkeys::KeyPair& signing_key,
                            const std::map<std::string, int64_t>& wanted, int64_t now_s,
                            std::chrono::milliseconds timeout);

}  // namespace gh::nats_client
