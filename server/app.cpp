#include "server/app.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <caf/all.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/actions/action_runner.h"
#include "actors/chat/chat_system.h"
#include "actors/device/device_system.h"
#include "actors/system/credential_registry.h"
#include "actors/system/door_credential_model.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_nkey.h"
#include "actors/system/provisioning_key_model.h"
#include "actors/system/secret.h"
#include "actors/system/token_model.h"
#include "adapters/http/auth.h"
#include "adapters/http/device_event_stream.h"
#include "adapters/http/http_adapter.h"
#include "adapters/http/secret_file.h"
#include "adapters/http/url_signer.h"
#include "adapters/mqtt/action_install.h"
#include "adapters/mqtt/action_table.h"
#include "adapters/mqtt/broker_process.h"
#include "adapters/mqtt/broker_supervisor.h"
#include "adapters/mqtt/broker_sync.h"
#include "adapters/mqtt/broker_url.h"
#include "adapters/mqtt/chat_topics.h"
#include "adapters/mqtt/device_topics.h"
#include "adapters/mqtt/group_sessions.h"
#include "adapters/mqtt/home_assistant.h"
#include "adapters/mqtt/identity_projection.h"
#include "adapters/mqtt/legacy_chat.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/mqtt_metrics.h"
#include "adapters/mqtt/node_topics.h"
#include "adapters/mqtt/provision_topics.h"
#include "events/cause.h"
#include "events/clock.h"
#include "events/database.h"
#include "events/lease_manager.h"
#include "events/log.h"
#include "events/log_follower.h"
#include "events/pg_conninfo.h"
#include "events/pg_journal.h"
#include "events/rendezvous.h"
#include "events/rocksdb_journal.h"
#include "events/shard_fence.h"
#include "events/stream_sequencer.h"
#include "events/system_writer.h"
#include "server/admin_socket.h"
#include "server/device_activity.h"
#include "server/nats_revocation.h"
#include "server/secret_file.h"
#include "server/shard_routing.h"
#include "snapshots/pg_snapshot_store.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "snapshots/snapshot_store.h"
#include "tools/ctl/admin_wire.h"

namespace gh::server {
namespace {

namespace fs = std::filesystem;

Status step(const std::string& what, const Status& status) {
  if (status.is_ok()) return status;
  return {status.code(), what + ": " + status.message()};
}

// The key that signs picture links, kept in run_dir so that links survive a restart.
Result<http::UrlSigner> load_signer(const fs::path& run_dir) {
  // Created 0600 from its first byte (secret_file.h): never readable by others, whatever
  // the umask.
  auto key = http::load_or_create_secret((run_dir / "url-signing.key").string(),
                                         http::UrlSigner::kKeyBytes);
  if (!key) return key.status();
  return http::UrlSigner::create(*key);
}

// The tokens of auth.tokens as (name, SHA-256 raw bytes); kInvalidArgument for a malformed
// entry.
Result<std::vector<std::pair<std::string, std::string>>> configured_tokens(const Config& config) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : config.api_tokens) {
    auto colon = entry.find(':');
    if (colon == std::string::npos)
      return invalid_argument("auth.tokens entry must be name:SHA256HEX, got '" + entry + "'");
    auto hash = http::sha256_from_hex(entry.substr(colon + 1));
    if (!hash) return hash.status();
    out.emplace_back(entry.substr(0, colon), std::move(*hash));
  }
  return out;
}

// Tokens from the configuration (`configured`) and from the system/tokens stream.
Result<tokens::State> load_tokens(
    const std::vector<std::pair<std::string, std::string>>& configured, const Journal& journal,
    http::ApiTokens& api_tokens) {
  for (const auto& [name, hash] : configured) GH_RETURN_IF_ERROR(api_tokens.add(name, hash));
  auto events = journal.read_stream(std::string(tokens::kStream), 1);
  if (!events) return events.status();
  auto state = tokens::replay(*events);
  for (const auto& [name, token] : state.active)
    GH_RETURN_IF_ERROR(api_tokens.add(name, token.sha256));
  return state;
}

// First start with no token anywhere: create "admin", store only its hash, return the secret.
// Another node starting on the same empty database may create its first token at the same
// time (cluster mode): the one that lost the race takes the tokens of the log instead and
// returns nullopt.
Result<std::optional<std::string>> bootstrap_admin_token(Journal& journal, tokens::State state,
                                                         http::ApiTokens& api_tokens) {
  for (;;) {
    auto secret = secrets::new_secret();
    auto event = tokens::create(state, "admin", secret.sha256);
    if (!event) return event.status();
    std::vector<events::Envelope> events;
    events.push_back(std::move(*event));
    auto appended = write_and_wait(journal, tokens::kStream, state.version,
                                   events::system_cause("bootstrap"), std::move(events));
    if (appended) {
      GH_RETURN_IF_ERROR(api_tokens.add("admin", secret.sha256));
      return std::optional<std::string>(secret.hex);
    }
    if (appended.status().code() != Code::kConflict) return appended.status();
    auto now = journal.read_stream(std::string(tokens::kStream), 1);
    if (!now) return now.status();
    state = tokens::replay(*now);
    if (!state.active.empty()) {
      for (const auto& [name, token] : state.active)
        GH_RETURN_IF_ERROR(api_tokens.add(name, token.sha256));
      return std::optional<std::string>();
    }
  }
}

// The system streams whose events every node keeps in memory through the StreamSequencer
// (API tokens and the broker's identities), in cluster mode.
constexpr std::array<std::string_view, 3> kSequencedStreams = {
    tokens::kStream, door_credentials::kStream, provisioning_keys::kStream};

// On NATS (cluster.broker=nats) no access plugin hears the broker's identities: they stay in
// gatehouse (docs/cluster.md, "What NATS' MQTT cannot do"), and these messages go nowhere.
class NoAccessPlugin final : public mqtt_adapter::Publisher {
 public:
  void publish(const std::string&, std::string, int, bool) override {}
};

bool sequenced_stream(const std::string& stream) {
  return std::find(kSequencedStreams.begin(), kSequencedStreams.end(), stream) !=
         kSequencedStreams.end();
}

}  // namespace

// Declaration order is construction order; stop() tears down in the order that loses
// nothing, the destructors then only free memory.
struct App::Parts {
  Config* config = nullptr;
  AppInfo info;
  std::unique_ptr<Database> database;  // store.backend=rocksdb only
  // store.backend=postgres only: this node's shard leases (the journal's fence: declared
  // before the journal, so it outlives it) and who serves the other shards.
  std::unique_ptr<LeaseManager> leases;
  std::unique_ptr<ShardRouting> routing;
  // What the lease manager's thread evicts at a hand-off; set once the systems exist.
  std::atomic<device::DeviceSystem*> handoff_devices{nullptr};
  std::atomic<chat::ChatSystem*> handoff_chat{nullptr};
  std::unique_ptr<Journal> journal;
  RocksdbJournal* rocksdb_journal = nullptr;  // `journal`, when on RocksDB
  PgJournal* pg_journal = nullptr;            // `journal`, when on PostgreSQL
  std::unique_ptr<SnapshotStore> snapshots;
  // Doors' broker credentials and provisioning keys; the HTTP routes and the provisioning
  // topics use it, the broker's authentication mirrors it through its listeners.
  std::unique_ptr<credentials::CredentialRegistry> credentials;
  http::ApiTokens api_tokens;
  std::vector<std::pair<std::string, std::string>> configured_api_tokens;  // auth.tokens
  std::optional<http::UrlSigner> signer;
  // The private broker, restarted on the same port whenever it exits; null with an external one.
  std::unique_ptr<mqtt_adapter::BrokerSupervisor> broker;
  std::unique_ptr<mqtt_adapter::MqttConnection> connection;
  std::unique_ptr<mqtt_adapter::BrokerSync> broker_sync;  // the broker's identity table
  NoAccessPlugin no_access_plugin;                        // broker_sync's publisher on NATS
  // cluster.broker=nats only: gatehouse's NATS account key (cluster.nats-account-seed-file),
  // which signs this node's NATS user and each door's (docs/cluster.md, "Device identity on
  // NATS").
  std::optional<nkeys::KeyPair> nats_account;
  // cluster.broker=nats only: the doors' revocations at NATS (docs/cluster.md, "Revocation on
  // NATS"), folded from system/door-credentials; pushed when cluster.nats-url is given.
  std::unique_ptr<NatsRevocation> nats_revocation;
  // cluster.broker=nats only: the persistent sessions of the session groups this node holds
  // every lease of; `held_sessions` is what the lease manager's thread reaches, set once the
  // devices are served and cleared first at stop.
  std::unique_ptr<mqtt_adapter::GroupSessions> group_sessions;
  // cluster.broker=nats only: the connection on which other nodes hand this one chat
  // requests (PREFIX/nodes/{node}/chat/+), started once the group sessions are connected.
  std::unique_ptr<mqtt_adapter::MqttConnection> node_requests;
  std::atomic<mqtt_adapter::GroupSessions*> held_sessions{nullptr};
  std::mutex identities_mu;  // guards identities: the journal's writer, the connect thread
  std::unique_ptr<mqtt_adapter::IdentityProjection> identities;
  // store.backend=postgres only: what this node keeps in memory of the system streams
  // follows the shared log (docs/cluster.md, "What each node keeps in memory"). The log is
  // followed from `follow_from`, the head before anything was read from it; the sequencer
  // applies each event of the API tokens and the broker's identities once, in version order,
  // whether this node's durable observer or the follower brings it first.
  uint64_t follow_from = 0;
  std::unique_ptr<StreamSequencer> sequencer;
  std::unique_ptr<LogFollower> follower;
  // Commands logged and counted, doors by presence: from durable device events.
  std::unique_ptr<DeviceActivity> activity;
  std::function<std::string(const std::string&)> picture_url;  // signed link to a picture
  std::unique_ptr<mqtt_adapter::DeviceTopics> device_topics;
  // Home Assistant's discovery and set topics; null unless ha.discovery is on.
  std::unique_ptr<mqtt_adapter::HomeAssistant> home_assistant;
  std::unique_ptr<mqtt_adapter::ChatTopics> chat_topics;  // destroyed after chat
  std::unique_ptr<mqtt_adapter::LegacyChat> legacy_chat;  // null unless `legacy` is on
  // PREFIX/provision/+/+: doors with a provisioning key.
  std::unique_ptr<mqtt_adapter::ProvisionTopics> provision_topics;
  // Device effects go to MQTT and, once HTTP is up, to its operators' event streams.
  std::unique_ptr<http::DeviceEffectsTee> device_effects;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<device::DeviceSystem> devices;
  std::unique_ptr<chat::ChatSystem> chat;
  std::unique_ptr<actions::ActionRunner> actions;           // scripted actions
  std::unique_ptr<mqtt_adapter::ActionTable> action_table;  // null unless `legacy` is on
  std::unique_ptr<mqtt_adapter::RemoteInstall> remote_install;
  std::unique_ptr<http::HttpAdapter> http;
  // gatehousectl's way in (<store>/admin.sock); published to the journal's observer once up.
  std::unique_ptr<AdminSocket> admin;
  std::atomic<AdminSocket*> admin_feed{nullptr};
  bool stopped = false;

  Status open_store();
  Status open_rocksdb();
  Status open_postgres();
  void set_durable_observer(std::function<void(const events::Envelope&)> observer);
  void shutdown_journal();
  Status load_auth();
  Status load_identities();
  Status load_nats_account();
  Status start_mqtt();
  Status start_home_assistant();
  void start_devices();
  Status start_provisioning();
  Status start_chat();
  Status start_actions();
  Status start_http();
  Status start_admin();
  std::string admin_socket_file() const;
  void ask_every_door();
  // Returns how many groups this node holds whole now.
  size_t hold_sessions();
  // Whether this node subscribes the MQTT request topics (chat, provisioning, the action
  // table, remote installs, Home Assistant's set topics) on its own connection. On NATS
  // every node would receive each request and each would answer (once with the owner's
  // answer, the others lease_lost): there the chat requests come through group 0's session
  // instead (start_mqtt), and the others are served over HTTP only (docs/cluster.md,
  // "Chat requests on NATS").
  bool answers_mqtt_requests() const { return !nats_broker(*config); }
  void follow_durable(const events::Envelope& e);
  void project(const events::Envelope& e);
  Status start_following();
  http::MetricsSources metrics();
};

Status App::Parts::open_rocksdb() {
  auto opened = Database::open(config->store_path, OpenMode::kReadWrite);
  if (!opened) return step("opening the store", opened.status());
  database = std::move(*opened);
  auto rocksdb = std::make_unique<RocksdbJournal>(database.get());
  rocksdb_journal = rocksdb.get();
  journal = std::move(rocksdb);
  snapshots = std::make_unique<RocksdbSnapshotStore>(database.get());
  return Status::ok();
}

// Cluster mode: the journal, snapshots and leases in PostgreSQL. The node takes the shards
// it should own (one round) before anything is written, so a node alone writes its first API
// token; rounds then run every TTL/3 on the lease manager's thread.
Status App::Parts::open_postgres() {
  std::string password;
  if (!config->store_postgres_password_file.empty()) {
    auto read = read_secret(config->store_postgres_password_file);
    if (!read) return step("store.postgres-password-file", read.status());
    password = std::move(*read);
  }
  auto conninfo = pg_conninfo(config->store_postgres, password);
  if (!conninfo) return step("store.postgres", conninfo.status());
  info.postgres = pg_conninfo_redacted(config->store_postgres);
  const std::string where = "opening PostgreSQL (" + info.postgres + ")";
  LeaseOptions lease;
  lease.conninfo = *conninfo;
  lease.node = config->cluster_node;
  lease.address = config->cluster_advertise.empty()
                      ? "http://" + config->http_address + ":" + std::to_string(config->http_port)
                      : config->cluster_advertise;
  lease.ttl = std::chrono::milliseconds(config->cluster_lease_ttl_ms);
  lease.margin = std::chrono::milliseconds(config->cluster_lease_margin_ms);
  lease.groups = static_cast<uint32_t>(config->cluster_session_groups);
  // Hand-off: this node's actors of the shard are stopped (each finishes its queue), so that
  // should the shard come back, its entities recover from the log with the other node's
  // writes rather than answer from a stale memory.
  // The same when a lease was lost without a release (this node paused or cut off past its
  // expiry): the entities come back from the log if the shard does. On NATS, the group's
  // session is closed first: no message is taken from it that this node could not write.
  auto forget = [this, groups = lease.groups](uint32_t shard) {
    if (auto* g = held_sessions.load()) g->close(shards::group_of_shard(shard, groups));
    if (auto* d = handoff_devices.load()) d->forget_shard(shard);
    if (auto* c = handoff_chat.load()) c->forget_shard(shard);
  };
  lease.before_release = forget;
  lease.after_loss = forget;
  lease.after_round = [this] {
    if (routing) routing->refresh();
    hold_sessions();
  };
  auto opened = LeaseManager::open(std::move(lease));
  if (!opened) return step(where, opened.status());
  leases = std::move(*opened);
  routing = std::make_unique<ShardRouting>(*leases);
  PgJournalOptions options;
  options.conninfo = *conninfo;
  options.fence = leases.get();
  auto pg = PgJournal::open(std::move(options));
  if (!pg) return step(where, pg.status());
  pg_journal = pg->get();
  journal = std::move(*pg);
  // Before anything is read from the log: what is written from here on is followed.
  follow_from = journal->last_position();
  sequencer = std::make_unique<StreamSequencer>(*journal,
                                                [this](const events::Envelope& e) { project(e); });
  for (auto stream : kSequencedStreams) {
    auto version = journal->stream_version(std::string(stream));
    if (!version) return step(where, version.status());
    sequencer->start_at(std::string(stream), *version);
  }
  auto store = PgSnapshotStore::open(*conninfo);
  if (!store) return step(where, store.status());
  snapshots = std::move(*store);
  auto round = leases->tick();
  if (!round) return step("taking shard leases", round.status());
  routing->refresh();
  leases->start();
  // gatehousectl, pointed at store.path, says which backend holds the store and finds this
  // node's admin socket (tools/ctl/admin_client.h).
  std::ofstream(fs::path(config->store_path) / "BACKEND")
      << "postgres\nadmin-socket " << admin_socket_file() << "\n";
  return Status::ok();
}

void App::Parts::set_durable_observer(std::function<void(const events::Envelope&)> observer) {
  if (rocksdb_journal) rocksdb_journal->set_durable_observer(std::move(observer));
  if (pg_journal) pg_journal->set_durable_observer(std::move(observer));
}

void App::Parts::shutdown_journal() {
  if (rocksdb_journal) rocksdb_journal->shutdown();
  if (pg_journal) pg_journal->shutdown();
}

Status App::Parts::open_store() {
  std::error_code ec;
  fs::create_directories(config->store_path, ec);
  fs::create_directories(config->run_dir, ec);
  GH_RETURN_IF_ERROR(postgres_backend(*config) ? open_postgres() : open_rocksdb());
  info.store_backend = config->store_backend;
  info.store_path = fs::absolute(config->store_path).string();
  auto listed = device::listed_devices(*journal, "", SIZE_MAX);
  if (!listed) return step("counting the registered doors", listed.status());
  activity = std::make_unique<DeviceActivity>(listed->size());
  auto registry = credentials::CredentialRegistry::open(*journal);
  if (!registry) return step("loading door credentials and provisioning keys", registry.status());
  credentials = std::move(*registry);
  return Status::ok();
}

Status App::Parts::load_auth() {
  auto configured = configured_tokens(*config);
  if (!configured) return step("loading API tokens", configured.status());
  configured_api_tokens = std::move(*configured);
  auto token_state = load_tokens(configured_api_tokens, *journal, api_tokens);
  if (!token_state) return step("loading API tokens", token_state.status());
  if (api_tokens.size() == 0 && switch_on(config->bootstrap_token)) {
    auto secret = bootstrap_admin_token(*journal, *token_state, api_tokens);
    if (!secret) return step("creating the first API token", secret.status());
    if (*secret) info.bootstrap_secret = **secret;
  }
  info.api_tokens = api_tokens.size();
  auto loaded = load_signer(config->run_dir);
  if (!loaded) return step("loading the URL signing key", loaded.status());
  signer.emplace(std::move(*loaded));
  return Status::ok();
}

namespace {

// The private broker: a stable loopback port, gatehouse's access plugin, and the network
// listener an operator asked for (TLS unless `insecure`, checked by validate()).
mqtt_adapter::BrokerProcessOptions private_broker_options(const Config& config,
                                                          const std::string& server_secret) {
  mqtt_adapter::BrokerProcessOptions options;
  options.work_dir = fs::path(config.run_dir) / "mosquitto";
  options.port = config.mqtt_port;
  options.max_packet_bytes = std::max(config.mqtt_max_payload, config.mqtt_max_picture) + 64 * 1024;
  mqtt_adapter::BrokerAccess access;
  if (!config.mqtt_plugin.empty()) access.plugin = config.mqtt_plugin;
  access.server_username = config.mqtt_username;
  access.server_sha256_hex = secrets::to_hex(secrets::sha256_of(server_secret));
  access.server_client_id = config.mqtt_client_id;
  access.prefix = config.mqtt_prefix;
  access.anonymous = config.mqtt_anonymous == "local"   ? "local"
                     : switch_on(config.mqtt_anonymous) ? "on"
                                                        : "off";
  if (switch_on(config.ha_discovery)) access.discovery_prefix = config.ha_discovery_prefix;
  access.publish_rate = config.mqtt_publish_rate;
  access.publish_burst = config.mqtt_publish_burst;
  access.legacy = switch_on(config.legacy);
  if (access.legacy) {
    access.legacy_topics = mqtt_adapter::LegacyChat::topics();
    for (const auto& topic : config.action_topics) access.legacy_topics.push_back(topic);
  }
  options.access = access;
  if (!config.mqtt_listen.empty()) {
    auto colon = config.mqtt_listen.rfind(':');
    mqtt_adapter::BrokerListener listener;
    listener.address = config.mqtt_listen.substr(0, colon);
    listener.port = static_cast<uint16_t>(std::stoul(config.mqtt_listen.substr(colon + 1)));
    listener.certfile = config.mqtt_tls_cert;
    listener.keyfile = config.mqtt_tls_key;
    listener.client_ca = config.mqtt_tls_client_ca;
    options.listeners.push_back(listener);
  }
  return options;
}

}  // namespace

// The broker's identities: folded from their streams now, then from every event once durable
// (before its append is answered), each change passed on to the broker.
Status App::Parts::load_identities() {
  identities = std::make_unique<mqtt_adapter::IdentityProjection>(configured_api_tokens);
  GH_RETURN_IF_ERROR(step("reading the identities from the log",
                          mqtt_adapter::load_identities(*journal, *identities)));
  set_durable_observer([this](const events::Envelope& e) {
    follow_durable(e);
    activity->apply(e);
    if (!sequencer) return project(e);
    if (auto s = sequencer->deliver(e); !s.is_ok())
      log::warning("follower", "applying " + e.stream() + " version " +
                                   std::to_string(e.version()) + ": " + s.to_string());
  });
  return Status::ok();
}

// API tokens for HTTP and the broker's identities, from one event of the log: this node's
// own, once durable, or (cluster mode) another node's, through the follower.
void App::Parts::project(const events::Envelope& e) {
  if (nats_revocation) nats_revocation->apply(e);
  if (e.stream() == tokens::kStream) {
    if (e.has_api_token_created())
      (void)api_tokens.add(e.api_token_created().name(), e.api_token_created().sha256());
    if (e.has_api_token_revoked()) api_tokens.revoke(e.api_token_revoked().name());
  }
  std::vector<mqtt_adapter::IdentityChange> changes;
  {
    std::lock_guard lock(identities_mu);
    changes = identities->apply(e);
  }
  for (const auto& c : changes) {
    if (c.remove) {
      broker_sync->remove(c.kind, c.name, c.sha256);
    } else {
      broker_sync->set(c.kind, c.name, c.sha256, c.expires_at_ms);
    }
  }
}

// Cluster mode: other nodes' changes of the system streams reach this node's memory within
// about one interval of the follower (the API tokens, the broker's identities, the door
// credentials and provisioning keys, the action table).
Status App::Parts::start_following() {
  if (!sequencer) return Status::ok();
  follower = std::make_unique<LogFollower>(*journal, follow_from);
  follower->subscribe(std::string(kUnfencedPrefix), [this](const events::Envelope& e) {
    if (sequenced_stream(e.stream())) {
      if (auto s = sequencer->deliver(e); !s.is_ok())
        log::warning("follower", "applying " + e.stream() + " version " +
                                     std::to_string(e.version()) + ": " + s.to_string());
    }
    credentials->follow(e);
    if (actions) actions->follow(e);
  });
  // Caught up once before serving, then every interval on the follower's thread.
  GH_RETURN_IF_ERROR(step("following the log", follower->poll()));
  follower->start();
  return Status::ok();
}

// What the server keeps in memory follows each durable event before its append is answered,
// so an operator's change counts from the very next request: the actors of streams an
// operator's verb wrote outside them (they recover from the log on their next call), and the
// admin socket's feed. API tokens and the broker's identities follow in project().
void App::Parts::follow_durable(const events::Envelope& e) {
  if (chat) chat->note_durable(e);
  if (e.cause().channel() == ctl::kAdminChannel) {
    const auto& stream = e.stream();
    const auto slash = stream.find('/');
    const auto kind = stream.substr(0, slash), id = stream.substr(slash + 1);
    if (kind == "user" && chat) chat->forget_user(id);
    if (kind == "room" && chat) chat->forget_room(id);
    if (kind == "device" && devices) devices->forget(id);
  }
  if (auto* feed = admin_feed.load()) feed->on_durable(e);
}

// A new broker session (gatehouse started, or the broker came back): what was known of the
// doors' presence is history, so every door is `unknown` until heard again, and each
// registered door is asked for its state. Runs on the connection's callback thread; the
// reads are of the position-ordered stream list only.
void App::Parts::ask_every_door() {
  if (!devices || !device_topics) return;
  devices->begin_presence_epoch();
  std::string after;
  for (;;) {
    auto page = devices->list(after, 1000);
    if (!page || page->empty()) return;
    for (const auto& id : *page) device_topics->ask_state(id);
    if (page->size() < 1000) return;
    after = page->back();
  }
}

// <store>/admin.sock on RocksDB (the store's lock says it is this server's); on PostgreSQL,
// where store.path is only a marker, this node's own run directory's admin.sock.
std::string App::Parts::admin_socket_file() const {
  const auto dir = fs::absolute(postgres_backend(*config) ? config->run_dir : config->store_path);
  return ctl::admin_socket_path(dir.string());
}

Status App::Parts::start_admin() {
  ctl::LiveServer live;
  live.database = database.get();  // null on PostgreSQL: verify, backup, erase refuse
  live.journal = journal.get();
  live.snapshots = snapshots.get();
  if (routing) live.serves = [r = routing.get()](const std::string& s) { return r->serves(s); };
  live.credentials = credentials.get();
  live.actions = actions.get();
  auto* d = devices.get();
  live.remove_device = [d](const std::string& id, const events::Cause& by) {
    return device::wait_for<device::State>([&](auto done) { d->remove(id, by, std::move(done)); });
  };
  // On PostgreSQL other nodes write the log too: `events --follow` reads it by position.
  const bool shared_log = pg_journal != nullptr;
  auto started = AdminSocket::start(admin_socket_file(), std::move(live), shared_log);
  if (!started) return step("opening the admin socket", started.status());
  admin = std::move(*started);
  admin_feed = admin.get();
  info.admin_socket = admin_socket_file();
  return Status::ok();
}

// cluster.broker=nats: open the session of every group whose leases this node all holds now,
// close the others (a lease lost or run out without a release included).
size_t App::Parts::hold_sessions() {
  auto* sessions = held_sessions.load();
  if (!sessions || !leases) return 0;
  const auto groups = static_cast<uint32_t>(config->cluster_session_groups);
  std::map<uint32_t, uint32_t> shards_held;
  for (const auto& [shard, epoch] : leases->held())
    ++shards_held[shards::group_of_shard(shard, groups)];
  std::set<uint32_t> whole;
  for (const auto& [group, count] : shards_held)
    if (count == shards::kShardCount / groups) whole.insert(group);
  sessions->hold(whole);
  return whole.size();
}

// The account seed from its file, which only its owner may read (as the PostgreSQL password).
Status App::Parts::load_nats_account() {
  auto text = read_secret(config->cluster_nats_account_seed_file);
  if (!text) return step("cluster.nats-account-seed-file", text.status());
  auto key = nkeys::parse_seed(*text);
  if (!key || key->kind != nkeys::Kind::kAccount)
    return step("cluster.nats-account-seed-file",
                invalid_argument(config->cluster_nats_account_seed_file +
                                 " does not hold a NATS account seed (SA...)" +
                                 (key ? std::string() : ": " + key.status().message())));
  nats_account = std::move(*key);
  auto revocation = NatsRevocation::open(*config, *nats_account);
  if (!revocation) return step("revoking doors at NATS", revocation.status());
  nats_revocation = std::move(*revocation);
  return Status::ok();
}

Status App::Parts::start_mqtt() {
  info.broker_url = config->broker_url;
  const bool on_nats = nats_broker(*config);
  // On NATS this node's user: every subject, a bearer JWT as its MQTT password.
  const std::string node_jwt =
      on_nats ? nats_identities::node_jwt(*nats_account, config->cluster_node, unix_now_ms() / 1000)
              : std::string();
  // On NATS, mqtt.broker may list the cluster's MQTT listeners: connect to the first that
  // answers, in order (validate() has parsed the list).
  std::vector<std::string> other_urls;
  if (on_nats) {
    auto urls = mqtt_adapter::parse_broker_urls(config->broker_url);
    if (!urls) return step("mqtt.broker", urls.status());
    info.broker_url = urls->front();
    other_urls.assign(urls->begin() + 1, urls->end());
  }
  const fs::path password_file = config->mqtt_password_file.empty()
                                     ? fs::path(config->run_dir) / "mqtt-server.secret"
                                     : fs::path(config->mqtt_password_file);
  auto secret = read_or_create_secret(password_file);
  if (!secret) return step("gatehouse's broker password", secret.status());
  if (info.broker_url.empty()) {
    auto options = private_broker_options(*config, *secret);
    std::error_code ec;
    fs::create_directories(options.work_dir, ec);
    auto started = mqtt_adapter::BrokerSupervisor::start(options);
    if (!started) return step("starting the private mosquitto", started.status());
    broker = std::move(*started);
    info.broker_url = broker->url();
    info.broker_log = broker->log_path().string();
    info.broker_listen = config->mqtt_listen;
  }
  mqtt_adapter::MqttConnectionOptions options;
  options.url = info.broker_url;
  options.other_urls = other_urls;
  options.client_id = config->mqtt_client_id;
  options.status_topic = config->mqtt_prefix + "/server/status";
  options.mqtt_version = static_cast<int>(config->mqtt_version);
  options.username = config->mqtt_username;
  options.password = *secret;
  options.keep_alive = std::chrono::seconds(config->mqtt_keep_alive_s);
  if (on_nats) {
    // One of several nodes on one broker: a client id of its own, MQTT 3.1.1 (all NATS
    // speaks), no persistent session (what must survive is in the groups' sessions), no
    // server status (one node's will would say "offline" while the others serve), and the
    // node's NATS user JWT as its password (NATS' operator mode checks it).
    options.client_id = config->mqtt_client_id + "-" + config->cluster_node + "-" +
                        nats_identities::private_client_id_suffix(*nats_account);
    options.mqtt_version = 4;
    options.clean_session = true;
    options.status_topic.clear();
    options.username = config->cluster_node;
    options.password = node_jwt;
  }
  options.on_connected = [this] {
    if (broker_sync) broker_sync->full_sync();
    ask_every_door();
    // A new broker session may be a new broker with nothing retained: publish it all again.
    if (home_assistant) home_assistant->sync_discovery();
  };
  auto created = mqtt_adapter::MqttConnection::create(options);
  if (!created) return step("configuring the MQTT connection", created.status());
  connection = std::move(*created);
  mqtt_adapter::Publisher& plugin =
      on_nats ? static_cast<mqtt_adapter::Publisher&>(no_access_plugin) : *connection;
  broker_sync = std::make_unique<mqtt_adapter::BrokerSync>(plugin, [this] {
    std::lock_guard lock(identities_mu);
    return identities->all(unix_now_ms());
  });
  GH_RETURN_IF_ERROR(load_identities());
  auto* sync = broker_sync.get();
  if (!on_nats)
    GH_RETURN_IF_ERROR(
        step("subscribing the broker plugin's answers",
             connection->add_handler({std::string(mqtt_adapter::BrokerSync::kResponseTopic)}, 1,
                                     [sync](const std::string&, const std::string& payload, bool) {
                                       sync->on_response(payload);
                                     })));

  mqtt_adapter::DeviceTopicsOptions topics;
  topics.prefix = config->mqtt_prefix;
  topics.max_payload_bytes = config->mqtt_max_payload;
  topics.max_picture_bytes = config->mqtt_max_picture;
  // Signed by the HTTP adapter, with the port it actually bound (http.port=0 included): no
  // message arrives before it is up (the connection starts last).
  picture_url = [this](const std::string& picture_id) {
    return http ? http->signed_picture_url(picture_id) : std::string();
  };
  topics.picture_url = picture_url;
  device_topics = std::make_unique<mqtt_adapter::DeviceTopics>(*connection, topics);
  auto* handler = device_topics.get();
  auto on_device_message = [handler](const std::string& t, const std::string& p, bool retained) {
    handler->on_message(t, p, retained);
  };
  if (on_nats) {
    // Devices' messages come through their session group (opened in hold_sessions); what
    // gatehouse sends them goes out on `connection`.
    mqtt_adapter::GroupSessionsOptions groups;
    groups.url = info.broker_url;
    groups.other_urls = other_urls;
    groups.groups = static_cast<uint32_t>(config->cluster_session_groups);
    groups.prefix = config->mqtt_prefix;
    groups.keep_alive = std::chrono::seconds(config->mqtt_keep_alive_s);
    // Client ids no door can guess (private_client_id_suffix): none can push a session off.
    groups.client_id_prefix =
        "gatehouse-group-" + nats_identities::private_client_id_suffix(*nats_account) + "-";
    groups.username = config->cluster_node;
    groups.password = node_jwt;
    groups.handler = on_device_message;
    // The chat requests come through group 0's session too (docs/cluster.md, "Chat requests
    // on NATS"): one node, group 0's holder, receives each, and what is published while
    // nobody holds the group waits in its session for the next holder. The session opens
    // after the chat topics exist (hold_sessions, once App::start has set everything up).
    groups.requests_group = 0;
    groups.request_filters = {config->mqtt_prefix + "/chat/+"};
    groups.request_handler = [this](const std::string& t, const std::string& p, bool retained) {
      mqtt_adapter::InboundMessage message;
      message.topic = t;
      message.payload = p;
      message.retained = retained;
      if (chat_topics) chat_topics->on_message(message);
    };
    group_sessions = std::make_unique<mqtt_adapter::GroupSessions>(std::move(groups));
  } else {
    GH_RETURN_IF_ERROR(step(
        "subscribing device topics",
        connection->add_handler(device_topics->subscriptions(), 1, std::move(on_device_message))));
  }
  return start_home_assistant();
}

// Home Assistant follows every door's status through the device topics' effects.
Status App::Parts::start_home_assistant() {
  if (!switch_on(config->ha_discovery)) return Status::ok();
  mqtt_adapter::HomeAssistantOptions options;
  options.names.prefix = config->mqtt_prefix;
  options.names.discovery_prefix = config->ha_discovery_prefix;
  options.picture_url = picture_url;
  home_assistant = std::make_unique<mqtt_adapter::HomeAssistant>(*connection, options);
  device_topics->set_follower(home_assistant.get());
  if (!answers_mqtt_requests()) return Status::ok();
  return step("subscribing Home Assistant topics", home_assistant->install(*connection));
}

void App::Parts::start_devices() {
  system = std::make_unique<caf::actor_system>(*config);
  device::DeviceSystemOptions options;
  options.auto_register = switch_on(config->auto_register);
  options.command_timeout = std::chrono::milliseconds(config->command_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config->idle_timeout_ms);
  options.offline_after = std::chrono::milliseconds(config->offline_after_ms);
  if (routing) options.serves = [r = routing.get()](const std::string& s) { return r->serves(s); };
  options.refuse_dotted_ids = nats_broker(*config);
  options.max_live_actors = config->max_live_actors;
  options.snapshot_every = config->snapshot_every;
  options.pictures.max_count = config->pictures_per_door;
  options.pictures.max_bytes = config->picture_bytes_per_door;
  options.pictures.retention_ms = static_cast<int64_t>(config->picture_retention_h) * 3600 * 1000;
  options.pictures.max_per_minute = config->max_pictures_per_minute;
  device_effects = std::make_unique<http::DeviceEffectsTee>(device_topics.get());
  devices = std::make_unique<device::DeviceSystem>(
      *system, *journal, device::snapshot_storage(*journal, *snapshots, unix_now_ms),
      device_effects.get(), options);
  device_topics->set_service(devices.get());
  if (home_assistant) home_assistant->set_service(devices.get());
  handoff_devices = devices.get();
}

// Doors with a provisioning key ask for their credential; subscribed before the connection
// starts, like every topic family.
Status App::Parts::start_provisioning() {
  mqtt_adapter::ProvisionTopicsOptions options;
  options.prefix = config->mqtt_prefix;
  options.max_payload_bytes = config->mqtt_max_payload;
  provision_topics =
      std::make_unique<mqtt_adapter::ProvisionTopics>(*connection, *credentials, options);
  provision_topics->set_service(devices.get());
  if (!answers_mqtt_requests()) return Status::ok();
  return step("subscribing provisioning topics", provision_topics->install(*connection));
}

Status App::Parts::start_chat() {
  chat::ChatSystemOptions options;
  options.argon2_ops = config->argon2_ops;
  options.argon2_mem_bytes = config->argon2_mem_kib * 1024;
  options.hash_threads = config->hash_threads;
  options.hash_queue = config->hash_queue;
  options.max_text_bytes = config->chat_max_text;
  options.policy.session_ttl_ms = int64_t(config->session_ttl_h) * 3600 * 1000;
  options.max_live_actors = config->chat_max_live;
  options.throttle.source_per_minute = double(config->login_rate_per_source);
  options.throttle.source_burst = double(config->login_burst_per_source);
  options.throttle.shared_per_minute = double(config->login_rate_mqtt);
  options.throttle.shared_burst = double(config->login_burst_mqtt);
  options.throttle.account_per_minute = double(config->login_rate_per_account);
  options.throttle.account_burst = double(config->login_burst_per_account);
  options.throttle.backoff_after = static_cast<uint32_t>(config->backoff_after);
  options.throttle.backoff_first_ms = int64_t(config->backoff_first_ms);
  options.throttle.backoff_max_ms = int64_t(config->backoff_max_ms);
  options.idle_timeout = std::chrono::milliseconds(config->idle_timeout_ms);
  options.snapshot_every = config->snapshot_every;
  if (routing) options.serves = [r = routing.get()](const std::string& s) { return r->serves(s); };
  chat = std::make_unique<chat::ChatSystem>(*system, *journal, snapshots.get(), options);
  GH_RETURN_IF_ERROR(step("starting chat", chat->status()));
  handoff_chat = chat.get();

  // Subscribed before the connection starts; room updates go out after they are durable.
  mqtt_adapter::ChatTopicsOptions topics;
  topics.prefix = config->mqtt_prefix;
  topics.max_payload_bytes = config->mqtt_max_payload;
  const bool on_nats = nats_broker(*config);
  if (on_nats) {
    // A request about another node's room or user is handed to that node on a topic only
    // nodes may use, and answered there (docs/cluster.md, "Chat requests on NATS").
    topics.owner_elsewhere = [this](const std::string& stream) -> std::optional<std::string> {
      auto owner = routing->owner_elsewhere(stream);
      return owner ? std::optional<std::string>(owner->node) : std::nullopt;
    };
    topics.hand_on = [this](const std::string& owner, std::string_view op,
                            std::string_view payload) {
      connection->publish(mqtt_adapter::node_chat_topic(config->mqtt_prefix, owner, op),
                          std::string(payload), 1, false);
    };
  }
  chat_topics = std::make_unique<mqtt_adapter::ChatTopics>(*connection, *chat, topics);
  if (answers_mqtt_requests())
    GH_RETURN_IF_ERROR(step("subscribing chat topics", chat_topics->install(*connection)));
  if (on_nats) {
    // What other nodes hand to this one: served here, never handed on again. On a connection
    // of its own (clean session, like the node's own): started after the group sessions
    // (App::start), since NATS 2.9.10 here held every MQTT CONNECT of the account for its
    // 2 s authentication timeout when a subscription came first (seen in the tests; the
    // group sessions then connect again at the next lease round).
    mqtt_adapter::MqttConnectionOptions options;
    auto urls = mqtt_adapter::parse_broker_urls(config->broker_url);
    if (!urls) return step("mqtt.broker", urls.status());
    options.url = urls->front();
    options.other_urls.assign(urls->begin() + 1, urls->end());
    options.client_id = config->mqtt_client_id + "-" + config->cluster_node + "-requests-" +
                        nats_identities::private_client_id_suffix(*nats_account);
    options.mqtt_version = 4;
    options.clean_session = true;
    options.keep_alive = std::chrono::seconds(config->mqtt_keep_alive_s);
    options.username = config->cluster_node;
    options.password =
        nats_identities::node_jwt(*nats_account, config->cluster_node, unix_now_ms() / 1000);
    auto created = mqtt_adapter::MqttConnection::create(options);
    if (!created) return step("configuring the node's request connection", created.status());
    node_requests = std::move(*created);
    const std::string prefix = config->mqtt_prefix;
    GH_RETURN_IF_ERROR(step("subscribing the requests other nodes hand on",
                            node_requests->add_request_handler(
                                {mqtt_adapter::node_chat_filter(prefix, config->cluster_node)}, 1,
                                [this, prefix](const mqtt_adapter::InboundMessage& m) {
                                  auto topic =
                                      mqtt_adapter::chat_topic_of_node_topic(prefix, m.topic);
                                  if (!topic || !chat_topics) return;
                                  mqtt_adapter::InboundMessage request = m;
                                  request.topic = *topic;
                                  chat_topics->on_forwarded(request);
                                })));
  }
  chat->add_listener(chat_topics.get());
  if (switch_on(config->legacy) && answers_mqtt_requests()) {
    mqtt_adapter::LegacyChatOptions legacy;
    legacy.own_prefix = config->mqtt_prefix;
    legacy.reserved_topics = config->action_topics;  // a returnTopic may not name them
    legacy_chat = std::make_unique<mqtt_adapter::LegacyChat>(*connection, *chat, legacy);
    GH_RETURN_IF_ERROR(step("subscribing legacy chat topics", legacy_chat->install(*connection)));
  }
  return Status::ok();
}

// The seed's action table (with `legacy`), scripted actions and their remote install.
// Subscribed before the connection starts, like every topic family.
Status App::Parts::start_actions() {
  actions::ActionRunnerOptions options;
  options.limits.max_instructions = config->action_max_instructions;
  options.limits.max_memory_bytes = config->action_max_memory_kib * 1024;
  options.limits.max_source_bytes = config->action_max_source;
  options.failures.max_failures_in_a_row = static_cast<uint32_t>(config->action_max_failures);
  options.threads = config->action_threads;
  options.queue = config->action_queue;
  options.prefix = config->mqtt_prefix;
  options.limits.max_call_ms = config->action_max_call_ms;
  options.max_input_bytes = config->action_max_input;
  options.runs_excerpt_bytes = config->action_runs_excerpt;
  options.runs_retain = config->action_runs_retain;
  options.sandbox_helper = config->action_sandbox_helper;
  auto* conn = connection.get();
  auto runner = actions::ActionRunner::create(
      *journal, *devices,
      [conn](const std::string& topic, const std::string& payload) {
        (void)conn->publish(topic, payload, 1, false);
      },
      options);
  if (!runner) return step("loading actions (system/actions)", runner.status());
  actions = std::move(*runner);

  if (switch_on(config->legacy)) {
    mqtt_adapter::ActionTableOptions table;
    table.topics = config->action_topics;
    table.prefix = config->mqtt_prefix;
    table.max_picture_bytes = config->mqtt_max_picture;
    table.max_script_input_bytes = config->action_max_input;
    table.picture_url = picture_url;
    action_table = std::make_unique<mqtt_adapter::ActionTable>(*connection, table);
    action_table->set_devices(devices.get());
    action_table->set_actions(actions.get());
    if (answers_mqtt_requests())
      GH_RETURN_IF_ERROR(step("subscribing the action table", action_table->install(*connection)));
  }
  mqtt_adapter::RemoteInstallOptions remote;
  remote.prefix = config->mqtt_prefix;
  remote.enabled = switch_on(config->remote_install);
  // The operator routes' rule (an API token or an operator's session). HTTP is set up before
  // the connection starts, so before any install request can arrive.
  auto authenticate = [this](const std::string& token) -> Result<events::Cause> {
    if (!http) return unavailable("gatehouse is starting");
    return http->authenticate_operator(token);
  };
  remote_install =
      std::make_unique<mqtt_adapter::RemoteInstall>(*connection, *actions, authenticate, remote);
  if (!answers_mqtt_requests()) return Status::ok();
  return step("subscribing remote action installs", remote_install->install(*connection));
}

http::MetricsSources App::Parts::metrics() {
  http::MetricsSources sources;
  auto* j = journal.get();
  auto* d = devices.get();
  auto* c = connection.get();
  auto* t = device_topics.get();
  auto* ch = chat.get();
  auto* parts = this;  // the HTTP adapter is made after these sources; read it when asked
  sources.journal = [j] { return j->stats(); };
  sources.live_actors = [d, ch] { return d->live_actors() + ch->live_actors(); };
  sources.extra = [c, t, d, ch, parts] {
    auto out = mqtt_adapter::mqtt_metrics(c->counters(), t->counters());
    for (auto& m : parts->broker_sync->metrics()) out.push_back(std::move(m));
    if (parts->broker) {
      out.emplace_back("gatehouse_broker_restarts_total", double(parts->broker->restarts()));
      out.emplace_back("gatehouse_broker_restart_failures_total",
                       double(parts->broker->restart_failures()));
    }
    if (parts->leases)
      out.emplace_back("gatehouse_cluster_shards_held", double(parts->leases->held().size()));
    if (parts->nats_revocation)
      for (auto& m : parts->nats_revocation->metrics()) out.push_back(std::move(m));
    if (parts->group_sessions) {
      out.emplace_back("gatehouse_cluster_session_groups_open",
                       double(parts->group_sessions->open_groups().size()));
      out.emplace_back("gatehouse_cluster_session_messages_total",
                       double(parts->group_sessions->received()));
    }
    out.emplace_back("gatehouse_device_commands_total", double(d->commands()));
    out.emplace_back("gatehouse_device_rejections_total", double(d->rejections()));
    out.emplace_back("gatehouse_chat_live_users", double(ch->live_users()));
    out.emplace_back("gatehouse_chat_live_rooms", double(ch->live_rooms()));
    out.emplace_back("gatehouse_chat_logins_ok_total", double(ch->logins_ok()));
    out.emplace_back("gatehouse_chat_logins_failed_total", double(ch->logins_failed()));
    out.emplace_back("gatehouse_chat_password_hashes_total", double(ch->hashes()));
    out.emplace_back("gatehouse_chat_hash_queue_depth", double(ch->hash_queue_depth()));
    out.emplace_back("gatehouse_chat_hashes_refused_total", double(ch->hashes_refused()));
    out.emplace_back("gatehouse_chat_attempts_throttled_total", double(ch->attempts_throttled()));
    out.emplace_back("gatehouse_chat_posts_total", double(ch->posts()));
    for (auto& m : parts->chat_topics->metrics()) out.push_back(std::move(m));
    if (parts->legacy_chat)
      for (auto& m : parts->legacy_chat->metrics()) out.push_back(std::move(m));
    if (parts->action_table)
      for (auto& m : parts->action_table->metrics()) out.push_back(std::move(m));
    for (auto& m : parts->provision_topics->metrics()) out.push_back(std::move(m));
    if (parts->home_assistant)
      for (auto& m : parts->home_assistant->metrics()) out.push_back(std::move(m));
    const auto rule = parts->devices ? parts->devices->presence_rule() : device::PresenceRule{};
    for (auto& m : parts->activity->metrics(rule, unix_now_ms())) out.push_back(std::move(m));
    if (parts->http)
      out.emplace_back("gatehouse_http_event_streams", double(parts->http->open_event_streams()));
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
  options.server.max_header_bytes = config->http_max_header_bytes;
  options.server.max_headers = config->http_max_headers;
  options.server.header_timeout = std::chrono::seconds(config->http_header_timeout_s);
  options.server.max_connections = config->http_max_connections;
  options.server.max_connections_per_source = config->http_max_connections_per_source;
  options.max_streams_per_user = config->http_max_streams_per_user;
  options.public_base_url = config->http_public_url;  // empty: the bound address and port
  options.legacy_get_routes = switch_on(config->legacy);
  options.picture_url_ttl = std::chrono::seconds(config->picture_url_ttl_s);
  options.call_timeout = std::chrono::milliseconds(config->command_timeout_ms);
  options.max_event_streams = config->http_max_streams;
  if (routing) {
    // Cluster mode: requests about an entity another node serves are answered by it.
    options.node = config->cluster_node;
    options.owner_url = [r = routing.get()](const std::string& stream) {
      auto owner = r->owner_elsewhere(stream);
      return owner ? std::optional<std::string>(owner->address) : std::nullopt;
    };
  }
  http::HealthProbes health;
  auto* c = connection.get();
  auto* j = journal.get();
  health.broker_connected = [c] { return c->connected(); };
  // On RocksDB, also whether it writes again after a failed write (a full disk).
  health.journal_reachable = [j, rj = rocksdb_journal] {
    return j->stream_version("system/health").is_ok() && (rj == nullptr || rj->writable().is_ok());
  };
  http = std::make_unique<http::HttpAdapter>(*devices, api_tokens, *signer, health, metrics(),
                                             options);
  http->set_chat(chat.get());
  http->set_actions(actions.get());
  http->set_credentials(credentials.get());
  if (nats_account) {
    // On NATS a door connects with its NATS user JWT as password, not its secret.
    http->set_broker_password([this](const std::string& device_id) {
      return nats_identities::door_jwt(
          *nats_account, config->mqtt_prefix, static_cast<uint32_t>(config->cluster_session_groups),
          device_id, nats_revocation->jwt_issued_at(device_id, unix_now_ms() / 1000));
    });
    // A chat user connects with a JWT of its own, expiring with its session.
    http->set_chat_broker_password([this](const std::string& user, int64_t expires_at_ms) {
      return nats_identities::chat_user_jwt(*nats_account, config->mqtt_prefix, user,
                                            unix_now_ms() / 1000, expires_at_ms / 1000);
    });
  }
  chat->add_listener(&http->room_listener());
  device_effects->set_second(&http->device_listener());
  auto port = http->start();
  if (!port) return step("starting HTTP on " + config->http_address, port.status());
  info.http_port = *port;
  info.http_url = "http://" + config->http_address + ":" + std::to_string(*port);
  // Other nodes reach this one here (cluster mode).
  if (leases && config->cluster_advertise.empty()) {
    leases->set_address(info.http_url);
    (void)leases->heartbeat();  // at once, not a round later: the first one named port 0
  }
  return Status::ok();
}

Result<std::unique_ptr<App>> App::start(Config& config) {
  GH_RETURN_IF_ERROR(step("configuration", validate(config)));
  if (sodium_init() < 0) return internal_error("libsodium: sodium_init failed");
  auto parts = std::make_unique<Parts>();
  parts->config = &config;
  std::unique_ptr<App> app(new App(std::move(parts)));
  auto& p = *app->parts_;
  // Before anything is written: a bad account seed file stops the start with nothing done.
  if (nats_broker(config)) GH_RETURN_IF_ERROR(p.load_nats_account());
  GH_RETURN_IF_ERROR(p.open_store());
  if (p.nats_revocation)
    GH_RETURN_IF_ERROR(
        step("reading the doors' credentials for NATS", p.nats_revocation->replay(*p.journal)));
  GH_RETURN_IF_ERROR(p.load_auth());
  GH_RETURN_IF_ERROR(p.start_mqtt());
  p.start_devices();
  GH_RETURN_IF_ERROR(p.start_provisioning());
  GH_RETURN_IF_ERROR(p.start_chat());
  GH_RETURN_IF_ERROR(p.start_actions());
  GH_RETURN_IF_ERROR(p.start_http());
  GH_RETURN_IF_ERROR(p.start_admin());
  GH_RETURN_IF_ERROR(p.start_following());
  if (p.nats_revocation) p.nats_revocation->start();  // what the log holds, caught up
  // Devices are reachable (service set) before the connection subscribes: no message from
  // the broker finds the adapter without a service.
  GH_RETURN_IF_ERROR(step("connecting to the broker", p.connection->start()));
  p.info.mqtt_connected = p.connection->wait_connected(std::chrono::seconds(10));
  if (p.group_sessions) {  // cluster.broker=nats: the sessions of the groups held
    p.held_sessions = p.group_sessions.get();
    const size_t held = p.hold_sessions();
    // The requests other nodes hand on come after the groups' sessions have connected (or
    // 10 s), for the reason given in start_chat.
    for (int i = 0; i < 100 && p.group_sessions->open_groups().size() < held; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (p.node_requests)
      GH_RETURN_IF_ERROR(
          step("connecting the node's request connection", p.node_requests->start()));
  }
  // Ready means clients can connect: the private broker's plugin refuses them until it has
  // the identities.
  if (p.info.mqtt_connected && p.broker &&
      !p.broker_sync->wait_confirmed(std::chrono::seconds(10))) {
    log::warning("mqtt",
                 "the broker has not confirmed the identities yet; clients are refused "
                 "until it does");
  }
  return app;
}

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

App::~App() { stop(); }

const AppInfo& App::info() const { return parts_->info; }

credentials::CredentialRegistry& App::credentials() { return *parts_->credentials; }

void App::stop() {
  auto& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  if (p.admin) p.admin->stop();  // no new operator verbs; one in progress finishes
  p.admin_feed = nullptr;
  if (p.http) p.http->stop();  // no new HTTP requests; those in progress finish
  // On NATS: no device message is taken from the groups' sessions any more; what follows
  // stays there for the groups' next owners.
  p.held_sessions = nullptr;
  if (p.group_sessions) p.group_sessions->close_all();
  if (p.node_requests) p.node_requests->stop();  // nor requests handed on by other nodes
  p.follower.reset();                            // other nodes' changes no longer followed
  if (p.device_topics) p.device_topics->set_service(nullptr);    // no new device messages
  if (p.home_assistant) p.home_assistant->set_service(nullptr);  // nor set commands
  if (p.action_table) {                                          // nor actions from the table
    p.action_table->set_devices(nullptr);
    p.action_table->set_actions(nullptr);
  }
  // Nor provisioning requests.
  if (p.provision_topics) p.provision_topics->set_service(nullptr);
  if (p.devices) p.devices->shutdown();  // actors finish queued commands, durably
  if (p.device_effects) p.device_effects->set_second(nullptr);  // before HTTP goes
  if (p.chat) p.chat->shutdown();          // users and rooms too; hashing threads end
  if (p.connection) p.connection->stop();  // effects were handed to paho before this
  p.remote_install.reset();                // finishes queued installs (durable), then joins
  p.actions.reset();          // kills calls in flight, answers queued ones unavailable, joins
  p.credentials.reset();      // answers queued credential issues (durable)
  p.shutdown_journal();       // drains any append still queued
  p.nats_revocation.reset();  // no more events to fold; a push in progress ends (bounded)
  // Cluster mode: hand every shard back at once (the others take them on their next round,
  // rather than after the leases expire) and leave the live nodes.
  p.handoff_devices = nullptr;  // both are shut down: nothing left to evict
  p.handoff_chat = nullptr;
  if (p.leases) (void)p.leases->leave();
  if (p.broker) (void)p.broker->stop();
  p.chat.reset();  // before the HTTP adapter and chat topics: it holds their listeners
  p.legacy_chat.reset();
  p.chat_topics.reset();
  p.action_table.reset();
  p.http.reset();
  p.devices.reset();
  p.system.reset();
  p.device_topics.reset();
  p.home_assistant.reset();    // after the device topics, which call it
  p.provision_topics.reset();  // after the registry: its queued answers call this object
  p.broker_sync.reset();
  p.group_sessions.reset();  // after leave(): the lease thread, which reaches it, has ended
  p.node_requests.reset();
  p.connection.reset();
  p.broker.reset();
  p.snapshots.reset();
  p.journal.reset();
  p.routing.reset();
  p.leases.reset();
  p.database.reset();
}

}  // namespace gh::server
