#include "server/app.h"

#include <sodium.h>

#include <caf/all.hpp>
#include <filesystem>
#include <fstream>

#include "actors/device/device_system.h"
#include "actors/system/token_model.h"
#include "adapters/http/auth.h"
#include "adapters/http/http_adapter.h"
#include "adapters/http/url_signer.h"
#include "adapters/mqtt/broker_process.h"
#include "adapters/mqtt/device_topics.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/mqtt_metrics.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "snapshots/snapshot_store.h"

namespace gh::server {
namespace {

namespace fs = std::filesystem;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status step(const std::string& what, const Status& status) {
  if (status.is_ok()) return status;
  return {status.code(), what + ": " + status.message()};
}

std::string hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

// The key that signs picture links, kept in run_dir so that links survive a restart.
Result<http::UrlSigner> load_signer(const fs::path& run_dir) {
  auto path = run_dir / "url-signing.key";
  std::string key;
  if (std::ifstream in(path, std::ios::binary); in)
    key.assign(std::istreambuf_iterator<char>(in), {});
  if (key.size() != http::UrlSigner::kKeyBytes) {
    key.resize(http::UrlSigner::kKeyBytes);
    randombytes_buf(key.data(), key.size());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(key.data(), static_cast<std::streamsize>(key.size()));
    if (!out) return internal_error("cannot write " + path.string());
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
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
  for (const auto& [name, token] : state.active)
    GH_RETURN_IF_ERROR(api_tokens.add(name, token.sha256));
  return state;
}

// First start with no token anywhere: create "admin", store only its hash, return the secret.
Result<std::string> bootstrap_admin_token(Journal& journal, const tokens::State& state,
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
  return text;
}

}  // namespace

// Declaration order is construction order; stop() tears down in the order that loses
// nothing, the destructors then only free memory.
struct App::Parts {
  Config* config = nullptr;
  AppInfo info;
  std::unique_ptr<Database> database;
  std::unique_ptr<RocksdbJournal> journal;
  std::unique_ptr<SnapshotStore> snapshots;
  http::ApiTokens api_tokens;
  std::optional<http::UrlSigner> signer;
  std::unique_ptr<mqtt_adapter::BrokerProcess> broker;
  std::unique_ptr<mqtt_adapter::MqttConnection> connection;
  std::unique_ptr<mqtt_adapter::DeviceTopics> device_topics;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<device::DeviceSystem> devices;
  std::unique_ptr<http::HttpAdapter> http;
  bool stopped = false;

  Status open_store();
  Status load_auth();
  Status start_mqtt();
  void start_devices();
  Status start_http();
  http::MetricsSources metrics();
};

Status App::Parts::open_store() {
  std::error_code ec;
  fs::create_directories(config->store_path, ec);
  fs::create_directories(config->run_dir, ec);
  auto opened = Database::open(config->store_path, OpenMode::kReadWrite);
  if (!opened) return step("opening the store", opened.status());
  database = std::move(*opened);
  journal = std::make_unique<RocksdbJournal>(database.get());
  snapshots = std::make_unique<SnapshotStore>(database.get());
  info.store_path = fs::absolute(config->store_path).string();
  return Status::ok();
}

Status App::Parts::load_auth() {
  auto token_state = load_tokens(*config, *journal, api_tokens);
  if (!token_state) return step("loading API tokens", token_state.status());
  if (api_tokens.size() == 0 && switch_on(config->bootstrap_token)) {
    auto secret = bootstrap_admin_token(*journal, *token_state, api_tokens);
    if (!secret) return step("creating the first API token", secret.status());
    info.bootstrap_secret = *secret;
  }
  info.api_tokens = api_tokens.size();
  auto loaded = load_signer(config->run_dir);
  if (!loaded) return step("loading the URL signing key", loaded.status());
  signer.emplace(std::move(*loaded));
  return Status::ok();
}

Status App::Parts::start_mqtt() {
  info.broker_url = config->broker_url;
  if (info.broker_url.empty()) {
    mqtt_adapter::BrokerProcessOptions options;
    options.work_dir = fs::path(config->run_dir) / "mosquitto";
    std::error_code ec;
    fs::create_directories(options.work_dir, ec);
    auto started = mqtt_adapter::BrokerProcess::start(options);
    if (!started) return step("starting the private mosquitto", started.status());
    broker = std::move(*started);
    info.broker_url = broker->url();
    info.broker_log = broker->log_path().string();
  }
  mqtt_adapter::MqttConnectionOptions options;
  options.url = info.broker_url;
  options.client_id = config->mqtt_client_id;
  options.status_topic = config->mqtt_prefix + "/server/status";
  auto created = mqtt_adapter::MqttConnection::create(options);
  if (!created) return step("configuring the MQTT connection", created.status());
  connection = std::move(*created);

  mqtt_adapter::DeviceTopicsOptions topics;
  topics.prefix = config->mqtt_prefix;
  topics.max_payload_bytes = config->mqtt_max_payload;
  topics.max_picture_bytes = config->mqtt_max_picture;
  const auto public_url = config->http_public_url.empty() ? "http://" + config->http_address + ":" +
                                                                std::to_string(config->http_port)
                                                          : config->http_public_url;
  const auto ttl_s = static_cast<int64_t>(config->picture_url_ttl_s);
  const auto* url_signer = &*signer;
  topics.picture_url = [public_url, ttl_s, url_signer](const std::string& picture_id) {
    return public_url + url_signer->sign_path(picture_id, now_ms() / 1000 + ttl_s);
  };
  device_topics = std::make_unique<mqtt_adapter::DeviceTopics>(*connection, topics);
  auto* handler = device_topics.get();
  return step(
      "subscribing device topics",
      connection->add_handler(device_topics->subscriptions(), 1,
                              [handler](const std::string& t, const std::string& p, bool retained) {
                                handler->on_message(t, p, retained);
                              }));
}

void App::Parts::start_devices() {
  system = std::make_unique<caf::actor_system>(*config);
  device::DeviceSystemOptions options;
  options.auto_register = switch_on(config->auto_register);
  options.command_timeout = std::chrono::milliseconds(config->command_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config->idle_timeout_ms);
  options.max_live_actors = config->max_live_actors;
  options.snapshot_every = config->snapshot_every;
  devices = std::make_unique<device::DeviceSystem>(
      *system, *journal, device::snapshot_storage(*journal, *snapshots, now_ms),
      device_topics.get(), options);
  device_topics->set_service(devices.get());
}

http::MetricsSources App::Parts::metrics() {
  http::MetricsSources sources;
  auto* j = journal.get();
  auto* d = devices.get();
  auto* c = connection.get();
  auto* t = device_topics.get();
  sources.journal = [j] { return j->stats(); };
  sources.live_actors = [d] { return d->live_actors(); };
  sources.extra = [c, t, d] {
    auto out = mqtt_adapter::mqtt_metrics(c->counters(), t->counters());
    out.emplace_back("gatehouse_device_commands_total", double(d->commands()));
    out.emplace_back("gatehouse_device_rejections_total", double(d->rejections()));
    return out;
  };
  return sources;
}

Status App::Parts::start_http() {
  http::HttpOptions options;
  options.server.address = config->http_address;
  options.server.port = config->http_port;
  options.server.threads = config->http_threads;
  options.server.max_body_bytes = config->http_max_body;
  options.public_base_url =
      config->http_public_url.empty()
          ? "http://" + config->http_address + ":" + std::to_string(config->http_port)
          : config->http_public_url;
  options.picture_url_ttl = std::chrono::seconds(config->picture_url_ttl_s);
  options.call_timeout = std::chrono::milliseconds(config->command_timeout_ms);
  http::HealthProbes health;
  auto* c = connection.get();
  auto* j = journal.get();
  health.broker_connected = [c] { return c->connected(); };
  health.journal_reachable = [j] { return j->stream_version("system/health").is_ok(); };
  http = std::make_unique<http::HttpAdapter>(*devices, api_tokens, *signer, health, metrics(),
                                             options);
  auto port = http->start();
  if (!port) return step("starting HTTP on " + config->http_address, port.status());
  info.http_port = *port;
  info.http_url = "http://" + config->http_address + ":" + std::to_string(*port);
  return Status::ok();
}

Result<std::unique_ptr<App>> App::start(Config& config) {
  GH_RETURN_IF_ERROR(step("configuration", validate(config)));
  if (sodium_init() < 0) return internal_error("libsodium: sodium_init failed");
  auto parts = std::make_unique<Parts>();
  parts->config = &config;
  std::unique_ptr<App> app(new App(std::move(parts)));
  auto& p = *app->parts_;
  GH_RETURN_IF_ERROR(p.open_store());
  GH_RETURN_IF_ERROR(p.load_auth());
  GH_RETURN_IF_ERROR(p.start_mqtt());
  p.start_devices();
  GH_RETURN_IF_ERROR(p.start_http());
  // Devices are reachable (service set) before the connection subscribes: no message from
  // the broker finds the adapter without a service.
  GH_RETURN_IF_ERROR(step("connecting to the broker", p.connection->start()));
  p.info.mqtt_connected = p.connection->wait_connected(std::chrono::seconds(10));
  return app;
}

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

App::~App() { stop(); }

const AppInfo& App::info() const { return parts_->info; }

void App::stop() {
  auto& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  if (p.http) p.http->stop();  // no new HTTP requests; those in progress finish
  if (p.device_topics) p.device_topics->set_service(nullptr);  // no new device messages
  if (p.devices) p.devices->shutdown();    // actors finish queued commands, durably
  if (p.journal) p.journal->shutdown();    // drains any append still queued
  if (p.connection) p.connection->stop();  // effects were handed to paho before this
  if (p.broker) (void)p.broker->stop();
  p.http.reset();
  p.devices.reset();
  p.system.reset();
  p.device_topics.reset();
  p.connection.reset();
  p.broker.reset();
  p.snapshots.reset();
  p.journal.reset();
  p.database.reset();
}

}  // namespace gh::server
