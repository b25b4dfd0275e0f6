#include "adapters/mqtt/broker_sync.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

namespace gh::mqtt_adapter {
namespace {

using nlohmann::json;

std::string hex(std::string_view raw) {
  std::string out(raw.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  out.pop_back();
  return out;
}

}  // namespace

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
        json entry = {e.name, hex(e.sha256)};
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
  json message = {{"op", "set"}, {"kind", kind}, {"name", name}, {"sha256", hex(sha256)}};
  if (kind == "session") message["expires_at_ms"] = expires_at_ms;
  std::lock_guard lock(mu_);
  send(message.dump());
}

void BrokerSync::remove(std::string_view kind, const std::string& name, std::string_view sha256) {
  json message = {{"op", "remove"}, {"kind", kind}, {"name", name}};
  if (!sha256.empty()) message["sha256"] = hex(sha256);
  std::lock_guard lock(mu_);
  send(message.dump());
}

uint64_t BrokerSync::full_syncs() const {
  std::lock_guard lock(mu_);
  return full_syncs_;
}

}  // namespace gh::mqtt_adapter
