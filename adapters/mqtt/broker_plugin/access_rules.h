// Who may publish, subscribe to and receive which topic on the broker: the topic rules that
// gatehouse's mosquitto plugin enforces for every MQTT client (docs/security.md "The broker").
// Pure: no mosquitto, no I/O; the plugin asks these functions on every CONNECT-time decision,
// PUBLISH, SUBSCRIBE and delivery. Thread-safe (no state of its own).
//
// The rules, with P the topic prefix (mqtt.prefix):
// - the server (gatehouse's own connection): everything;
// - door X: publish P/devices/X/{hello,availability,state,stranger}; read its own
//   P/devices/X/{command,status,error} and P/server/status;
// - provisioner (a new door X presenting provisioning key K): publish P/provision/K/X, read
//   P/provision/K/X/reply and P/server/status;
// - user (a chat session): publish P/chat/{op}; read its inbox P/inbox/{client id}/#, the
//   room events P/rooms/+/events and P/server/status;
// - API token (operators, integrations): what a user may, plus publish P/actions/install and
//   read P/devices/+/status and P/alerts/#; with Home Assistant discovery on (discovery prefix
//   D), also publish P/devices/+/set (a door's lock command, attributed below) and D/status
//   (Home Assistant's birth message), and read P/devices/+/ha/# and D/#;
// - anonymous: publish P/chat/{register,login,security_question,reset_password}; read its
//   inbox P/inbox/{client id}/# and P/server/status;
// - with `legacy` on, everyone also may publish the legacy request topics (the seed chat's
//   eight and the action table's) and subscribe to any other topic outside P/ and `$`, without
//   wildcards (the seed's reply topics), but never read the legacy request topics.
// Only the server publishes retained messages, and only the server reads or writes `$`-topics.
//
// Attribution (docs/security.md "Who commands a door over MQTT"): gatehouse cannot see who
// published a message, so the broker tells it. A command a client publishes on
// P/devices/{id}/set is delivered as P/by/{kind}/{name}/devices/{id}/set, naming the identity
// the connection authenticated as; nobody but the server may publish under P/by/, so the
// name cannot be forged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gh::broker {

enum class Access { kRead, kWrite, kSubscribe };

enum class Kind { kServer, kDoor, kProvisioner, kUser, kToken, kAnonymous };

// "server", "door", "provisioner", "user", "token", "anonymous".
std::string_view kind_name(Kind kind);

// The identity a connection authenticated as.
struct Identity {
  Kind kind = Kind::kAnonymous;
  std::string name;  // device id, user name or token name; empty for server and anonymous
  std::string key;   // the provisioning key's name (kProvisioner only)
};

struct RuleOptions {
  std::string prefix = "gatehouse";
  bool legacy = false;
  // The exact topics of the legacy protocols (seed chat requests and action-table topics).
  std::vector<std::string> legacy_topics;
  // Home Assistant's discovery prefix (ha.discovery-prefix); empty: discovery is off and
  // nobody but the server may use the set topics or read the discovery topics.
  std::string discovery_prefix;
};

// The filters one connection may read (and subscribe within) and publish to, besides the
// legacy topics: fixed for the connection's life, so computed once when it connects rather
// than on every delivery.
struct Permissions {
  bool everything = false;  // the server
  std::vector<std::string> read, write;
};

// The permissions of a connection of `who` with MQTT client id `client_id`.
Permissions permissions_of(const RuleOptions& options, const Identity& who,
                           std::string_view client_id);

// True when a connection with `permissions` may perform `access` on `topic` (a topic name for
// kRead/kWrite, a topic filter for kSubscribe). A subscription is allowed only when every
// topic its filter can match is readable. `retain` is the PUBLISH's retain flag (kWrite
// only).
bool allowed(const RuleOptions& options, const Permissions& permissions, std::string_view topic,
             Access access, bool retain = false);

// The same for a connection of `who` with client id `client_id` (permissions_of, then the
// above).
bool allowed(const RuleOptions& options, const Identity& who, std::string_view client_id,
             std::string_view topic, Access access, bool retain = false);

// The topic under which a message that `who` published on `topic` is delivered: for
// P/devices/{id}/set (with discovery on) P/by/{kind}/{name}/devices/{id}/set; nullopt for
// every other topic, and for the server, which is never attributed.
std::optional<std::string> attributed_topic(const RuleOptions& options, const Identity& who,
                                            std::string_view topic);

// True for P/by and every topic under it: only the plugin's rewrite may produce one.
bool is_attribution_topic(const RuleOptions& options, std::string_view topic);

// True when every topic that filter `inner` matches is also matched by filter `outer`
// (both MQTT filters; '+' one level, a final '#' any rest).
bool filter_covers(std::string_view outer, std::string_view inner);

}  // namespace gh::broker
