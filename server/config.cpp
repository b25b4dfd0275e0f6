#include "server/config.h"

#include <algorithm>
#include <caf/config_option_adder.hpp>
#include <cctype>
#include <thread>
#include <utility>

#include "actors/system/nats_connection.h"
#include "adapters/mqtt/broker_url.h"
#include "events/log.h"

namespace gh::server {

Config::Config() {
  // CAF's defaults are the work-stealing scheduler with max(cores, 4) workers, whose idle
  // workers poll for work with 50 us sleeps: under `perf` on the wire benchmark they spent
  // over half of their samples in those sleeps and took a third of gatehouse's CPU per post
  // (docs/benchmarks.md "Where the time goes"). Work sharing parks idle workers on a
  // condition variable, and one worker per core is all the CPU there is. Both stay CAF
  // options: the command line or config file overrides these defaults.
  set("scheduler.policy", caf::atom("sharing"));
  set("scheduler.max-threads", size_t(std::max(2u, std::thread::hardware_concurrency())));
  own_options_begin_ = custom_options_.size();
  opt_group{custom_options_, "store"}
      .add(store_path, "path", "RocksDB directory holding the event log and snapshots")
      .add(run_dir, "run-dir", "directory for the private broker's files and the URL key")
      .add(store_backend, "backend",
           "rocksdb|postgres: the embedded store in store.path, or PostgreSQL (cluster mode)")
      .add(store_postgres, "postgres",
           "libpq connection string of the cluster's database (store.backend=postgres)")
      .add(store_postgres_password_file, "postgres-password-file",
           "file holding the PostgreSQL password (instead of one in the connection string)");
  opt_group{custom_options_, "cluster"}
      .add(cluster_node, "node", "this node's id, unique in the cluster (store.backend=postgres)")
      .add(cluster_advertise, "advertise",
           "HTTP base URL other nodes reach this one at; empty: http://ADDRESS:PORT bound")
      .add(cluster_lease_ttl_ms, "lease-ttl", "ms a shard lease lasts unless renewed (TTL/3)")
      .add(cluster_lease_margin_ms, "lease-margin",
           "ms before a lease may expire at which this node stops serving its shard")
      .add(cluster_session_groups, "session-groups",
           "shards move in this many groups, one MQTT session each on NATS (power of two)")
      .add(cluster_broker, "broker",
           "private|nats: each node its own broker, or mqtt.broker is the NATS cluster's MQTT")
      .add(cluster_nats_account_seed_file, "nats-account-seed-file",
           "file (0600) holding the NATS account seed gatehousectl nats-auth create wrote")
      .add(cluster_nats_url, "nats-url",
           "NATS client URLs (nats://host:port, comma-separated): push door revocations there")
      .add(cluster_nats_operator_signing_seed_file, "nats-operator-signing-seed-file",
           "file (0600) holding the operator signing key that re-signs the account (nats-url)")
      .add(cluster_nats_system_creds_file, "nats-system-creds-file",
           "file (0600): the NATS system-account user that pushes the account (nats-url)");
  opt_group{custom_options_, "mqtt"}
      .add(broker_url, "broker",
           "broker URL (tcp://host:port); on NATS a comma-separated list of the cluster's MQTT "
           "listeners; empty: start a private mosquitto")
      .add(mqtt_prefix, "prefix", "topic prefix of every gatehouse topic")
      .add(mqtt_client_id, "client-id", "MQTT client id (the persistent session's name)")
      .add(mqtt_version, "version", "MQTT protocol of gatehouse's connection: 5, or 4 (3.1.1)")
      .add(mqtt_keep_alive_s, "keep-alive",
           "seconds: MQTT keep-alive of gatehouse's connection (a silent broker is dropped)")
      .add(mqtt_max_payload, "max-payload", "largest accepted payload in bytes (non-picture)")
      .add(mqtt_max_picture, "max-picture", "largest accepted stranger picture in bytes")
      .add(mqtt_publish_rate, "publish-rate",
           "messages/s each client may publish through the private broker (0: no limit)")
      .add(mqtt_publish_burst, "publish-burst",
           "messages each client may publish at once above mqtt.publish-rate")
      .add(mqtt_port, "port", "loopback port of the private broker (0: any free port)")
      .add(mqtt_anonymous, "anonymous",
           "on|local|off: clients without credentials (local: from this machine)")
      .add(mqtt_listen, "listen", "ADDRESS:PORT of a network listener of the private broker")
      .add(mqtt_tls_cert, "tls-cert", "PEM certificate of the network listener")
      .add(mqtt_tls_key, "tls-key", "PEM private key of the network listener")
      .add(mqtt_tls_client_ca, "tls-client-ca", "CA file: doors must present a certificate")
      .add(mqtt_insecure, "insecure", "on|off: allow mqtt.listen without TLS (never in production)")
      .add(mqtt_plugin, "plugin", "path of gatehouse_auth.so (default: the one built)")
      .add(mqtt_username, "username", "gatehouse's own user name on the broker")
      .add(mqtt_password_file, "password-file",
           "gatehouse's broker password; empty: RUN-DIR/mqtt-server.secret");
  opt_group{custom_options_, "http"}
      .add(http_address, "address", "address to listen on")
      .add(http_port, "port", "port to listen on")
      .add(http_threads, "threads", "worker threads")
      .add(http_max_body, "max-body", "largest accepted request body in bytes")
      .add(http_public_url, "public-url", "base of links in alerts; empty: http://ADDRESS:PORT")
      .add(picture_url_ttl_s, "picture-url-ttl", "seconds a signed picture link stays valid");
  opt_group{custom_options_, "auth"}
      .add(api_tokens, "tokens", "API tokens as name:SHA256HEX (gatehousectl token create)")
      .add(bootstrap_token, "bootstrap-token",
           "on|off: create and print an admin token if none exist");
  opt_group{custom_options_, "devices"}
      .add(auto_register, "auto-register", "on|off: register unknown devices on their first hello")
      .add(command_timeout_ms, "command-timeout", "ms a sent command waits for confirmation")
      .add(offline_after_ms, "offline-after",
           "ms of silence after which a door shows offline (0: only its own word or will)")
      .add(idle_timeout_ms, "idle-timeout", "ms after which an idle device actor is passivated")
      .add(max_live_actors, "max-live", "most device actors kept in memory")
      .add(snapshot_every, "snapshot-every", "events per stream between snapshots (0: never)")
      .add(pictures_per_door, "pictures-per-door",
           "stranger pictures kept per door; older ones are deleted (0: no limit)")
      .add(picture_bytes_per_door, "picture-bytes-per-door",
           "bytes of stranger pictures kept per door; older ones are deleted (0: no limit)")
      .add(picture_retention_h, "picture-retention",
           "hours a stranger picture is kept (0: no limit)")
      .add(max_pictures_per_minute, "max-pictures-per-minute",
           "stranger pictures accepted per door in any minute, at most 64 (0: no limit)");
  opt_group{custom_options_, "chat"}
      .add(argon2_ops, "argon2-ops", "Argon2id passes per password hash")
      .add(argon2_mem_kib, "argon2-mem-kib", "Argon2id memory per password hash in KiB")
      .add(hash_threads, "hash-threads", "threads hashing passwords (off the actor threads)")
      .add(hash_queue, "hash-queue", "password hashes allowed to wait; beyond: 'retry'")
      .add(chat_max_text, "max-text", "largest message text in bytes")
      .add(session_ttl_h, "session-ttl", "hours a login session stays valid")
      .add(chat_max_live, "max-live", "most user and room actors kept in memory")
      .add(login_rate_per_source, "login-rate-per-source",
           "login/reset attempts per minute per HTTP address or MQTT client")
      .add(login_burst_per_source, "login-burst-per-source", "attempts at once per source")
      .add(login_rate_mqtt, "login-rate-mqtt",
           "login/reset attempts per minute over MQTT and legacy together")
      .add(login_burst_mqtt, "login-burst-mqtt", "attempts at once over MQTT and legacy together")
      .add(login_rate_per_account, "login-rate-per-account",
           "login/reset attempts per minute per account, all sources")
      .add(login_burst_per_account, "login-burst-per-account", "attempts at once per account")
      .add(backoff_after, "backoff-after",
           "failures in a row per (account, source) before that source must wait")
      .add(backoff_first_ms, "backoff-first-ms", "the first wait in ms; doubles per failure")
      .add(backoff_max_ms, "backoff-max-ms", "the longest wait in ms");
  opt_group{custom_options_, "http"}
      .add(http_max_streams, "max-streams", "concurrent Server-Sent Event streams")
      .add(http_max_header_bytes, "max-header-bytes",
           "largest request head (request line and headers) in bytes; beyond: 431")
      .add(http_max_headers, "max-headers", "most header lines in a request; beyond: 431")
      .add(http_header_timeout_s, "header-timeout",
           "seconds a request head may take to arrive; then 408 and close")
      .add(http_max_connections, "max-connections", "open HTTP connections in all; beyond: 503")
      .add(http_max_connections_per_source, "max-connections-per-source",
           "open HTTP connections per client address; beyond: 429")
      .add(http_max_streams_per_user, "max-streams-per-user",
           "event streams one user or token may hold at once (0: no limit); beyond: 429");
  opt_group{custom_options_, "actions"}
      .add(action_topics, "topics", "topics the action table listens on (with legacy on)")
      .add(remote_install, "remote-install", "on|off: operators may install scripts over MQTT")
      .add(action_max_instructions, "max-instructions", "Lua VM instructions per call")
      .add(action_max_memory_kib, "max-memory-kib", "Lua memory per call in KiB")
      .add(action_max_source, "max-source", "largest script in bytes")
      .add(action_max_failures, "max-failures",
           "failed calls in a row that disable an action (0: never)")
      .add(action_threads, "threads", "threads running scripts (off the actor threads)")
      .add(action_queue, "queue", "calls allowed to wait for a script thread")
      .add(action_max_call_ms, "max-call-ms",
           "wall-clock limit of one script call (install check included) in ms")
      .add(action_max_input, "max-input", "largest payload a scripted action accepts in bytes")
      .add(action_runs_excerpt, "runs-excerpt",
           "bytes of input, output and error a recorded run keeps")
      .add(action_runs_retain, "runs-retain",
           "newest runs per action whose excerpts are kept (older ones are dropped); 0: all")
      .add(action_sandbox_helper, "sandbox-helper",
           "path of gatehouse-lua-sandbox (default: next to the gatehouse executable)");
  opt_group{custom_options_, "global"}.add(legacy, "legacy",
                                           "on|off: the seeds' own unauthenticated MQTT protocols");
  opt_group{custom_options_, "ha"}
      .add(ha_discovery, "discovery",
           "on|off: Home Assistant MQTT discovery of every door, and its set topic for API tokens")
      .add(ha_discovery_prefix, "discovery-prefix",
           "Home Assistant's discovery prefix (its MQTT integration's discovery_prefix)");
  opt_group{custom_options_, "log"}
      .add(log_level, "level", "debug|info|warning|error: the least severe lines written")
      .add(log_format, "format", "text|json: one line per event, for people or for machines");
}

std::vector<const caf::config_option*> Config::own_options() const {
  std::vector<const caf::config_option*> out;
  for (size_t i = own_options_begin_; i < custom_options_.size(); ++i)
    out.push_back(&*(custom_options_.begin() + static_cast<std::ptrdiff_t>(i)));
  return out;
}

namespace {
bool valid_prefix(const std::string& prefix) {
  if (prefix.empty() || prefix.size() > 64 || prefix.front() == '/' || prefix.back() == '/')
    return false;
  for (char c : prefix)
    if (c == '#' || c == '+' || c == '$' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

// True when one of the two prefixes is the other or lies under it (a/b and a/b/c).
bool overlaps(const std::string& a, const std::string& b) {
  auto under = [](const std::string& inner, const std::string& outer) {
    return inner == outer || inner.starts_with(outer + "/");
  };
  return under(a, b) || under(b, a);
}
}  // namespace

bool postgres_backend(const Config& config) { return config.store_backend == "postgres"; }

bool nats_broker(const Config& config) {
  return postgres_backend(config) && config.cluster_broker == "nats";
}

bool switch_on(const std::string& value) {
  return value == "on" || value == "true" || value == "yes" || value == "1";
}

namespace {
bool valid_switch(const std::string& value) {
  return switch_on(value) || value == "off" || value == "false" || value == "no" || value == "0";
}
}  // namespace

namespace {
// cluster.nats-url and its two files: all or none, on NATS only, each URL nats://HOST:PORT.
Status validate_revocation_push(const Config& c) {
  const bool url = !c.cluster_nats_url.empty();
  const bool seed = !c.cluster_nats_operator_signing_seed_file.empty();
  const bool creds = !c.cluster_nats_system_creds_file.empty();
  if (!url && !seed && !creds) return Status::ok();
  if (!nats_broker(c))
    return invalid_argument(
        "cluster.nats-url, cluster.nats-operator-signing-seed-file and "
        "cluster.nats-system-creds-file need cluster.broker=nats");
  if (!url || !seed || !creds)
    return invalid_argument(
        "cluster.nats-url, cluster.nats-operator-signing-seed-file and "
        "cluster.nats-system-creds-file go together (gatehousectl nats-auth create writes both "
        "files): give all three, or none to leave revocations at NATS to an operator");
  if (auto urls = nats_client::parse_urls(c.cluster_nats_url); !urls)
    return invalid_argument("cluster.nats-url: " + urls.status().message());
  return Status::ok();
}

// store.backend and, for PostgreSQL, what cluster mode needs. The connection string itself is
// checked by libpq's parser when the App opens it (pg_conninfo.h); here only its presence.
Status validate_backend(const Config& c) {
  if (c.store_backend != "rocksdb" && c.store_backend != "postgres")
    return invalid_argument("store.backend: rocksdb|postgres, got '" + c.store_backend + "'");
  if (c.broker_url.find(',') != std::string::npos && c.cluster_broker != "nats")
    return invalid_argument(
        "mqtt.broker lists several URLs: only with cluster.broker=nats (the MQTT listeners of "
        "one NATS cluster)");
  if (!postgres_backend(c)) {
    if (c.cluster_broker != "private")
      return invalid_argument("cluster.broker=" + c.cluster_broker +
                              " needs store.backend=postgres (cluster mode)");
    if (!c.cluster_nats_account_seed_file.empty())
      return invalid_argument("cluster.nats-account-seed-file needs cluster.broker=nats");
    GH_RETURN_IF_ERROR(validate_revocation_push(c));
    if (!c.store_postgres.empty() || !c.store_postgres_password_file.empty())
      return invalid_argument(
          "store.postgres and store.postgres-password-file need store.backend=postgres");
    return Status::ok();
  }
  if (c.store_postgres.empty())
    return invalid_argument(
        "store.backend=postgres needs store.postgres, a libpq connection string such as "
        "postgresql://gatehouse@db1:5432,db2:5432/gatehouse?target_session_attrs=read-write");
  const auto& node = c.cluster_node;
  const bool node_ok =
      !node.empty() && node.size() <= 64 && std::all_of(node.begin(), node.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
      });
  if (!node_ok)
    return invalid_argument(
        "store.backend=postgres needs cluster.node, this node's id unique in the cluster "
        "([A-Za-z0-9._-]{1,64})");
  if (c.cluster_lease_ttl_ms < 1000 || c.cluster_lease_ttl_ms > 3600 * 1000)
    return invalid_argument("cluster.lease-ttl must be between 1000 and 3600000 ms");
  if (c.cluster_lease_margin_ms >= c.cluster_lease_ttl_ms / 2)
    return invalid_argument("cluster.lease-margin must be below half of cluster.lease-ttl");
  const auto groups = c.cluster_session_groups;
  if (groups < 1 || groups > 1024 || (groups & (groups - 1)) != 0)
    return invalid_argument("cluster.session-groups must be a power of two from 1 to 1024");
  if (c.cluster_broker != "private" && c.cluster_broker != "nats")
    return invalid_argument("cluster.broker: private|nats, got '" + c.cluster_broker + "'");
  if (c.cluster_broker == "nats") {
    if (c.broker_url.empty())
      return invalid_argument(
          "cluster.broker=nats needs mqtt.broker, the URL of a NATS MQTT listener "
          "(tcp://host:port)");
    if (auto urls = mqtt_adapter::parse_broker_urls(c.broker_url); !urls)
      return invalid_argument("mqtt.broker: " + urls.status().message());
    if (node.find('.') != std::string::npos)
      return invalid_argument(
          "cluster.broker=nats: cluster.node must not contain '.', which NATS' MQTT refuses "
          "in topics (other nodes hand requests on to PREFIX/nodes/NODE/...), got '" +
          node + "'");
    if (c.cluster_nats_account_seed_file.empty())
      return invalid_argument(
          "cluster.broker=nats needs cluster.nats-account-seed-file, the account seed "
          "gatehousectl nats-auth create wrote (NATS checks every MQTT client's JWT with it)");
  } else if (!c.cluster_nats_account_seed_file.empty()) {
    return invalid_argument("cluster.nats-account-seed-file needs cluster.broker=nats");
  }
  return validate_revocation_push(c);
}

// A network listener needs TLS (certificate and key) unless told `insecure` explicitly.
Status validate_listener(const Config& c) {
  if (c.mqtt_anonymous != "local" && !valid_switch(c.mqtt_anonymous))
    return invalid_argument("mqtt.anonymous: on|local|off");
  if (!valid_switch(c.mqtt_insecure)) return invalid_argument("mqtt.insecure: on|off");
  if (c.mqtt_listen.empty()) {
    if (!c.mqtt_tls_cert.empty() || !c.mqtt_tls_key.empty())
      return invalid_argument("mqtt.tls-cert and mqtt.tls-key need mqtt.listen=ADDRESS:PORT");
    return Status::ok();
  }
  if (!c.broker_url.empty())
    return invalid_argument("mqtt.listen configures the private broker; not with mqtt.broker");
  auto colon = c.mqtt_listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == c.mqtt_listen.size())
    return invalid_argument("mqtt.listen must be ADDRESS:PORT, e.g. 0.0.0.0:8883");
  if (c.mqtt_tls_cert.empty() != c.mqtt_tls_key.empty())
    return invalid_argument("mqtt.tls-cert and mqtt.tls-key go together");
  if (c.mqtt_tls_cert.empty() && !switch_on(c.mqtt_insecure))
    return invalid_argument(
        "mqtt.listen opens the broker to the network: give mqtt.tls-cert and mqtt.tls-key, or "
        "mqtt.insecure=on to send credentials in clear (never in production)");
  if (!c.mqtt_tls_client_ca.empty() && c.mqtt_tls_cert.empty())
    return invalid_argument("mqtt.tls-client-ca needs TLS (mqtt.tls-cert, mqtt.tls-key)");
  return Status::ok();
}
}  // namespace

Status validate(const Config& c) {
  if (!log::parse_level(c.log_level))
    return invalid_argument("log.level: debug|info|warning|error");
  if (!log::parse_format(c.log_format)) return invalid_argument("log.format: text|json");
  if (!valid_switch(c.auto_register)) return invalid_argument("devices.auto-register: on|off");
  if (!valid_switch(c.bootstrap_token)) return invalid_argument("auth.bootstrap-token: on|off");
  if (c.store_path.empty()) return invalid_argument("store.path must not be empty");
  if (!valid_prefix(c.mqtt_prefix))
    return invalid_argument(
        "mqtt.prefix must be 1-64 characters without / at either end, "
        "#, + or $");
  if (!valid_switch(c.ha_discovery)) return invalid_argument("ha.discovery: on|off");
  // API tokens read everything under the discovery prefix: it must not reach into gatehouse's.
  if (!valid_prefix(c.ha_discovery_prefix) || overlaps(c.ha_discovery_prefix, c.mqtt_prefix))
    return invalid_argument(
        "ha.discovery-prefix must be 1-64 characters without / at either end, #, + or $, and "
        "neither contain mqtt.prefix nor lie inside it");
  if (c.mqtt_max_payload < 64 || c.mqtt_max_payload > 1 << 20)
    return invalid_argument("mqtt.max-payload must be between 64 and 1048576");
  if (c.mqtt_max_picture < 1024 || c.mqtt_max_picture > 64 << 20)
    return invalid_argument("mqtt.max-picture must be between 1024 and 67108864");
  if (c.http_threads == 0 || c.http_threads > 256)
    return invalid_argument("http.threads must be between 1 and 256");
  if (c.http_max_header_bytes < 1024 || c.http_max_header_bytes > 1024 * 1024)
    return invalid_argument("http.max-header-bytes must be between 1024 and 1048576");
  if (c.http_max_headers < 8 || c.http_max_headers > 10000)
    return invalid_argument("http.max-headers must be between 8 and 10000");
  if (c.http_header_timeout_s < 1 || c.http_header_timeout_s > 3600)
    return invalid_argument("http.header-timeout must be between 1 and 3600 seconds");
  if (c.http_max_connections < 1 || c.http_max_connections > 1000000)
    return invalid_argument("http.max-connections must be between 1 and 1000000");
  if (c.http_max_connections_per_source < 1)
    return invalid_argument("http.max-connections-per-source must be at least 1");
  if (c.command_timeout_ms < 100) return invalid_argument("devices.command-timeout >= 100 ms");
  if (c.idle_timeout_ms < 100) return invalid_argument("devices.idle-timeout >= 100 ms");
  if (c.max_live_actors < 16) return invalid_argument("devices.max-live must be at least 16");
  if (c.max_pictures_per_minute > 64)
    return invalid_argument("devices.max-pictures-per-minute must be at most 64");
  if (c.picture_bytes_per_door != 0 && c.picture_bytes_per_door < c.mqtt_max_picture)
    return invalid_argument(
        "devices.picture-bytes-per-door must be 0 or at least mqtt.max-picture");
  if (c.picture_retention_h > 100 * 365 * 24)
    return invalid_argument("devices.picture-retention must be at most 876000 hours");
  if (!valid_switch(c.legacy)) return invalid_argument("legacy: on|off");
  if (!valid_switch(c.remote_install)) return invalid_argument("actions.remote-install: on|off");
  if (c.action_topics.empty()) return invalid_argument("actions.topics must name a topic");
  if (c.action_max_instructions < 1000)
    return invalid_argument("actions.max-instructions must be at least 1000");
  if (c.action_max_memory_kib < 64) return invalid_argument("actions.max-memory-kib >= 64");
  if (c.action_threads < 1 || c.action_threads > 16)
    return invalid_argument("actions.threads must be between 1 and 16");
  if (c.action_queue < 1) return invalid_argument("actions.queue must be at least 1");
  if (c.action_max_call_ms < 10 || c.action_max_call_ms > 60000)
    return invalid_argument("actions.max-call-ms must be between 10 and 60000");
  // Far below the memory cap: the payload is in the Lua state twice (payload and args).
  if (c.action_max_input < 64 || c.action_max_input > c.action_max_memory_kib * 1024 / 8)
    return invalid_argument("actions.max-input must be between 64 and max-memory-kib*1024/8");
  if (c.action_runs_excerpt < 16 || c.action_runs_excerpt > 64 * 1024)
    return invalid_argument("actions.runs-excerpt must be between 16 and 65536");
  if (c.mqtt_keep_alive_s < 1 || c.mqtt_keep_alive_s > 3600)
    return invalid_argument("mqtt.keep-alive must be between 1 and 3600 seconds");
  if (c.mqtt_publish_rate > 1000000)
    return invalid_argument(
        "mqtt.publish-rate must be between 0 (no limit) and 1000000 messages per second");
  if (c.mqtt_publish_rate > 0 && (c.mqtt_publish_burst < 1 || c.mqtt_publish_burst > 10000000))
    return invalid_argument("mqtt.publish-burst must be between 1 and 10000000 messages");
  if (c.mqtt_version != 4 && c.mqtt_version != 5)
    return invalid_argument("mqtt.version must be 5 or 4 (3.1.1)");
  if (c.argon2_ops < 1 || c.argon2_ops > 64)
    return invalid_argument("chat.argon2-ops must be between 1 and 64");
  if (c.argon2_mem_kib < 8 || c.argon2_mem_kib > 4 * 1024 * 1024)
    return invalid_argument("chat.argon2-mem-kib must be between 8 and 4194304");
  if (c.hash_threads < 1 || c.hash_threads > 64)
    return invalid_argument("chat.hash-threads must be between 1 and 64");
  if (c.hash_queue < 1) return invalid_argument("chat.hash-queue must be at least 1");
  if (c.chat_max_text < 1 || c.chat_max_text > 64 * 1024)
    return invalid_argument("chat.max-text must be between 1 and 65536");
  if (c.session_ttl_h < 1 || c.session_ttl_h > 24 * 365)
    return invalid_argument("chat.session-ttl must be between 1 and 8760 hours");
  if (c.chat_max_live < 16) return invalid_argument("chat.max-live must be at least 16");
  GH_RETURN_IF_ERROR(validate_listener(c));
  GH_RETURN_IF_ERROR(validate_backend(c));
  for (auto [value, name] : {std::pair{c.login_rate_per_source, "login-rate-per-source"},
                             std::pair{c.login_burst_per_source, "login-burst-per-source"},
                             std::pair{c.login_rate_mqtt, "login-rate-mqtt"},
                             std::pair{c.login_burst_mqtt, "login-burst-mqtt"},
                             std::pair{c.login_rate_per_account, "login-rate-per-account"},
                             std::pair{c.login_burst_per_account, "login-burst-per-account"}})
    if (value < 1 || value > 1000000)
      return invalid_argument(std::string("chat.") + name + " must be between 1 and 1000000");
  if (c.backoff_first_ms < 1 || c.backoff_max_ms < c.backoff_first_ms ||
      c.backoff_max_ms > 24 * 3600 * 1000)
    return invalid_argument(
        "chat.backoff-first-ms must be at least 1 and at most chat.backoff-max-ms (<= 1 day)");
  return Status::ok();
}

}  // namespace gh::server
