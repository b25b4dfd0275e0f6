// gatehouse's one configuration system: CAF's actor_system_config, so every option can be
// given on the command line (--http.port=8081) or in the config file (caf-application.ini,
// or --config-file=PATH). Defaults work on a laptop: an embedded store under ./var, a
// private mosquitto on a free loopback port, HTTP on 127.0.0.1:8080.
// Not thread-safe: filled once by parse() before anything starts.
#pragma once

#include <caf/actor_system_config.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh::server {

class Config : public caf::actor_system_config {
 public:
  Config();

  // Every option, CAF's and gatehouse's, in the order they were added.
  const caf::config_option_set& options() const { return custom_options_; }
  // gatehouse's own options (not CAF's), in the order of --help.
  std::vector<const caf::config_option*> own_options() const;

  // store
  std::string store_path = "var/store";
  std::string run_dir = "var/run";  // private broker's config and log, signing key
  // "rocksdb": the embedded store in store_path; "postgres": cluster mode (docs/cluster.md),
  // the journal, snapshots and shard leases in PostgreSQL.
  std::string store_backend = "rocksdb";
  std::string store_postgres;                // libpq connection string (keywords or URI)
  std::string store_postgres_password_file;  // its password, kept out of the command line
  // cluster (store.backend=postgres)
  std::string cluster_node;               // this node's id, unique in the cluster
  std::string cluster_advertise;          // where other nodes reach its HTTP; empty: the bound URL
  size_t cluster_lease_ttl_ms = 10000;    // a shard lease lasts this long unless renewed
  size_t cluster_lease_margin_ms = 2000;  // stop serving a shard this long before it may expire
  // Shards move between nodes in this many groups, one MQTT session each on NATS (a power of
  // two dividing 1024, the same on every node).
  size_t cluster_session_groups = 32;
  // "private": each node its own mosquitto (or mqtt.broker); "nats": mqtt.broker is a NATS
  // MQTT listener whose partition(session-groups, …) mappings carry devices' topics to their
  // group's persistent session, held by the group's owner (docs/cluster.md).
  std::string cluster_broker = "private";
  // cluster.broker=nats: the seed of gatehouse's NATS account (gatehousectl nats-auth create
  // writes it, 0600), with which the node signs its own and the doors' NATS users.
  std::string cluster_nats_account_seed_file;
  // cluster.broker=nats, all three or none: gatehouse revokes a door's NATS user by itself,
  // pushing its account's JWT with the revocations to NATS' client port(s) `cluster_nats_url`
  // (comma-separated nats://HOST:PORT), re-signed with the operator signing key, as the
  // system-account user of the credentials file (docs/cluster.md, "Revocation on NATS").
  std::string cluster_nats_url;
  std::string cluster_nats_operator_signing_seed_file;
  std::string cluster_nats_system_creds_file;
  // mqtt
  std::string broker_url;  // empty: start a private mosquitto
  std::string mqtt_prefix = "gatehouse";
  std::string mqtt_client_id = "gatehouse";
  size_t mqtt_version = 5;        // 5, or 4 (3.1.1) for a broker without MQTT 5
  size_t mqtt_keep_alive_s = 30;  // MQTT keep-alive: a silent (paused) broker is noticed after it
  size_t mqtt_max_payload = 64 * 1024;
  size_t mqtt_max_picture = 2 * 1024 * 1024;
  // Messages per second each client connection may publish through the private broker, and
  // at once; past them the broker drops the excess (docs/security.md "Broker limits"). Far
  // above the benchmarks' busiest client (about 500/s), far below a flood (100,000/s).
  size_t mqtt_publish_rate = 2000;  // 0: no limit
  size_t mqtt_publish_burst = 4000;
  // the broker as a trust boundary (docs/security.md "The broker")
  uint16_t mqtt_port = 1883;  // the private broker's loopback port; 0: any free one
  // clients without credentials (register, log in, their inbox): on | local (from this
  // machine only) | off
  std::string mqtt_anonymous = "local";
  std::string mqtt_listen;            // ADDRESS:PORT of a network listener; empty: none
  std::string mqtt_tls_cert;          // PEM certificate of the network listener
  std::string mqtt_tls_key;           // its PEM private key
  std::string mqtt_tls_client_ca;     // set: doors must present a certificate from this CA
  std::string mqtt_insecure = "off";  // on: allow mqtt.listen without TLS
  std::string mqtt_plugin;            // gatehouse_auth.so; empty: the one built with gatehouse
  std::string mqtt_username = "gatehouse";  // gatehouse's own user name on the broker
  std::string mqtt_password_file;           // its password; empty: RUN-DIR/mqtt-server.secret
  // http
  std::string http_address = "127.0.0.1";
  uint16_t http_port = 8080;
  size_t http_threads = 8;
  size_t http_max_body = 64 * 1024;
  std::string http_public_url;                  // empty: http://<address>:<port>
  size_t http_max_header_bytes = 16 * 1024;     // request line + headers; beyond: 431
  size_t http_max_headers = 100;                // header lines; beyond: 431
  size_t http_header_timeout_s = 10;            // for the request head to arrive; then 408
  size_t http_max_connections = 1024;           // open connections in all; beyond: 503
  size_t http_max_connections_per_source = 64;  // per peer address; beyond: 429
  size_t http_max_streams_per_user = 4;         // event streams per user or token; beyond: 429
  size_t picture_url_ttl_s = 3600;
  // auth
  std::vector<std::string> api_tokens;  // "name:<sha256 hex of the secret>"
  // "on": with no token at all, create "admin" and print it once. Switches are "on"/"off"
  // strings because CAF 0.17 takes no value for a bool on the command line.
  std::string bootstrap_token = "on";
  // devices
  std::string auto_register = "on";  // "on" | "off"
  size_t command_timeout_ms = 10000;
  size_t offline_after_ms = 0;  // a door silent this long shows offline; 0: only its word
  size_t idle_timeout_ms = 60000;
  size_t max_live_actors = 100000;
  size_t snapshot_every = 100;
  size_t pictures_per_door = 20;                // stranger pictures kept per door (0: no limit)
  size_t picture_bytes_per_door = 20ull << 20;  // bytes of pictures kept per door (0: no limit)
  size_t picture_retention_h = 30 * 24;         // hours a picture is kept (0: no limit)
  size_t max_pictures_per_minute = 6;           // accepted per door in any 60 s (0: no limit)
  // chat
  size_t argon2_ops = 2;              // Argon2id passes (OWASP minimum: 2 with 19 MiB)
  size_t argon2_mem_kib = 19 * 1024;  // Argon2id memory per hash
  size_t hash_threads = 1;            // threads that hash passwords (off the CAF scheduler)
  size_t hash_queue = 256;            // hashes waiting beyond this are refused: "retry"
  size_t chat_max_text = 4096;        // bytes of one message
  size_t session_ttl_h = 7 * 24;      // hours a login session lives
  size_t chat_max_live = 100000;      // most user and room actors kept in memory
  // guessing limits, checked before any hash (actors/chat/login_throttle.h)
  size_t login_rate_per_source = 30;    // attempts per minute per HTTP address / MQTT client
  size_t login_burst_per_source = 10;   // attempts at once per source
  size_t login_rate_mqtt = 600;         // attempts per minute over MQTT and legacy together
  size_t login_burst_mqtt = 60;         // attempts at once over MQTT and legacy together
  size_t login_rate_per_account = 60;   // attempts per minute per account, all sources
  size_t login_burst_per_account = 20;  // attempts at once per account
  size_t backoff_after = 3;             // failures in a row per (account, source) that start delays
  size_t backoff_first_ms = 1000;       // the first delay; doubles with each further failure
  size_t backoff_max_ms = 15 * 60 * 1000;  // the longest delay
  size_t http_max_streams = 64;            // concurrent Server-Sent Event streams
  // legacy: the seeds' own unauthenticated protocols (chat topics, action table)
  std::string legacy = "off";
  // actions (the seed's action table, and scripted Lua actions)
  std::vector<std::string> action_topics = {"server"};  // the action table listens here
  std::string remote_install = "off";        // install scripts over MQTT (operators only)
  size_t action_max_instructions = 1000000;  // Lua VM instructions per call
  size_t action_max_memory_kib = 4096;       // Lua memory per call
  size_t action_max_source = 64 * 1024;      // bytes of one script
  size_t action_max_failures = 5;            // failed calls in a row that disable (0: never)
  size_t action_threads = 1;                 // threads running scripts
  size_t action_queue = 64;                  // calls waiting beyond: refused
  size_t action_max_call_ms = 250;           // wall-clock limit of one call (process killed)
  size_t action_max_input = 16 * 1024;       // bytes of a scripted action's payload
  size_t action_runs_excerpt = 256;          // bytes of input/output/error a run record keeps
  size_t action_runs_retain = 1000;          // runs per action that keep excerpts; 0: all
  std::string action_sandbox_helper;         // gatehouse-lua-sandbox; "": next to gatehouse
  // Home Assistant (docs/protocol.md "Home Assistant"): MQTT discovery of every door, its
  // lock state and availability, and a set topic for API tokens. Off by default: it costs a
  // read of every door on each sync, and a Home Assistant needs an API token made for it anyway.
  std::string ha_discovery = "off";                   // "on" | "off"
  std::string ha_discovery_prefix = "homeassistant";  // Home Assistant's discovery_prefix
  // log
  std::string log_level = "info";   // debug | info | warning | error
  std::string log_format = "text";  // text | json

 private:
  size_t own_options_begin_ = 0;  // CAF's options come first in custom_options_
};

// Whether `config` keeps its store in PostgreSQL (store.backend=postgres): cluster mode.
bool postgres_backend(const Config& config);
// Whether devices reach this node through the NATS cluster's MQTT (cluster.broker=nats).
bool nats_broker(const Config& config);

// True for "on", "true", "yes", "1".
bool switch_on(const std::string& value);

// Checks values that CAF's parser cannot (ranges, topic characters); kInvalidArgument
// naming the option.
Status validate(const Config& config);

}  // namespace gh::server
