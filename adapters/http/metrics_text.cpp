#include "adapters/http/metrics_text.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string_view>

namespace gh::http {
namespace {

// Prometheus floats: shortest round-trip form, and its spellings of the specials.
std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  // Prefer the short form when it round-trips (most of our values are integers).
  char shorter[32];
  std::snprintf(shorter, sizeof shorter, "%g", value);
  return std::strtod(shorter, nullptr) == value ? shorter : buffer;
}

// Label values escape backslash, double quote and newline.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, double value) {
  out.append(name).append(" ").append(number(value)).append("\n");
}

// `scale` converts the bounds and the sum to the metric's unit (0.001: ms to seconds).
template <size_t kBounds, size_t kBuckets>
void histogram(std::string& out, std::string_view name, std::string_view help,
               const std::array<double, kBounds>& bounds,
               const std::array<uint64_t, kBuckets>& buckets, double sum, double scale = 1) {
  static_assert(kBuckets == kBounds + 1, "one bucket above the last bound");
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    cumulative += buckets[i];
    std::string le = i < kBounds ? number(bounds[i] * scale) : "+Inf";
    out.append(name).append("_bucket{le=\"").append(le).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  sample(out, std::string(name) + "_sum", sum * scale);
  out.append(name).append("_count ").append(std::to_string(cumulative)).append("\n");
}

// HELP of the families other adapters contribute as extras; their TYPE follows the name
// (`_total`: counter, otherwise gauge).
std::string_view extra_help(std::string_view family) {
  static const std::map<std::string_view, std::string_view> kHelp = {
      {"gatehouse_broker_connects_refused_total", "Broker connections the access plugin refused."},
      {"gatehouse_broker_denied_total", "Publishes and subscribes the access plugin denied."},
      {"gatehouse_broker_disconnected_total",
       "Clients the broker disconnected after an identity change."},
      {"gatehouse_broker_identities", "Identities the broker's access plugin holds."},
      {"gatehouse_broker_rate_limited_total",
       "Client publishes the broker dropped past mqtt.publish-rate, by kind of client."},
      {"gatehouse_broker_syncs_total", "Identity changes sent to the broker's access plugin."},
      {"gatehouse_broker_syncs_confirmed_total", "Identity changes the access plugin confirmed."},
      {"gatehouse_chat_attempts_throttled_total",
       "Login, reset and password-check attempts refused by the guessing limits."},
      {"gatehouse_chat_hash_queue_depth", "Password hashes waiting for a hashing thread."},
      {"gatehouse_chat_hashes_refused_total",
       "Hashing calls answered retry because the queue was full."},
      {"gatehouse_chat_live_rooms", "Room actors in memory."},
      {"gatehouse_chat_live_users", "User actors in memory."},
      {"gatehouse_chat_logins_failed_total", "Failed logins."},
      {"gatehouse_chat_logins_ok_total", "Successful logins."},
      {"gatehouse_chat_password_hashes_total", "Argon2id computations (hashes and verifications)."},
      {"gatehouse_chat_posts_total", "Chat messages posted."},
      {"gatehouse_device_commands_total", "Commands decided by device actors."},
      {"gatehouse_device_rejections_total", "Device commands rejected."},
      {"gatehouse_device_command_outcomes_total",
       "Finished LOCK/UNLOCK commands, by result (confirmed, failed, timed_out)."},
      {"gatehouse_doors",
       "Registered doors by presence (online, offline, unknown: not heard from since gatehouse "
       "started)."},
      {"gatehouse_doors_drifting",
       "Doors whose reported state has differed from the desired one for longer than the "
       "command timeout (drifts written since gatehouse started and not ended)."},
      {"gatehouse_device_drift_alerts_total", "Drift alerts raised (DoorDrifted written)."},
      {"gatehouse_http_event_streams", "Open Server-Sent Event streams."},
  };
  auto it = kHelp.find(family);
  if (it != kHelp.end()) return it->second;
  if (family.starts_with("gatehouse_mqtt_"))
    return "MQTT adapter counter or gauge (docs/protocol.md).";
  return "gatehouse metric (docs/protocol.md).";
}

// Extras grouped by family (the name before '{'), each family once with HELP and TYPE, in
// order of first appearance: the exposition format wants a family's samples together.
void render_extras(std::string& out, const std::vector<std::pair<std::string, double>>& extra);

bool valid_metric_name(std::string_view series) {
  std::string_view name = series.substr(0, series.find('{'));
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  if (series.find('\n') != std::string_view::npos) return false;
  return name.size() == series.size() || series.back() == '}';
}

void render_extras(std::string& out, const std::vector<std::pair<std::string, double>>& extra) {
  std::vector<std::string_view> families;
  std::map<std::string_view, std::vector<size_t>> members;
  for (size_t i = 0; i < extra.size(); ++i) {
    if (!valid_metric_name(extra[i].first)) continue;
    std::string_view series = extra[i].first;
    auto family = series.substr(0, series.find('{'));
    auto [it, added] = members.try_emplace(family);
    if (added) families.push_back(family);
    it->second.push_back(i);
  }
  for (auto family : families) {
    header(out, family, family.ends_with("_total") ? "counter" : "gauge", extra_help(family));
    for (size_t i : members[family]) sample(out, extra[i].first, extra[i].second);
  }
}

}  // namespace

std::string render_metrics(const MetricsValues& values) {
  std::string out;
  header(out, "gatehouse_http_requests_total", "counter",
         "HTTP requests answered, by route pattern and outcome (ok or error code).");
  for (const auto& [key, count] : values.requests) {
    out.append("gatehouse_http_requests_total{route=\"").append(label_value(key.first));
    out.append("\",outcome=\"").append(label_value(key.second)).append("\"} ");
    out.append(std::to_string(count)).append("\n");
  }

  if (!values.refusals.empty()) {
    header(out, "gatehouse_http_refused_total", "counter",
           "Requests and connections the HTTP server refused, by reason.");
    for (const auto& [reason, count] : values.refusals) {
      out.append("gatehouse_http_refused_total{reason=\"").append(label_value(reason));
      out.append("\"} ").append(std::to_string(count)).append("\n");
    }
  }
  if (values.open_connections) {
    header(out, "gatehouse_http_open_connections", "gauge",
           "HTTP connections open (waiting for a request or being served).");
    sample(out, "gatehouse_http_open_connections", static_cast<double>(*values.open_connections));
  }

  if (values.journal) {
    const JournalStats& j = *values.journal;
    auto counter = [&out](std::string_view name, std::string_view help, uint64_t value) {
      header(out, name, "counter", help);
      out.append(name).append(" ").append(std::to_string(value)).append("\n");
    };
    counter("gatehouse_journal_events_appended_total", "Events durably appended.",
            j.events_appended);
    counter("gatehouse_journal_batches_synced_total", "Write batches synced to disk.",
            j.batches_synced);
    counter("gatehouse_journal_appends_total", "Append requests answered.", j.appends);
    counter("gatehouse_journal_conflicts_total", "Appends refused for a stale version.",
            j.conflicts);
    counter("gatehouse_journal_duplicates_total", "Appends answered from a command id.",
            j.duplicates);
    counter("gatehouse_journal_failures_total", "Storage write failures.", j.failures);
    // The journal keeps no separate sum of batch sizes; every appended event was in exactly
    // one synced batch, so the sum is events_appended.
    histogram(out, "gatehouse_journal_batch_size_events", "Events per synced write batch.",
              kBatchSizeBounds, j.batch_size_buckets, static_cast<double>(j.events_appended));
    histogram(out, "gatehouse_journal_append_latency_seconds",
              "Time from append() to durable, in seconds.", kAppendLatencyBoundsMs,
              j.append_latency_buckets, j.append_latency_sum_ms, 0.001);
    histogram(out, "gatehouse_journal_fsync_duration_seconds",
              "Time of one synced write batch (the log's fsync), in seconds.", kSyncLatencyBoundsMs,
              j.sync_latency_buckets, j.sync_latency_sum_ms, 0.001);
  }
  if (values.live_actors) {
    header(out, "gatehouse_live_actors", "gauge", "Entity actors currently in memory.");
    sample(out, "gatehouse_live_actors", static_cast<double>(*values.live_actors));
  }
  if (values.broker_connected) {
    header(out, "gatehouse_broker_connected", "gauge", "1 when connected to the MQTT broker.");
    sample(out, "gatehouse_broker_connected", *values.broker_connected ? 1 : 0);
  }
  render_extras(out, values.extra);
  return out;
}

}  // namespace gh::http
