// gatehousectl nats-auth create: an operator's NATS setup for cluster mode on NATS
// (docs/cluster.md, "Device identity on NATS"), written into a new directory:
//   operator.jwt          the operator's JWT (nats-server's `operator`)
//   nats-auth.conf        what each nats-server's configuration includes: the operator, the
//                         system account, a MEMORY resolver preloaded with both accounts
//   account.seed          gatehouse's account seed (cluster.nats-account-seed-file), 0600
//   operator.seed, system-account.seed   kept to change the accounts later, 0600
//   tools.jwt             a bearer JWT with every permission for operators' own MQTT clients
//                         (the password of mosquitto_pub -P), 0600
// gatehousectl nats-auth revoke DIR ID...: revokes the NATS users of doors ID... (every JWT
// gatehouse issued them until now) in gatehouse's account: nats-auth.conf is written again
// with the account JWT re-signed by the operator, its revocations added; each nats-server
// applies it when it reloads its configuration (SIGHUP, or nats-server --signal reload).
// Needs no store and no running server. Thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh::ctl {

struct NatsAuthOptions {
  std::string dir;                    // must not exist, or be empty
  std::vector<std::string> prefixes;  // mqtt.prefix of the nodes (and any probe prefix)
  uint32_t groups = 32;               // cluster.session-groups
};

// Writes the files above; kInvalidArgument for a bad prefix, group count or a non-empty
// directory, kInternal when a file cannot be written. Prints what it wrote to `out`.
Status create_nats_auth(const NatsAuthOptions& options, int64_t now_s, std::ostream& out);

// Adds a revocation at `now_s` of each door of `device_ids` to the account JWT in
// DIR/nats-auth.conf (keys from DIR/account.seed and DIR/operator.seed). kInvalidArgument for
// a bad id or a directory that is not a setup create_nats_auth() wrote; kInternal when a file
// cannot be read or written. Prints each revoked user to `out`.
Status revoke_nats_doors(const std::string& dir, const std::vector<std::string>& device_ids,
                         int64_t now_s, std::ostream& out);

}  // namespace gh::ctl
