// gatehouse's mosquitto plugin (v5 plugin API of mosquitto 2.0): the broker enforces who may
// connect (MOSQ_EVT_BASIC_AUTH) and which topics each connection may publish, subscribe to and
// receive (MOSQ_EVT_ACL_CHECK), and names the sender of a door's set command in the topic it is
// delivered on (MOSQ_EVT_MESSAGE, access_rules.h "Attribution") and drops a client's messages past
// its publish rate (publish_rate.h), from the identities that gatehouse
// pushes over
// `$CONTROL/gatehouse/v1` (MOSQ_EVT_CONTROL). A connection whose credential is rotated or
// revoked is disconnected at once; expired chat sessions within a few seconds (MOSQ_EVT_TICK).
//
// Options (mosquitto.conf `plugin_opt_<name> <value>`):
//   server_username     gatehouse's user name              (default gatehouse)
//   server_sha256       SHA-256 hex of gatehouse's password (required)
//   server_client_id    gatehouse's MQTT client id          (default gatehouse)
//   prefix              gatehouse's topic prefix            (default gatehouse)
//   anonymous           on | local | off: clients without credentials from anywhere, only
//                       from loopback addresses, or never (default local)
//   legacy              on | off: the seeds' legacy topics   (default off)
//   legacy_topics       comma-separated exact legacy request topics
//   discovery_prefix    Home Assistant's discovery prefix; empty or absent: discovery off
//   publish_rate        messages per second each client connection may publish, sustained;
//                       0: no limit (default 0). gatehouse's own connection is never limited
//   publish_burst       messages a connection may publish at once (default publish_rate)
//
// Everything runs on mosquitto's main thread: the plugin's state needs no lock.
#include <mosquitto.h>
// mosquitto.h first: the broker and plugin headers use its types.
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <sodium.h>

#include <array>
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "adapters/mqtt/broker_plugin/access_rules.h"
#include "adapters/mqtt/broker_plugin/connected_clients.h"
#include "adapters/mqtt/broker_plugin/identity_table.h"
#include "adapters/mqtt/broker_plugin/publish_rate.h"

namespace {

using gh::broker::Access;
using gh::broker::ConnectedClients;
using gh::broker::IdentityTable;
using gh::broker::Kind;
using gh::broker::PublishLimit;
using gh::broker::RuleOptions;

constexpr const char* kControlTopic = "$CONTROL/gatehouse/v1";
constexpr const char* kResponseTopic = "$CONTROL/gatehouse/v1/response";
constexpr time_t kExpirySweepSeconds = 5;

// What the plugin refused, reported to gatehouse for /metrics (monotonic).
struct Counters {
  uint64_t connects_refused = 0;
  uint64_t publishes_denied = 0;
  uint64_t subscribes_denied = 0;
  uint64_t disconnected = 0;  // connections ended because their credential ended
  // Publishes dropped past their connection's rate, by the kind of client (index: Kind).
  std::array<uint64_t, 6> rate_limited{};
  bool operator==(const Counters&) const = default;
};

struct Plugin {
  mosquitto_plugin_id_t* id = nullptr;
  Counters counters;
  Counters reported;
  RuleOptions rules;
  PublishLimit publish_limit;
  std::unique_ptr<IdentityTable> table;
  ConnectedClients clients;
  time_t next_sweep = 0;
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// For the publish buckets: a clock that never jumps.
int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool on(std::string_view value) { return value == "on" || value == "true" || value == "1"; }

gh::broker::Anonymous anonymous_from(std::string_view value) {
  if (value == "local") return gh::broker::Anonymous::kLocal;
  return on(value) ? gh::broker::Anonymous::kOn : gh::broker::Anonymous::kOff;
}

// A client on this machine: IPv4 or IPv6 loopback (also IPv4-mapped).
bool is_loopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// Disconnects the connections that `applied` may have ended and the table no longer accepts.
void kick_invalid(Plugin& plugin, const gh::broker::Applied& applied) {
  for (const auto& client_id : plugin.clients.invalid(*plugin.table, now_ms(), applied)) {
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "gatehouse: disconnecting %s: credential no longer valid",
                         client_id.c_str());
    ++plugin.counters.disconnected;
    mosquitto_kick_client_by_clientid(client_id.c_str(), false);
  }
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto& plugin = *static_cast<Plugin*>(userdata);
  auto* event = static_cast<mosquitto_evt_basic_auth*>(event_data);
  const char* id = mosquitto_client_id(event->client);
  std::string client_id = id ? id : "";
  const char* address = mosquitto_client_address(event->client);
  auto who = plugin.table->authenticate(event->username, event->password, client_id, now_ms(),
                                        address != nullptr && is_loopback(address));
  gh::Status taken = who ? plugin.clients.may_take(client_id, *who) : who.status();
  if (!taken.is_ok()) {
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "gatehouse: refused %s (user %s) from %s: %s",
                         client_id.c_str(), event->username ? event->username : "-",
                         address ? address : "?", taken.message().c_str());
    ++plugin.counters.connects_refused;
    return MOSQ_ERR_AUTH;
  }
  auto permissions = gh::broker::permissions_of(plugin.rules, who->identity, client_id);
  plugin.clients.add(event->client,
                     {std::move(client_id), std::move(*who), std::move(permissions)});
  return MOSQ_ERR_SUCCESS;
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto& plugin = *static_cast<Plugin*>(userdata);
  auto* event = static_cast<mosquitto_evt_acl_check*>(event_data);
  const auto* connection = plugin.clients.find(event->client);
  if (connection == nullptr || event->topic == nullptr) return MOSQ_ERR_ACL_DENIED;
  Access access;
  switch (event->access) {
    case MOSQ_ACL_READ:
      access = Access::kRead;
      break;
    case MOSQ_ACL_WRITE:
      access = Access::kWrite;
      break;
    case MOSQ_ACL_SUBSCRIBE:
      access = Access::kSubscribe;
      break;
    case MOSQ_ACL_UNSUBSCRIBE:
      return MOSQ_ERR_SUCCESS;
    default:
      return MOSQ_ERR_ACL_DENIED;
  }
  bool ok = gh::broker::allowed(plugin.rules, connection->permissions, event->topic, access,
                                event->retain);
  if (!ok && access != Access::kRead) {
    ++(access == Access::kWrite ? plugin.counters.publishes_denied
                                : plugin.counters.subscribes_denied);
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "gatehouse: denied %s%s of '%s' to %s (%s)",
                         access == Access::kWrite ? "publish" : "subscribe",
                         event->retain ? " (retained)" : "", event->topic,
                         connection->client_id.c_str(),
                         std::string(gh::broker::kind_name(connection->who.identity.kind)).c_str());
  }
  return ok ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
}

// Runs after the ACL check allowed the PUBLISH: a set command is re-addressed to the topic that
// names its sender. A message under P/by/ from anyone but the server never gets here (no one
// else may write there); refusing it again keeps a forged name out even if a rule changes.
// A message past its connection's publish rate is dropped here, after the ACL check (a denied
// message costs no token) and before anyone receives it: mosquitto answers a QoS 1 message
// with PUBACK all the same (MQTT 5: reason "not authorized"), a QoS 0 message vanishes.
int on_message(int, void* event_data, void* userdata) {
  auto& plugin = *static_cast<Plugin*>(userdata);
  auto* event = static_cast<mosquitto_evt_message*>(event_data);
  auto* connection = plugin.clients.find(event->client);
  if (connection == nullptr || event->topic == nullptr) return MOSQ_ERR_ACL_DENIED;
  const auto& who = connection->who.identity;
  if (who.kind == Kind::kServer) return MOSQ_ERR_SUCCESS;
  if (!connection->publishes.take(plugin.publish_limit, steady_ms())) {
    ++plugin.counters.rate_limited[static_cast<size_t>(who.kind)];
    if (!connection->told_over_limit) {  // once per connection: a flood must not flood the log
      connection->told_over_limit = true;
      mosquitto_log_printf(
          MOSQ_LOG_NOTICE, "gatehouse: %s (%s) publishes past %.0f messages/s; dropping the excess",
          connection->client_id.c_str(), std::string(gh::broker::kind_name(who.kind)).c_str(),
          plugin.publish_limit.per_second);
    }
    return MOSQ_ERR_ACL_DENIED;
  }
  if (gh::broker::is_attribution_topic(plugin.rules, event->topic)) {
    ++plugin.counters.publishes_denied;
    return MOSQ_ERR_ACL_DENIED;
  }
  auto attributed = gh::broker::attributed_topic(plugin.rules, who, event->topic);
  if (!attributed) return MOSQ_ERR_SUCCESS;
  char* topic = mosquitto_strdup(attributed->c_str());
  if (topic == nullptr) return MOSQ_ERR_NOMEM;
  mosquitto_free(event->topic);
  event->topic = topic;
  return MOSQ_ERR_SUCCESS;
}

void respond(const Plugin& plugin, const nlohmann::json& answer) {
  const std::string text = answer.dump();
  mosquitto_broker_publish_copy(plugin.table->server().client_id.c_str(), kResponseTopic,
                                static_cast<int>(text.size()), text.data(), 1, false, nullptr);
}

int on_control(int, void* event_data, void* userdata) {
  auto& plugin = *static_cast<Plugin*>(userdata);
  auto* event = static_cast<mosquitto_evt_control*>(event_data);
  const auto* connection = plugin.clients.find(event->client);
  if (connection == nullptr || connection->who.identity.kind != gh::broker::Kind::kServer) {
    return MOSQ_ERR_ACL_DENIED;
  }
  std::string_view text(static_cast<const char*>(event->payload), event->payloadlen);
  gh::broker::Applied applied;
  auto status = plugin.table->apply(text, &applied);
  if (!status.is_ok()) {
    mosquitto_log_printf(MOSQ_LOG_WARNING, "gatehouse: bad control message: %s",
                         status.message().c_str());
    respond(plugin, {{"ok", false}, {"error", status.message()}});
    return MOSQ_ERR_SUCCESS;
  }
  kick_invalid(plugin, applied);
  if (applied.op == "commit") {
    const auto& table = *plugin.table;
    respond(plugin, {{"ok", true},
                     {"op", applied.op},
                     {"doors", table.size("door")},
                     {"tokens", table.size("token")},
                     {"keys", table.size("key")},
                     {"sessions", table.size("session")}});
  }
  return MOSQ_ERR_SUCCESS;
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto& plugin = *static_cast<Plugin*>(userdata);
  plugin.clients.remove(static_cast<mosquitto_evt_disconnect*>(event_data)->client);
  return MOSQ_ERR_SUCCESS;
}

int on_tick(int, void* event_data, void* userdata) {
  auto& plugin = *static_cast<Plugin*>(userdata);
  // mosquitto 2.0.11 passes the tick's times zeroed (a FIXME in its plugin.c): read the clock.
  (void)event_data;
  const time_t now = std::time(nullptr);
  if (now >= plugin.next_sweep) {
    plugin.next_sweep = now + kExpirySweepSeconds;
    gh::broker::Applied expiry;  // sessions expire by the clock: every connection
    expiry.ends = gh::broker::Applied::Ends::kAll;
    kick_invalid(plugin, expiry);
    if (!(plugin.counters == plugin.reported) && plugin.table->ready()) {
      const auto& c = plugin.counters;
      nlohmann::json limited = nlohmann::json::object();
      for (auto kind :
           {Kind::kDoor, Kind::kProvisioner, Kind::kUser, Kind::kToken, Kind::kAnonymous}) {
        limited[std::string(gh::broker::kind_name(kind))] =
            c.rate_limited[static_cast<size_t>(kind)];
      }
      respond(plugin, {{"ok", true},
                       {"op", "stats"},
                       {"connects_refused", c.connects_refused},
                       {"publishes_denied", c.publishes_denied},
                       {"subscribes_denied", c.subscribes_denied},
                       {"disconnected", c.disconnected},
                       {"rate_limited", limited}});
      plugin.reported = c;
    }
  }
  return MOSQ_ERR_SUCCESS;
}

}  // namespace

// The module is built with hidden visibility; these three are what mosquitto looks up.
#define GH_PLUGIN_API __attribute__((visibility("default")))

extern "C" {

GH_PLUGIN_API int mosquitto_plugin_version(int supported_version_count,
                                           const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

GH_PLUGIN_API int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                                        struct mosquitto_opt* options, int option_count) {
  if (sodium_init() < 0) return MOSQ_ERR_UNKNOWN;
  auto plugin = std::make_unique<Plugin>();
  plugin->id = identifier;
  gh::broker::ServerCredential server;
  std::string server_hex;
  auto anonymous = gh::broker::Anonymous::kLocal;
  std::string_view rate_text = "0", burst_text;
  for (int i = 0; i < option_count; ++i) {
    std::string_view key = options[i].key, value = options[i].value ? options[i].value : "";
    if (key == "server_username") server.username = value;
    if (key == "server_sha256") server_hex = value;
    if (key == "server_client_id") server.client_id = value;
    if (key == "prefix") plugin->rules.prefix = value;
    if (key == "anonymous") anonymous = anonymous_from(value);
    if (key == "legacy") plugin->rules.legacy = on(value);
    if (key == "legacy_topics") plugin->rules.legacy_topics = split_commas(value);
    if (key == "discovery_prefix") plugin->rules.discovery_prefix = value;
    if (key == "publish_rate") rate_text = value;
    if (key == "publish_burst") burst_text = value;
  }
  auto rate = gh::broker::parse_count(rate_text, gh::broker::kMaxPublishRate);
  auto burst =
      burst_text.empty() ? rate : gh::broker::parse_count(burst_text, gh::broker::kMaxPublishBurst);
  if (!rate || !burst || (*rate > 0 && *burst < 1)) {
    mosquitto_log_printf(MOSQ_LOG_ERR,
                         "gatehouse: plugin_opt_publish_rate must be 0-%llu and "
                         "plugin_opt_publish_burst 1-%llu messages",
                         static_cast<unsigned long long>(gh::broker::kMaxPublishRate),
                         static_cast<unsigned long long>(gh::broker::kMaxPublishBurst));
    return MOSQ_ERR_INVAL;
  }
  plugin->publish_limit = {double(*rate), double(*burst)};
  server.sha256.resize(crypto_hash_sha256_BYTES);
  size_t len = 0;
  if (server_hex.size() != 2 * crypto_hash_sha256_BYTES ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(server.sha256.data()), server.sha256.size(),
                     server_hex.data(), server_hex.size(), nullptr, &len, nullptr) != 0 ||
      len != crypto_hash_sha256_BYTES) {
    mosquitto_log_printf(MOSQ_LOG_ERR,
                         "gatehouse: plugin_opt_server_sha256 must be 64 hex characters");
    return MOSQ_ERR_INVAL;
  }
  plugin->table = std::make_unique<IdentityTable>(std::move(server), anonymous);
  void* data = plugin.get();
  if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr, data) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr, data) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, nullptr, data) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_CONTROL, on_control, kControlTopic, data) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr, data) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, nullptr, data)) {
    return MOSQ_ERR_UNKNOWN;
  }
  mosquitto_log_printf(MOSQ_LOG_INFO,
                       "gatehouse: access plugin loaded (prefix %s, legacy %s, publish rate %.0f/s "
                       "burst %.0f per client; 0: no limit)",
                       plugin->rules.prefix.c_str(), plugin->rules.legacy ? "on" : "off",
                       plugin->publish_limit.per_second, plugin->publish_limit.burst);
  *userdata = plugin.release();
  return MOSQ_ERR_SUCCESS;
}

GH_PLUGIN_API int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt*, int) {
  auto* plugin = static_cast<Plugin*>(userdata);
  if (plugin == nullptr) return MOSQ_ERR_SUCCESS;
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr);
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr);
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_MESSAGE, on_message, nullptr);
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_CONTROL, on_control, kControlTopic);
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
  mosquitto_callback_unregister(plugin->id, MOSQ_EVT_TICK, on_tick, nullptr);
  delete plugin;
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
