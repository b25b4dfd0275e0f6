// App: the whole gatehouse wired together from a Config -- store, journal, snapshots,
// tokens, broker, MQTT, device actors, HTTP. main() parses the configuration, starts an App
// and stops it on a signal; the integration tests start Apps on temporary stores.
// Thread-safety: start() and stop() from one thread; the accessors from any thread.
#pragma once

#include <memory>
#include <string>

#include "events/status.h"
#include "server/config.h"

namespace gh::credentials {
class CredentialRegistry;
}

namespace gh::server {

// What an operator needs to know once the server is up.
struct AppInfo {
  std::string store_backend;  // store.backend: rocksdb or postgres
  std::string postgres;       // on PostgreSQL: the connection string without its password
  std::string store_path;     // absolute
  std::string admin_socket;   // gatehousectl's way in: <store>/admin.sock, <run-dir>/ on PostgreSQL
  std::string broker_url;     // where the MQTT connection goes (on NATS: the first listener tried)
  std::string broker_log;     // the private broker's log; empty for an external broker
  std::string broker_listen;  // the private broker's network listener, if any
  std::string http_url;       // http://address:bound-port
  int http_port = 0;          // bound port (useful when configured as 0)
  size_t api_tokens = 0;
  std::string bootstrap_secret;  // the admin token created on this start, shown once
  bool mqtt_connected = false;
};

class App {
 public:
  // Starts everything; on failure nothing is left running and the status names the step
  // ("opening the store: unavailable: ... is gatehouse running?"). `config` must outlive
  // the App (CAF keeps a reference to it).
  static Result<std::unique_ptr<App>> start(Config& config);
  ~App();  // stop()

  // Stop taking input, let actors finish what they queued, drain the journal, disconnect,
  // stop the private broker, close the store. Idempotent.
  void stop();
  const AppInfo& info() const;
  // The doors' broker credentials and the provisioning keys (system/door-credentials,
  // system/provisioning-keys), open from start() until stop(). Listeners may be added at any
  // time (actors/system/credential_registry.h says how to mirror the tables).
  credentials::CredentialRegistry& credentials();

 private:
  struct Parts;
  explicit App(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace gh::server
