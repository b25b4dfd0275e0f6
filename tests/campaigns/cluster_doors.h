// Doors over MQTT through NATS for the cluster chaos campaign (scripts/cluster-chaos,
// docs/cluster.md "Chaos"): each door connects to one of the NATS cluster's MQTT listeners
// with its own JWT (the "password" of its registration answer), and moves to the next
// listener when its connection is lost or a publish is not acknowledged in time.
//
// A door publishes, one after the other, hellos whose firmware names the message
// (`RUN-n`, n = 0, 1, 2, ...) at QoS 1, each waiting for NATS' PUBACK before the next, and
// sends a message again (the same firmware) to the next listener until NATS acknowledges it.
// gatehouse appends a DeviceInfoChanged with that firmware to the door's stream for each
// hello whose firmware differs from the door's current one (docs/protocol.md, "hello"), so a
// repeat right after the same message writes nothing.
//
// Ledger subject hellos/DOOR: id = value = the firmware; acknowledged by NATS' PUBACK (not
// by gatehouse: NATS has taken it, gatehouse's session group must deliver it).
//
// The door also answers its commands as a lock does (LOCK -> state LOCKED, UNLOCK ->
// UNLOCKED, GET ignored), not recorded in the ledger, and follows its retained status: the
// wall time at which the status first showed a firmware newer than any before is the
// door's "recorded" progress (its messages reach its stream through the group's owner).
//
// Thread-safety: each door runs on one thread of its own; the ledger and the progress
// counters are thread-safe.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "tests/campaigns/cluster_clients.h"
#include "tests/campaigns/write_ledger.h"

namespace gh::testing {

// The NATS cluster's MQTT listeners (loopback ports) and gatehouse's topic prefix.
struct NatsFront {
  std::vector<int> mqtt_ports;
  std::string prefix = "gatehouse";
};

// Provisions door `id` (POST /devices) through each node in turn until one answers 201, for
// up to `rounds` rounds; its NATS password (the JWT), or empty on failure.
std::string provision_nats_door_anywhere(const ClusterTarget& target, const std::string& id,
                                         int rounds);

// Runs door `id` with `jwt`, first on listener `first` (an index into front.mqtt_ports),
// until `stop`. Counts acknowledged publishes and failed attempts into `progress`, and sets
// progress.last_recorded_s as described above.
void run_nats_door(const NatsFront& front, size_t first, const std::string& run,
                   const std::string& id, const std::string& jwt, WriteLedger& ledger,
                   ClientProgress& progress, const std::atomic<bool>& stop);

}  // namespace gh::testing
