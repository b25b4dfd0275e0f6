// What gatehousectl's verbs use when they run inside the running server, on behalf of a tool
// that reached it through the admin socket (admin_wire.h), instead of a store they opened:
// the server's own store, credential registry and action table, so that a change is one
// durable append through the same objects the server serves from, and in effect at once.
// The server owns everything pointed to; it outlives the verb. Thread-compatible.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "actors/actions/action_service.h"
#include "actors/device/device_model.h"
#include "actors/system/credential_registry.h"
#include "events/event.pb.h"
#include "tools/ctl/store.h"

namespace gh::ctl {

inline constexpr const char* kAdminChannel = "admin";

struct LiveServer {
  Database* database = nullptr;  // null on PostgreSQL (store.backend=postgres)
  Journal* journal = nullptr;
  SnapshotStore* snapshots = nullptr;
  // Cluster mode: ok when this node serves `stream` now, else kLeaseLost naming the node that
  // does (server/shard_routing.h). Null on RocksDB, where one server serves every stream.
  std::function<Status(const std::string& stream)> serves;
  credentials::CredentialRegistry* credentials = nullptr;
  actions::ActionAdmin* actions = nullptr;
  // Removes door `id` through its actor (device_service.h remove), so that the live door's
  // state changes with the log; answers its state after removal.
  std::function<Result<device::State>(const std::string& id, const events::Cause& by)>
      remove_device;
  // The operator recorded as the cause of every write (unless --as names another): the
  // login name of the peer of the admin socket.
  std::string peer;
  // Files the tool sent with the request, by the path named on its command line.
  std::map<std::string, std::string> files;
  // `events --follow`: calls `on_event`, on the caller's thread, for every event after
  // global position `after` in position order (those already durable, then each as it
  // becomes durable) until `on_event` returns false or the tool hangs up; then returns.
  std::function<void(uint64_t after, const std::function<bool(const events::Envelope&)>& on_event)>
      follow;
};

}  // namespace gh::ctl
