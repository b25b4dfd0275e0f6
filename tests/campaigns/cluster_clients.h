// The clients of the cluster chaos campaign (scripts/cluster-chaos, docs/cluster.md "Chaos"):
// they drive the gatehouse nodes of scripts/cluster-up over HTTP while nodes are killed and
// paused, and write to a WriteLedger what they sent and what was acknowledged. A request
// that fails on a node (refused, no answer in time, 5xx such as lease_lost or an owner that
// cannot be reached) is sent again, with the SAME id, to the next node, until it is
// acknowledged or the campaign stops: a retried write is one write.
//
// Subjects and ids in the ledger:
//   commands/DOOR   HTTP lock/unlock (crash_clients.h send_command), id = the Idempotency-Key,
//                   value = LOCK | UNLOCK; acknowledged by a 200/202 naming that command
//   confirmations/DOOR  a command the door confirmed (crash_clients.h send_command: an answer,
//                   often to a repeated request, naming the command confirmed); only those
//                   are judged, against the log's LockCommandConfirmed
//   posts/ROOM      HTTP posts into ROOM by the user of the same name (a user and a room of
//                   one name share a shard, so one node serves both: a post is authenticated
//                   by the user's owner), id = client_msg_id, value = the text; acknowledged
//                   by a 201/200 naming that client_msg_id
//
// Thread-safety: each client runs on one thread of its own; the ledger, the trouble list and
// the progress counters are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/campaigns/crash_clients.h"
#include "tests/campaigns/write_ledger.h"

namespace gh::testing {

// The gatehouse nodes the clients talk to (any node accepts any request).
struct ClusterTarget {
  std::vector<int> http_ports;
  std::string token;  // an operator's API token
};

// What one client has done so far, for the progress file the chaos script reads.
struct ClientProgress {
  std::string name;
  std::atomic<double> last_ack_s{0};  // wall time (Unix seconds) of the newest acknowledgement
  std::atomic<uint64_t> acked{0};     // writes acknowledged
  std::atomic<uint64_t> attempts_failed{0};  // attempts answered otherwise (then the next node)
  // MQTT doors only (cluster_doors.h): wall time at which the door's status last showed a
  // message of it newer than any before (recorded in its stream); 0 for other clients.
  std::atomic<double> last_recorded_s{0};
};

// Wall time now, in Unix seconds.
double wall_seconds();

// Provisions door `id` (POST /devices) through each node in turn until one answers 201 (the
// node whose shard it is; the others answer lease_lost), for up to `rounds` rounds.
bool provision_door_anywhere(const ClusterTarget& target, const std::string& id, int rounds);

// Registers `person`, logs them in and creates the room named like them, each through the
// node that serves the user (tried in turn); the session token, or empty on failure.
std::string prepare_poster(const ClusterTarget& target, const Person& person, WriteLedger& ledger,
                           int rounds);

// Locks and unlocks `door` with a fresh Idempotency-Key per command (`run`-DOOR-n), each
// sent until acknowledged, the next node after every failure; about ten commands a second
// when all goes well, until `stop`.
void run_cluster_locker(const ClusterTarget& target, const std::string& run,
                        const std::string& door, WriteLedger& ledger, ClientTrouble& trouble,
                        ClientProgress& progress, const std::atomic<bool>& stop);

// Posts into the room named like `person` with `session`, a fresh client_msg_id per post
// (`run`-ROOM-n), each sent until acknowledged as above, until `stop`.
void run_cluster_poster(const ClusterTarget& target, const std::string& run, const Person& person,
                        const std::string& session, WriteLedger& ledger, ClientTrouble& trouble,
                        ClientProgress& progress, const std::atomic<bool>& stop);

}  // namespace gh::testing
