// Tells the broker's access plugin (broker_plugin/identity_table.h) who may connect: after
// every (re)connect of gatehouse a full copy of the identities the event log holds (doors'
// credentials, API tokens, provisioning keys, chat sessions), then every change once it is
// durable. The plugin disconnects a connection whose credential a change ends.
//
// Messages go to `$CONTROL/gatehouse/v1` (QoS 1, in order on gatehouse's one connection);
// only gatehouse's own identity may publish there. Hashes are sent, never secrets.
//
// Thread-safety: every method may be called from any thread; a full sync and the changes
// are serialised, so a change is never overtaken by an older copy.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/mqtt/publisher.h"

namespace gh::mqtt_adapter {

// A full copy of the identities; hashes are 32 raw bytes of SHA-256.
struct BrokerIdentities {
  struct Entry {
    std::string name;
    std::string sha256;
    int64_t expires_at_ms = INT64_MAX;  // sessions only
  };
  std::vector<Entry> doors, tokens, keys, sessions;
};

// What the broker's plugin reported last (its counters are monotonic since it started).
struct BrokerReport {
  uint64_t commits = 0;                                    // full copies the plugin confirmed
  uint64_t doors = 0, tokens = 0, keys = 0, sessions = 0;  // identities at the last commit
  uint64_t connects_refused = 0;
  uint64_t publishes_denied = 0;
  uint64_t subscribes_denied = 0;
  uint64_t disconnected = 0;  // connections ended because their credential ended
  // Publishes dropped past their connection's rate, by kind of client ("door", "user", ...).
  std::map<std::string, uint64_t> rate_limited;
};

class BrokerSync {
 public:
  static constexpr std::string_view kTopic = "$CONTROL/gatehouse/v1";
  static constexpr std::string_view kResponseTopic = "$CONTROL/gatehouse/v1/response";
  using Source = std::function<BrokerIdentities()>;

  // `source` is read at every full sync; `publisher` must outlive this object.
  BrokerSync(Publisher& publisher, Source source, size_t entries_per_message = 1000);

  // begin, the identities in messages of at most entries_per_message entries, commit.
  void full_sync();

  // kind: "door", "token", "key" or "session". set() adds or replaces one identity; remove()
  // ends one (for a session, the one with `sha256`, or all of the user's when empty).
  void set(std::string_view kind, const std::string& name, std::string_view sha256,
           int64_t expires_at_ms = INT64_MAX);
  void remove(std::string_view kind, const std::string& name, std::string_view sha256 = {});

  uint64_t full_syncs() const;

  // Takes one answer of the plugin (on kResponseTopic): a commit's identity counts or its
  // refusal counters. Anything else is ignored.
  void on_response(std::string_view payload);
  BrokerReport report() const;
  // Waits until the plugin has confirmed at least one full copy: before that it refuses every
  // connection but gatehouse's own. False when `timeout` passed first.
  bool wait_confirmed(std::chrono::milliseconds timeout) const;
  // For MetricsSources::extra.
  std::vector<std::pair<std::string, double>> metrics() const;

 private:
  void send(std::string payload);

  Publisher& publisher_;
  const Source source_;
  const size_t chunk_;
  mutable std::mutex mu_;
  uint64_t full_syncs_ = 0;
  mutable std::mutex report_mu_;
  mutable std::condition_variable confirmed_;
  BrokerReport report_;
};

}  // namespace gh::mqtt_adapter
