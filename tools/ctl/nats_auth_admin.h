// gatehousectl nats-auth create: an operator's NATS setup for cluster mode on NATS
// (docs/cluster.md, "Device identity on NATS"), written into a new directory:
//   operator.jwt          the operator's JWT (nats-server's `operator`)
//   nats-auth.conf        what each nats-server's configuration includes: the operator, the
//                         system account, both accounts preloaded into the `full` resolver
//                         each node's own file declares (nats_setup::resolver_config)
//   account.seed          gatehouse's account seed (cluster.nats-account-seed-file), 0600
//   operator-signing.seed an operator signing key (cluster.nats-operator-signing-seed-file):
//                         gatehouse re-signs its account with it to revoke doors, 0600
//   system-user.creds     a system-account user (cluster.nats-system-creds-file) that pushes
//                         the account JWT on $SYS.REQ.CLAIMS.UPDATE, 0600
//   operator.seed, system-account.seed   kept to change the accounts later, 0600
//   tools.jwt             a bearer JWT with every permission for operators' own MQTT clients
//                         (the password of mosquitto_pub -P), 0600
// gatehousectl nats-auth revoke DIR ID...: revokes the NATS users of doors ID... (every JWT
// gatehouse issued them until now) in gatehouse's account: nats-auth.conf is written again
// with the account JWT re-signed by the operator signing key, its revocations added; each
// nats-server
// stores it when it reloads its configuration or restarts, newer than the one it holds (with
// NATS' full resolver a reload does not change the running account: --nats-url pushes it to
// the running cluster instead). Needs no store and no running server. Thread-compatible.
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
// DIR/nats-auth.conf (keys from DIR/account.seed and DIR/operator-signing.seed). kInvalidArgument
// for a bad id or a directory that is not a setup create_nats_auth() wrote; kInternal when a file
// cannot be read or written. Prints each revoked user to `out`.
// With `nats_url` (NATS' client URLs, comma-separated), also pushes the revocations to the
// running NATS cluster as DIR/system-user.creds' user (nats_client::update_account): the
// errors of that push (kUnavailable, kTimeout, kFailedPrecondition...) after the file is
// written.
Status revoke_nats_doors(const std::string& dir, const std::vector<std::string>& device_ids,
                         int64_t now_s, std::ostream& out, const std::string& nats_url = "");

}  // namespace gh::ctl
