#include "adapters/mqtt/broker_plugin/access_rules.h"

#include <algorithm>
#include <array>

#include "adapters/mqtt/topic_filter.h"
#include "events/stream_name.h"

namespace gh::broker {
namespace {

constexpr std::array<std::string_view, 4> kAnonymousChatOps = {
    "register", "login", "security_question", "reset_password"};

bool is_wildcard(std::string_view level) { return level == "+" || level == "#"; }

bool has_wildcard(std::string_view filter) {
  return filter.find_first_of("+#") != std::string_view::npos;
}

// The filters `who` may read (and subscribe within).
std::vector<std::string> read_patterns(const RuleOptions& o, const Identity& who,
                                       std::string_view client_id) {
  const std::string& p = o.prefix;
  std::vector<std::string> out = {p + "/server/status"};
  auto inbox = [&] {
    if (is_valid_id(client_id)) out.push_back(p + "/inbox/" + std::string(client_id) + "/#");
  };
  switch (who.kind) {
    case Kind::kServer:
      break;
    case Kind::kDoor:
      for (const char* word : {"command", "status", "error"})
        out.push_back(p + "/devices/" + who.name + "/" + word);
      break;
    case Kind::kProvisioner:
      out.push_back(p + "/provision/" + who.key + "/" + who.name + "/reply");
      break;
    case Kind::kToken:
      out.push_back(p + "/devices/+/status");
      out.push_back(p + "/alerts/#");
      if (!o.discovery_prefix.empty()) {
        out.push_back(p + "/devices/+/ha/#");
        out.push_back(o.discovery_prefix + "/#");
      }
      [[fallthrough]];
    case Kind::kUser:
      out.push_back(p + "/rooms/+/events");
      inbox();
      break;
    case Kind::kAnonymous:
      inbox();
      break;
  }
  return out;
}

// The topics (as filters) `who` may publish to.
std::vector<std::string> write_patterns(const RuleOptions& o, const Identity& who) {
  const std::string& p = o.prefix;
  std::vector<std::string> out;
  switch (who.kind) {
    case Kind::kServer:
      break;
    case Kind::kDoor:
      for (const char* word : {"hello", "availability", "state", "stranger"})
        out.push_back(p + "/devices/" + who.name + "/" + word);
      break;
    case Kind::kProvisioner:
      out.push_back(p + "/provision/" + who.key + "/" + who.name);
      break;
    case Kind::kToken:
      out.push_back(p + "/actions/install");
      if (!o.discovery_prefix.empty()) {
        out.push_back(p + "/devices/+/set");
        out.push_back(o.discovery_prefix + "/status");
      }
      [[fallthrough]];
    case Kind::kUser:
      out.push_back(p + "/chat/+");
      break;
    case Kind::kAnonymous:
      for (auto op : kAnonymousChatOps) out.push_back(p + "/chat/" + std::string(op));
      break;
  }
  return out;
}

bool is_legacy_request(const RuleOptions& o, std::string_view topic) {
  return std::find(o.legacy_topics.begin(), o.legacy_topics.end(), topic) != o.legacy_topics.end();
}

// The seed's reply topics: anything outside our namespace and `$`, but the requests.
bool legacy_readable(const RuleOptions& o, std::string_view topic) {
  if (topic.empty() || topic.front() == '$') return false;
  if (topic == o.prefix || topic.starts_with(o.prefix + "/")) return false;
  return !is_legacy_request(o, topic);
}

bool matches_any(const std::vector<std::string>& filters, std::string_view topic) {
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return mqtt_adapter::topic_matches(f, topic); });
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kServer:
      return "server";
    case Kind::kDoor:
      return "door";
    case Kind::kProvisioner:
      return "provisioner";
    case Kind::kUser:
      return "user";
    case Kind::kToken:
      return "token";
    case Kind::kAnonymous:
      return "anonymous";
  }
  return "unknown";
}

std::optional<std::string> attributed_topic(const RuleOptions& options, const Identity& who,
                                            std::string_view topic) {
  if (options.discovery_prefix.empty() || who.kind == Kind::kServer) return std::nullopt;
  const std::string head = options.prefix + "/devices/";
  if (!topic.starts_with(head)) return std::nullopt;
  auto levels = mqtt_adapter::topic_levels(topic.substr(head.size()));
  if (levels.size() != 2 || levels[1] != "set" || !is_valid_id(levels[0])) return std::nullopt;
  // Anonymous connections have no name: "-" keeps the level count, and gatehouse refuses it.
  const std::string name = who.name.empty() ? "-" : who.name;
  return options.prefix + "/by/" + std::string(kind_name(who.kind)) + "/" + name + "/devices/" +
         std::string(levels[0]) + "/set";
}

bool is_attribution_topic(const RuleOptions& options, std::string_view topic) {
  const std::string head = options.prefix + "/by";
  return topic == head || topic.starts_with(head + "/");
}

bool filter_covers(std::string_view outer, std::string_view inner) {
  auto out = mqtt_adapter::topic_levels(outer);
  auto in = mqtt_adapter::topic_levels(inner);
  for (size_t i = 0; i < in.size(); ++i) {
    if (i >= out.size()) return false;
    // MQTT: a filter starting with a wildcard never matches a `$`-topic.
    if (i == 0 && is_wildcard(out[0]) && in[0].starts_with('$')) return false;
    if (out[i] == "#") return true;
    if (in[i] == "#") return false;
    if (out[i] == "+") continue;
    if (in[i] == "+" || in[i] != out[i]) return false;
  }
  return out.size() == in.size() || (out.size() == in.size() + 1 && out.back() == "#");
}

Permissions permissions_of(const RuleOptions& options, const Identity& who,
                           std::string_view client_id) {
  Permissions p;
  p.everything = who.kind == Kind::kServer;
  if (p.everything) return p;
  p.read = read_patterns(options, who, client_id);
  p.write = write_patterns(options, who);
  return p;
}

bool allowed(const RuleOptions& options, const Permissions& permissions, std::string_view topic,
             Access access, bool retain) {
  if (permissions.everything) return true;
  if (topic.empty()) return false;
  switch (access) {
    case Access::kWrite: {
      if (retain || has_wildcard(topic)) return false;
      if (options.legacy && is_legacy_request(options, topic)) return true;
      return matches_any(permissions.write, topic);
    }
    case Access::kRead: {
      if (matches_any(permissions.read, topic)) return true;
      return options.legacy && legacy_readable(options, topic);
    }
    case Access::kSubscribe: {
      const auto& patterns = permissions.read;
      if (std::any_of(patterns.begin(), patterns.end(),
                      [&](const std::string& p) { return filter_covers(p, topic); }))
        return true;
      return options.legacy && !has_wildcard(topic) && legacy_readable(options, topic);
    }
  }
  return false;
}

bool allowed(const RuleOptions& options, const Identity& who, std::string_view client_id,
             std::string_view topic, Access access, bool retain) {
  return allowed(options, permissions_of(options, who, client_id), topic, access, retain);
}

}  // namespace gh::broker
