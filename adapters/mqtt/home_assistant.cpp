#include "adapters/mqtt/home_assistant.h"

#include <unordered_set>

#include "adapters/codec/json_reply.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "events/cause.h"

namespace gh::mqtt_adapter {

namespace {

constexpr size_t kPage = 1000;

// Only API tokens may command doors from Home Assistant (docs/security.md): the broker lets
// no other identity publish a set command, and gatehouse checks again what it was told.
constexpr std::string_view kTokenKind = "token";

}  // namespace

HomeAssistant::HomeAssistant(Publisher& publisher, HomeAssistantOptions options)
    : publisher_(publisher), options_(std::move(options)) {}

std::vector<std::string> HomeAssistant::subscriptions() const {
  const auto& n = options_.names;
  return {n.attributed_commands(), n.birth(), n.configs()};
}

Status HomeAssistant::install(MqttConnection& connection) {
  return connection.add_handler(subscriptions(), options_.qos,
                                [this](const std::string& topic, const std::string& payload,
                                       bool retained) { on_message(topic, payload, retained); });
}

void HomeAssistant::on_message(const std::string& topic, const std::string& payload,
                               bool retained) {
  const auto& n = options_.names;
  if (topic == n.birth()) {
    if (payload == "online") sync_discovery();
    return;
  }
  if (auto door = door_of_config(n, topic)) {
    // A configuration the broker kept from before (an external broker outlives gatehouse):
    // if its door is gone, it is retracted. Live copies of our own publications are not
    // retained; empty payloads are retractions already.
    if (!retained || payload.empty()) return;
    bool known;
    {
      std::lock_guard lock(mu_);
      known = published_.contains(*door);
      if (!known) published_[*door] = Published{};
    }
    if (!known) check_door(*door, false);
    return;
  }
  on_command(topic, payload, retained);
}

void HomeAssistant::on_command(const std::string& topic, const std::string& payload,
                               bool retained) {
  auto command = parse_attributed(options_.names, topic);
  if (!command) {
    counters_.commands_refused.fetch_add(1);
    return;  // no door to answer on
  }
  const std::string& id = command->device_id;
  if (command->kind != kTokenKind) {
    return refuse(id, permission_denied("only API tokens may command doors over MQTT, not a " +
                                        command->kind));
  }
  if (retained) {
    return refuse(id, invalid_argument("a set command must not be retained"));
  }
  device::LockAction action;
  if (payload == "LOCK") {
    action = events::LOCK;
  } else if (payload == "UNLOCK") {
    action = events::UNLOCK;
  } else {
    return refuse(id, invalid_argument("a set command is LOCK or UNLOCK, got '" +
                                       payload.substr(0, options_.max_payload_bytes) + "'"));
  }
  auto* service = service_.load();
  if (service == nullptr) return refuse(id, unavailable("gatehouse is starting"));
  auto cause = events::make_cause(events::Cause::API_TOKEN, command->name, "mqtt");
  service->request_lock(id, action, "", std::move(cause),
                        [this, id](Result<device::CommandRecord> record) {
                          if (record.is_ok()) {
                            counters_.commands_accepted.fetch_add(1);
                          } else {
                            refuse(id, record.status());
                          }
                        });
}

void HomeAssistant::refuse(const std::string& device_id, const Status& status) {
  counters_.commands_refused.fetch_add(1);
  auto reply = codec::error_reply(status);
  reply["topic"] = options_.names.command(device_id);
  publisher_.publish(options_.names.error(device_id), codec::to_wire(reply), options_.qos, false);
}

void HomeAssistant::sync_discovery() {
  auto* service = service_.load();
  if (service == nullptr) return;
  counters_.syncs.fetch_add(1);
  std::unordered_set<std::string> listed;
  std::string after;
  for (;;) {
    auto page = service->list(after, kPage);
    if (!page) return;  // the log is unreadable: keep what was published
    for (auto& id : *page) {
      check_door(id, true);
      listed.insert(std::move(id));
    }
    if (page->size() < kPage) break;
    after = page->back();
  }
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, published] : published_) {
      if (!listed.contains(id)) gone.push_back(id);
    }
  }
  // Read again rather than retracted at once: a door registered since the listing is kept.
  for (const auto& id : gone) check_door(id, true);
}

void HomeAssistant::check_door(const std::string& id, bool force) {
  auto* service = service_.load();
  if (service == nullptr) return;
  service->get(id, [this, id, force](Result<device::State> state) {
    if (state.is_ok() && state->registered && !state->removed) return publish_door(*state, force);
    if (!state.is_ok() && state.status().code() != Code::kNotFound) return;  // try next sync
    retract(id);
  });
}

void HomeAssistant::publish_door(const device::State& state, bool force) {
  if (!state.registered || state.removed) return;
  const auto& n = options_.names;
  const std::string& id = state.id;
  std::string lock_config = codec::to_wire(lock_discovery(n, state));
  std::string image_config = codec::to_wire(image_discovery(n, state));
  const size_t hash = std::hash<std::string>{}(lock_config + image_config) | 1;
  std::string picture_id = state.last_stranger ? state.last_stranger->picture_id : "";
  // Decided under the lock, published after it: publishing may wait for paho's own lock,
  // which its callback thread holds while it calls sync_discovery(), which takes ours. A
  // door's statuses come from its one actor, so its publications keep their order.
  std::vector<std::pair<std::string, std::string>> out;
  bool picture = false;
  {
    std::lock_guard lock(mu_);
    auto& published = published_[id];
    if (published.config_hash != hash || force) {
      out.emplace_back(n.lock_config(id), std::move(lock_config));
      out.emplace_back(n.image_config(id), std::move(image_config));
      published.config_hash = hash;
    }
    if (state.version >= published.version) {
      published.version = state.version;
      out.emplace_back(n.availability(id), std::string(ha_availability(state)));
      out.emplace_back(n.state(id), std::string(ha_lock_state(state)));
      picture = !picture_id.empty() && (picture_id != published.picture_id || force);
      if (picture) published.picture_id = picture_id;
    }
  }
  for (auto& [topic, payload] : out) {
    if (topic.ends_with("/config")) counters_.configs_published.fetch_add(1);
    publisher_.publish(topic, std::move(payload), options_.qos, true);
  }
  if (picture) publish_picture(id, picture_id);
}

void HomeAssistant::publish_picture(const std::string& id, const std::string& picture_id) {
  std::string url;
  if (options_.picture_url) {
    // The signer is the HTTP adapter's code: keep its failure out of actor threads.
    try {
      url = options_.picture_url(picture_id);
    } catch (...) {
      url.clear();
    }
  }
  if (!url.empty()) publisher_.publish(options_.names.picture(id), url, options_.qos, true);
}

void HomeAssistant::publish_status(const device::State& state) { publish_door(state, false); }

void HomeAssistant::stranger_alert(const std::string& device_id, const device::Stranger& stranger) {
  {
    std::lock_guard lock(mu_);
    auto it = published_.find(device_id);
    if (it == published_.end() || it->second.picture_id == stranger.picture_id) return;
    it->second.picture_id = stranger.picture_id;
  }
  publish_picture(device_id, stranger.picture_id);
}

void HomeAssistant::retract(const std::string& id) {
  const auto& n = options_.names;
  {
    std::lock_guard lock(mu_);
    published_.erase(id);
  }
  // An empty retained payload deletes what the broker keeps; Home Assistant removes the
  // entity on an empty configuration.
  for (const auto& topic :
       {n.lock_config(id), n.image_config(id), n.state(id), n.availability(id), n.picture(id)}) {
    publisher_.publish(topic, std::string(), options_.qos, true);
  }
  counters_.doors_retracted.fetch_add(1);
}

std::vector<std::pair<std::string, double>> HomeAssistant::metrics() const {
  const auto& c = counters_;
  return {{"gatehouse_ha_syncs_total", double(c.syncs.load())},
          {"gatehouse_ha_configs_published_total", double(c.configs_published.load())},
          {"gatehouse_ha_doors_retracted_total", double(c.doors_retracted.load())},
          {"gatehouse_ha_commands_accepted_total", double(c.commands_accepted.load())},
          {"gatehouse_ha_commands_refused_total", double(c.commands_refused.load())}};
}

}  // namespace gh::mqtt_adapter
