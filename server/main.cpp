// gatehouse: configuration and wiring, nothing else. The only code not linked into tests.
//
// Start order: store -> journal -> snapshots -> tokens -> broker (private unless configured)
// -> MQTT connection -> actors -> HTTP. Stop order on SIGINT/SIGTERM: stop taking input
// (HTTP, MQTT subscriptions), let device actors finish what they queued, drain the journal,
// then close the broker connection, the broker and the store.
#include <caf/all.hpp>
#include <sodium.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "actors/device/device_system.h"
#include "actors/system/token_model.h"
#include "adapters/http/auth.h"
#include "adapters/http/http_adapter.h"
#include "adapters/http/url_signer.h"
#include "adapters/mqtt/broker_process.h"
#include "adapters/mqtt/device_topics.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "server/config.h"
#include "snapshots/snapshot_store.h"

namespace gh::server {
namespace {

namespace fs = std::filesystem;

int fail(const std::string& what, const Status& status) {
  std::cerr << "gatehouse: " << what << ": " << status.to_string() << "\n";
  return 1;
}

std::string hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

// The key that signs picture links, kept in run_dir so links survive a restart.
Result<http::UrlSigner> load_signer(const fs::path& run_dir) {
  auto path = run_dir / "url-signing.key";
  std::string key;
  if (std::ifstream in(path, std::ios::binary); in) {
    key.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (key.size() != http::UrlSigner::kKeyBytes) {
    key.resize(http::UrlSigner::kKeyBytes);
    randombytes_buf(key.data(), key.size());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(key.data(), static_cast<std::streamsize>(key.size()));
    if (!out) return internal_error("cannot write " + path.string());
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }
  return http::UrlSigner::create(key);
}

// Tokens from the configuration (name:sha256hex) and from the system/tokens stream.
Result<tokens::State> load_tokens(const Config& config, const Journal& journal,
                                  http::ApiTokens& api_tokens) {
  for (const auto& entry : config.api_tokens) {
    auto colon = entry.find(':');
    if (colon == std::string::npos)
      return invalid_argument("auth.tokens entry must be name:SHA256HEX, got '" + entry + "'");
    auto hash = http::sha256_from_hex(entry.substr(colon + 1));
    if (!hash) return hash.status();
    GH_RETURN_IF_ERROR(api_tokens.add(entry.substr(0, colon), *hash));
  }
  auto events = journal.read_stream(std::string(tokens::kStream), 1);
  if (!events) return events.status();
  auto state = tokens::replay(*events);
  for (const auto& [name, token] : state.active) GH_RETURN_IF_ERROR(api_tokens.add(name, token.sha256));
  return state;
}

// First start with no token anywhere: create "admin", store only its hash, print the secret.
Status bootstrap_admin_token(Journal& journal, const tokens::State& state,
                             http::ApiTokens& api_tokens) {
  unsigned char secret[16];
  randombytes_buf(secret, sizeof secret);
  auto text = hex(secret, sizeof secret);
  auto hash = http::sha256(text);
  auto event = tokens::create(state, "admin", hash);
  if (!event) return event.status();
  AppendRequest request;
  request.stream = std::string(tokens::kStream);
  request.expected_version = state.version;
  request.cause.set_kind(events::Cause::SYSTEM);
  request.cause.set_name("bootstrap");
  request.cause.set_channel("system");
  request.events.push_back(std::move(*event));
  auto appended = journal.append_and_wait(std::move(request));
  if (!appended) return appended.status();
  GH_RETURN_IF_ERROR(api_tokens.add("admin", hash));
  std::cout << "  api token   admin = " << text
            << "   (shown once; only its hash is stored)\n";
  return Status::ok();
}

// Blocks SIGINT and SIGTERM in every thread started after this, so that the main thread
// alone receives them through sigwait().
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int run(Config& config) {
  if (auto status = validate(config); !status.is_ok()) return fail("configuration", status);
  if (sodium_init() < 0) return fail("libsodium", internal_error("sodium_init failed"));
  auto stop_signals = block_stop_signals();
  std::error_code ec;
  fs::create_directories(config.store_path, ec);
  fs::create_directories(config.run_dir, ec);

  auto database = Database::open(config.store_path, OpenMode::kReadWrite);
  if (!database) return fail("opening the store", database.status());
  RocksdbJournal journal(database->get());
  SnapshotStore snapshots(database->get());

  std::cout << "gatehouse\n  store       " << fs::absolute(config.store_path).string() << "\n";

  http::ApiTokens api_tokens;
  auto token_state = load_tokens(config, journal, api_tokens);
  if (!token_state) return fail("loading API tokens", token_state.status());
  if (api_tokens.size() == 0 && switch_on(config.bootstrap_token)) {
    if (auto status = bootstrap_admin_token(journal, *token_state, api_tokens); !status.is_ok())
      return fail("creating the first API token", status);
  }
  std::cout << "  api tokens  " << api_tokens.size() << " (gatehousectl token list)\n";
  auto signer = load_signer(config.run_dir);
  if (!signer) return fail("loading the URL signing key", signer.status());

  std::unique_ptr<mqtt_adapter::BrokerProcess> broker;
  std::string broker_url = config.broker_url;
  if (broker_url.empty()) {
    mqtt_adapter::BrokerProcessOptions options;
    options.work_dir = fs::path(config.run_dir) / "mosquitto";
    fs::create_directories(options.work_dir, ec);
    auto started = mqtt_adapter::BrokerProcess::start(options);
    if (!started) return fail("starting the private mosquitto", started.status());
    broker = std::move(*started);
    broker_url = broker->url();
    std::cout << "  broker      " << broker_url << " (private mosquitto, log "
              << broker->log_path().string() << ")\n";
  } else {
    std::cout << "  broker      " << broker_url << "\n";
  }

  mqtt_adapter::MqttConnectionOptions connection_options;
  connection_options.url = broker_url;
  connection_options.client_id = config.mqtt_client_id;
  connection_options.status_topic = config.mqtt_prefix + "/server/status";
  auto connection = mqtt_adapter::MqttConnection::create(connection_options);
  if (!connection) return fail("configuring the MQTT connection", connection.status());

  // The HTTP adapter signs alert links; it exists before the device topics need it.
  const std::string public_url =
      config.http_public_url.empty()
          ? "http://" + config.http_address + ":" + std::to_string(config.http_port)
          : config.http_public_url;
  std::unique_ptr<http::HttpAdapter> http_adapter;

  mqtt_adapter::DeviceTopicsOptions topic_options;
  topic_options.prefix = config.mqtt_prefix;
  topic_options.max_payload_bytes = config.mqtt_max_payload;
  topic_options.max_picture_bytes = config.mqtt_max_picture;
  topic_options.picture_url = [&http_adapter](const std::string& picture_id) {
    return http_adapter ? http_adapter->signed_picture_url(picture_id) : std::string();
  };
  mqtt_adapter::DeviceTopics device_topics(**connection, topic_options);
  if (auto status = (*connection)->add_handler(
          device_topics.subscriptions(), 1,
          [&device_topics](const std::string& topic, const std::string& payload) {
            device_topics.on_message(topic, payload);
          });
      !status.is_ok())
    return fail("subscribing device topics", status);

  caf::actor_system system{config};
  device::DeviceSystemOptions device_options;
  device_options.auto_register = switch_on(config.auto_register);
  device_options.command_timeout = std::chrono::milliseconds(config.command_timeout_ms);
  device_options.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  device_options.max_live_actors = config.max_live_actors;
  device_options.snapshot_every = config.snapshot_every;
  device::DeviceSystem devices(
      system, journal,
      device::snapshot_storage(journal, snapshots,
                               [] {
                                 return std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                     .count();
                               }),
      &device_topics, device_options);
  device_topics.set_service(&devices);

  http::HttpOptions http_options;
  http_options.server.address = config.http_address;
  http_options.server.port = config.http_port;
  http_options.server.threads = config.http_threads;
  http_options.server.max_body_bytes = config.http_max_body;
  http_options.public_base_url = public_url;
  http_options.picture_url_ttl = std::chrono::seconds(config.picture_url_ttl_s);
  http_options.call_timeout = std::chrono::milliseconds(config.command_timeout_ms);
  http::HealthProbes health;
  auto* mqtt = connection->get();
  health.broker_connected = [mqtt] { return mqtt->connected(); };
  health.journal_reachable = [&journal] { return journal.stream_version("system/health").is_ok(); };
  http::MetricsSources metrics;
  metrics.journal = [&journal] { return journal.stats(); };
  metrics.live_actors = [&devices] { return devices.live_actors(); };
  metrics.extra = [mqtt, &device_topics, &devices] {
    std::vector<std::pair<std::string, double>> out;
    const auto& c = mqtt->counters();
    out.emplace_back("gatehouse_broker_connected", c.connected.load() ? 1 : 0);
    out.emplace_back("gatehouse_mqtt_reconnects_total", double(c.reconnects.load()));
    out.emplace_back("gatehouse_mqtt_published_total", double(c.published.load()));
    out.emplace_back("gatehouse_mqtt_received_total", double(c.received.load()));
    const auto& t = device_topics.counters();
    for (size_t i = 0; i < size_t(mqtt_adapter::Rejection::kCount); ++i) {
      auto reason = mqtt_adapter::Rejection(i);
      out.emplace_back("gatehouse_mqtt_rejected_total{reason=\"" +
                           std::string(mqtt_adapter::rejection_name(reason)) + "\"}",
                       double(t.rejected_of(reason)));
    }
    out.emplace_back("gatehouse_device_commands_total", double(devices.commands()));
    out.emplace_back("gatehouse_device_rejections_total", double(devices.rejections()));
    return out;
  };
  http_adapter = std::make_unique<http::HttpAdapter>(devices, api_tokens, *signer, health,
                                                     metrics, http_options);
  auto port = http_adapter->start();
  if (!port) return fail("starting HTTP on " + config.http_address, port.status());

  if (auto status = (*connection)->start(); !status.is_ok())
    return fail("connecting to the broker", status);
  bool connected = (*connection)->wait_connected(std::chrono::seconds(10));
  std::cout << "  mqtt        prefix " << config.mqtt_prefix << "/, "
            << (connected ? "connected" : "not connected yet (retrying in the background)")
            << "\n  http        http://" << config.http_address << ":" << *port
            << "  (GET /healthz, /metrics; docs/protocol.md)\n  devices     auto-register "
            << (switch_on(config.auto_register) ? "on" : "off") << ", command timeout "
            << config.command_timeout_ms << " ms\n  ready; Ctrl-C stops\n"
            << std::flush;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "gatehouse: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ", stopping\n" << std::flush;

  http_adapter->stop();         // no new HTTP requests; those in progress finish
  device_topics.set_service(nullptr);  // no new device messages reach the actors
  devices.shutdown();           // actors finish queued commands (appends are durable)
  journal.shutdown();           // drains any append still queued
  (*connection)->stop();        // effects of finished commands were handed to paho before
  if (broker) (void)broker->stop();
  std::cout << "gatehouse: stopped cleanly\n";
  return 0;
}

}  // namespace
}  // namespace gh::server

int main(int argc, char** argv) {
  gh::server::Config config;
  if (auto err = config.parse(argc, argv); err) {
    std::cerr << "gatehouse: " << config.render(err) << "\n";
    return 2;
  }
  if (config.cli_helptext_printed) return 0;
  return gh::server::run(config);
}
