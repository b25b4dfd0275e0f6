// The connections the broker plugin has let in, by mosquitto's client handle, with the
// identity each authenticated as. It decides the takeover rule: MQTT lets a new connection
// with a connected client id push the old one off (and inherit its session), so a client id
// held by one identity may only be taken over by the same identity (a door reconnecting
// after a half-open TCP connection) — never by another, and an anonymous client id by
// nobody while it is connected.
//
// Thread-compatible: mosquitto calls the plugin from its one main thread.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapters/mqtt/broker_plugin/access_rules.h"
#include "adapters/mqtt/broker_plugin/identity_table.h"
#include "adapters/mqtt/broker_plugin/publish_rate.h"
#include "events/status.h"

namespace gh::broker {

// A connection let in: who, and what it may do (computed once, at CONNECT); how many more
// messages it may publish now (publish_rate.h).
struct Connection {
  std::string client_id;
  Authenticated who;
  Permissions permissions;
  PublishBucket publishes = {};
  bool told_over_limit = false;  // the broker's log named it once
};

class ConnectedClients {
 public:
  // ok when a connection of `who` may use `client_id` now; kUnauthenticated (naming the
  // client id) when another identity holds it.
  Status may_take(std::string_view client_id, const Authenticated& who) const;

  // Records an accepted connection (replacing whatever `handle` recorded before).
  void add(const void* handle, Connection connection);
  // Forgets a connection; a no-op for a handle not recorded.
  void remove(const void* handle);

  // A recorded connection, or null (then the plugin refuses everything).
  const Connection* find(const void* handle) const;
  Connection* find(const void* handle);

  // Client ids of the connections that `table` no longer accepts, among those a change may
  // have ended (`applied`: none, those under one name, or all), for kicking.
  std::vector<std::string> invalid(const IdentityTable& table, int64_t now_ms,
                                   const Applied& applied) const;

  size_t size() const { return by_handle_.size(); }

 private:
  std::unordered_map<const void*, Connection> by_handle_;
  std::unordered_map<std::string, const void*> by_client_id_;
  // Identity name -> its connections: a rotation or logout re-checks only those.
  std::unordered_map<std::string, std::unordered_set<const void*>> by_name_;
};

}  // namespace gh::broker
