#include "adapters/mqtt/group_sessions.h"

#include <thread>
#include <utility>
#include <vector>

#include "events/log.h"

namespace gh::mqtt_adapter {

GroupSessions::GroupSessions(GroupSessionsOptions options) : options_(std::move(options)) {}

GroupSessions::~GroupSessions() { close_all(); }

std::string GroupSessions::group_root(uint32_t group) {
  return "shard-group/" + std::to_string(group) + "/";
}

std::unique_ptr<MqttConnection> GroupSessions::open(uint32_t group) {
  MqttConnectionOptions connection;
  connection.url = options_.url;
  // A session lost with its NATS node is opened again through the next listener that answers.
  connection.other_urls = options_.other_urls;
  connection.client_id = options_.client_id_prefix + std::to_string(group);
  connection.mqtt_version = 4;       // NATS speaks MQTT 3.1.1 only
  connection.clean_session = false;  // the session outlives this node's hold on the group
  // Lost (a broker restart, another client taking the session over, this node paused past
  // the keep-alive) it is not made again by paho: hold(), after the next lease round, opens
  // it again only if this node still holds the group.
  connection.reconnect_after_loss = false;
  connection.keep_alive = options_.keep_alive;
  connection.username = options_.username;
  connection.password = options_.password;
  auto created = MqttConnection::create(std::move(connection));
  if (!created) {
    log::error("mqtt", "cannot open a session group",
               {{"group", std::to_string(group)}, {"error", created.status().to_string()}});
    return nullptr;
  }
  const std::string root = group_root(group);
  auto status = (*created)->add_handler(
      {root + options_.prefix + "/devices/+/+"}, 1,
      [root, handler = options_.handler](const std::string& topic, const std::string& payload,
                                         bool retained) {
        if (topic.size() > root.size() && topic.compare(0, root.size(), root) == 0)
          handler(topic.substr(root.size()), payload, retained);
      });
  if (status.is_ok() && group == options_.requests_group && !options_.request_filters.empty())
    status = (*created)->add_handler(options_.request_filters, 1, options_.request_handler);
  if (status.is_ok()) status = (*created)->start();
  if (!status.is_ok()) {
    log::error("mqtt", "cannot open a session group",
               {{"group", std::to_string(group)}, {"error", status.to_string()}});
    return nullptr;
  }
  log::info("mqtt", "session group opened", {{"group", std::to_string(group)}});
  return std::move(*created);
}

void GroupSessions::hold(const std::set<uint32_t>& groups) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  for (auto it = open_.begin(); it != open_.end();) {
    if (groups.count(it->first) && !it->second->ended()) {
      ++it;
      continue;
    }
    it->second->stop();
    received_closed_ += it->second->counters().received.load();
    it = open_.erase(it);
  }
  for (const auto group : groups) {
    if (group >= options_.groups || open_.count(group)) continue;
    if (auto session = open(group)) open_.emplace(group, std::move(session));
  }
}

void GroupSessions::close(uint32_t group) {
  std::lock_guard lock(mu_);
  auto it = open_.find(group);
  if (it == open_.end()) return;
  it->second->stop();
  received_closed_ += it->second->counters().received.load();
  open_.erase(it);
}

void GroupSessions::close_all() {
  std::lock_guard lock(mu_);
  closed_ = true;
  // Side by side: a stop waits up to the connect timeout when the broker is away, and a
  // node may hold every group.
  std::vector<std::thread> stopping;
  for (auto& [group, session] : open_) stopping.emplace_back([s = session.get()] { s->stop(); });
  for (auto& thread : stopping) thread.join();
  for (auto& [group, session] : open_) received_closed_ += session->counters().received.load();
  open_.clear();
}

std::set<uint32_t> GroupSessions::open_groups() const {
  std::lock_guard lock(mu_);
  std::set<uint32_t> out;
  // Connected and subscribed: a request or report published from now on is in the session.
  for (const auto& [group, session] : open_)
    if (session->connected()) out.insert(group);
  return out;
}

uint64_t GroupSessions::received() const {
  std::lock_guard lock(mu_);
  uint64_t total = received_closed_;
  for (const auto& [group, session] : open_) total += session->counters().received.load();
  return total;
}

}  // namespace gh::mqtt_adapter
