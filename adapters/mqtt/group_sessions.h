// Cluster mode on NATS (docs/cluster.md, "Session groups"): the persistent MQTT sessions
// through which a node receives its doors' messages.
//
// The NATS cluster maps every device topic PREFIX/devices/{id}/{word} to
// shard-group/{g}/PREFIX/devices/{id}/{word}, g = partition(groups, id) (FNV-1a of the id
// modulo `groups`, which is the id's shard modulo `groups`). Group g has one persistent
// session, client id "gatehouse-group-<g>" (clean session off, QoS 1, MQTT 3.1.1), subscribed
// to shard-group/{g}/PREFIX/devices/+/+ (not "#", of which NATS makes two JetStream
// consumers). The node that holds every lease of group g opens it (what was
// published while nobody held the group is delivered then); before it releases them it
// closes it, without unsubscribing, so the session keeps collecting for the next owner.
//
//   GroupSessions sessions(options);          // nothing connects yet
//   sessions.hold({3, 17});                   // open groups 3 and 17, close any other
//   sessions.close(3);                        // before releasing group 3's leases
//   sessions.close_all();                     // stopping: none is opened again
//
// Each message is passed to `handler` with its original topic (shard-group/{g}/ removed).
// The session of one group (`requests_group`, 0 by default) also subscribes the request
// filters given, so that exactly one node receives each request and those published while
// nobody holds that group wait in its session.
// Thread-safety: every method from any thread, serialised; handlers run on paho's threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "adapters/mqtt/mqtt_connection.h"

namespace gh::mqtt_adapter {

struct GroupSessionsOptions {
  std::string url;                      // the NATS MQTT listener, tcp://host:port
  std::vector<std::string> other_urls;  // the cluster's other listeners, tried after `url`
  uint32_t groups = 32;                 // partition(groups, …) of the NATS mappings
  std::string prefix = "gatehouse";     // mqtt.prefix: the mapped topics are PREFIX/devices/+/+
  std::string client_id_prefix = "gatehouse-group-";
  std::string username;  // empty: none (nats-server 2.9 without MQTT authentication)
  std::string password;
  std::chrono::seconds keep_alive{30};
  MessageHandler handler;  // (original topic, payload, retained)
  // Group `requests_group`'s session also subscribes these filters (the MQTT request topics
  // one node serves: docs/cluster.md, "Chat requests on NATS"), each message to
  // `request_handler` with its topic as published. Empty: none.
  uint32_t requests_group = 0;
  std::vector<std::string> request_filters;
  MessageHandler request_handler;
};

class GroupSessions {
 public:
  explicit GroupSessions(GroupSessionsOptions options);
  ~GroupSessions();  // close_all()
  GroupSessions(const GroupSessions&) = delete;
  GroupSessions& operator=(const GroupSessions&) = delete;

  // The topic filter of group g's session, and the topic prefix removed from its messages.
  static std::string group_root(uint32_t group);

  // Opens the sessions of `groups` not open yet, or whose connection was lost (a session is
  // never reconnected by paho: only here, while its group is held), connecting in the
  // background, and closes those open that `groups` does not name. Nothing after
  // close_all().
  void hold(const std::set<uint32_t>& groups);
  // Closes group g's session if open: returns once disconnected (QoS 1 messages handed to the
  // handler are acknowledged, the rest stay in the session for its next holder).
  void close(uint32_t group);
  // Closes every session; hold() opens none afterwards.
  void close_all();

  // The groups whose session is open and connected (subscribed) now.
  std::set<uint32_t> open_groups() const;
  // Messages received on every session, for /metrics.
  uint64_t received() const;

 private:
  std::unique_ptr<MqttConnection> open(uint32_t group);

  const GroupSessionsOptions options_;
  mutable std::mutex mu_;
  std::map<uint32_t, std::unique_ptr<MqttConnection>> open_;
  uint64_t received_closed_ = 0;  // of sessions closed since
  bool closed_ = false;
};

}  // namespace gh::mqtt_adapter
