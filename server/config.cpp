#include "server/config.h"

#include <caf/config_option_adder.hpp>

namespace gh::server {

Config::Config() {
  opt_group{custom_options_, "store"}
      .add(store_path, "path", "RocksDB directory holding the event log and snapshots")
      .add(run_dir, "run-dir", "directory for the private broker's files and the URL key");
  opt_group{custom_options_, "mqtt"}
      .add(broker_url, "broker", "broker URL (tcp://host:port); empty: start a private mosquitto")
      .add(mqtt_prefix, "prefix", "topic prefix of every gatehouse topic")
      .add(mqtt_client_id, "client-id", "MQTT client id (the persistent session's name)")
      .add(mqtt_max_payload, "max-payload", "largest accepted payload in bytes (non-picture)")
      .add(mqtt_max_picture, "max-picture", "largest accepted stranger picture in bytes");
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
      .add(idle_timeout_ms, "idle-timeout", "ms after which an idle device actor is passivated")
      .add(max_live_actors, "max-live", "most device actors kept in memory")
      .add(snapshot_every, "snapshot-every", "events per stream between snapshots (0: never)");
}

namespace {
bool valid_prefix(const std::string& prefix) {
  if (prefix.empty() || prefix.size() > 64 || prefix.front() == '/' || prefix.back() == '/')
    return false;
  for (char c : prefix)
    if (c == '#' || c == '+' || c == '$' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}
}  // namespace

bool switch_on(const std::string& value) {
  return value == "on" || value == "true" || value == "yes" || value == "1";
}

namespace {
bool valid_switch(const std::string& value) {
  return switch_on(value) || value == "off" || value == "false" || value == "no" || value == "0";
}
}  // namespace

Status validate(const Config& c) {
  if (!valid_switch(c.auto_register)) return invalid_argument("devices.auto-register: on|off");
  if (!valid_switch(c.bootstrap_token)) return invalid_argument("auth.bootstrap-token: on|off");
  if (c.store_path.empty()) return invalid_argument("store.path must not be empty");
  if (!valid_prefix(c.mqtt_prefix))
    return invalid_argument(
        "mqtt.prefix must be 1-64 characters without / at either end, "
        "#, + or $");
  if (c.mqtt_max_payload < 64 || c.mqtt_max_payload > 1 << 20)
    return invalid_argument("mqtt.max-payload must be between 64 and 1048576");
  if (c.mqtt_max_picture < 1024 || c.mqtt_max_picture > 64 << 20)
    return invalid_argument("mqtt.max-picture must be between 1024 and 67108864");
  if (c.http_threads == 0 || c.http_threads > 256)
    return invalid_argument("http.threads must be between 1 and 256");
  if (c.command_timeout_ms < 100) return invalid_argument("devices.command-timeout >= 100 ms");
  if (c.idle_timeout_ms < 100) return invalid_argument("devices.idle-timeout >= 100 ms");
  if (c.max_live_actors < 16) return invalid_argument("devices.max-live must be at least 16");
  return Status::ok();
}

}  // namespace gh::server
