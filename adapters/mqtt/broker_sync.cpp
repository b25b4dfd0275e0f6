#include "adapters/mqtt/broker_sync.h"

#include <nlohmann/json.hpp>

#include "actors/system/secret.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

BrokerSync::BrokerSync(Publisher& publisher, Source source, size_t entries_per_message)
    : publisher_(publisher),
      source_(std::move(source)),
      chunk_(std::max<size_t>(1, entries_per_message)) {}

void BrokerSync::send(std::string payload) {
  publisher_.publish(std::string(kTopic), std::move(payload), 1, false);
}

void BrokerSync::full_sync() {
  std::lock_guard lock(mu_);
  const BrokerIdentities all = source_();
  send(json{{"op", "begin"}}.dump());
  auto stage = [&](std::string_view kind, const std::vector<BrokerIdentities::Entry>& entries) {
    for (size_t i = 0; i < entries.size(); i += chunk_) {
      json list = json::array();
      for (size_t j = i; j < std::min(entries.size(), i + chunk_); ++j) {
        const auto& e = entries[j];
        json entry = {e.name, secrets::to_hex(e.sha256)};
        if (kind == "session") entry.push_back(e.expires_at_ms);
        list.push_back(std::move(entry));
      }
      send(json{{"op", "stage"}, {"kind", kind}, {"entries", std::move(list)}}.dump());
    }
  };
  stage("door", all.doors);
  stage("token", all.tokens);
  stage("key", all.keys);
  stage("session", all.sessions);
  send(json{{"op", "commit"}}.dump());
  ++full_syncs_;
}

void BrokerSync::set(std::string_view kind, const std::string& name, std::string_view sha256,
                     int64_t expires_at_ms) {
  json message = {
      {"op", "set"}, {"kind", kind}, {"name", name}, {"sha256", secrets::to_hex(sha256)}};
  if (kind == "session") message["expires_at_ms"] = expires_at_ms;
  std::lock_guard lock(mu_);
  send(message.dump());
}

void BrokerSync::remove(std::string_view kind, const std::string& name, std::string_view sha256) {
  json message = {{"op", "remove"}, {"kind", kind}, {"name", name}};
  if (!sha256.empty()) message["sha256"] = secrets::to_hex(sha256);
  std::lock_guard lock(mu_);
  send(message.dump());
}

void BrokerSync::on_response(std::string_view payload) {
  json answer = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object() || !answer.contains("op") || !answer["op"].is_string()) return;
  auto number = [&](const char* key) {
    auto it = answer.find(key);
    return it != answer.end() && it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t{0};
  };
  std::lock_guard lock(report_mu_);
  const auto op = answer["op"].get<std::string>();
  if (op == "commit") {
    ++report_.commits;
    report_.doors = number("doors");
    report_.tokens = number("tokens");
    report_.keys = number("keys");
    report_.sessions = number("sessions");
    confirmed_.notify_all();
  } else if (op == "stats") {
    report_.connects_refused = number("connects_refused");
    report_.publishes_denied = number("publishes_denied");
    report_.subscribes_denied = number("subscribes_denied");
    report_.disconnected = number("disconnected");
    if (auto limited = answer.find("rate_limited");
        limited != answer.end() && limited->is_object()) {
      for (const auto& [kind, count] : limited->items()) {
        if (count.is_number_unsigned()) report_.rate_limited[kind] = count.get<uint64_t>();
      }
    }
  }
}

BrokerReport BrokerSync::report() const {
  std::lock_guard lock(report_mu_);
  return report_;
}

bool BrokerSync::wait_confirmed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(report_mu_);
  return confirmed_.wait_for(lock, timeout, [this] { return report_.commits > 0; });
}

std::vector<std::pair<std::string, double>> BrokerSync::metrics() const {
  const auto r = report();
  std::vector<std::pair<std::string, double>> out = {
      {"gatehouse_broker_syncs_total", double(full_syncs())},
      {"gatehouse_broker_syncs_confirmed_total", double(r.commits)},
      {"gatehouse_broker_identities{kind=\"door\"}", double(r.doors)},
      {"gatehouse_broker_identities{kind=\"token\"}", double(r.tokens)},
      {"gatehouse_broker_identities{kind=\"key\"}", double(r.keys)},
      {"gatehouse_broker_identities{kind=\"session\"}", double(r.sessions)},
      {"gatehouse_broker_connects_refused_total", double(r.connects_refused)},
      {"gatehouse_broker_denied_total{access=\"publish\"}", double(r.publishes_denied)},
      {"gatehouse_broker_denied_total{access=\"subscribe\"}", double(r.subscribes_denied)},
      {"gatehouse_broker_disconnected_total", double(r.disconnected)}};
  // Every kind the plugin limits, 0 until it reports: a dashboard sees the series from the start.
  for (const char* kind : {"door", "provisioner", "user", "token", "anonymous"}) {
    auto it = r.rate_limited.find(kind);
    out.push_back({std::string("gatehouse_broker_rate_limited_total{kind=\"") + kind + "\"}",
                   double(it == r.rate_limited.end() ? 0 : it->second)});
  }
  return out;
}

uint64_t BrokerSync::full_syncs() const {
  std::lock_guard lock(mu_);
  return full_syncs_;
}

}  // namespace gh::mqtt_adapter
