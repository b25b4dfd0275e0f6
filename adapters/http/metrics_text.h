// Renders gatehouse's metrics in the Prometheus text exposition format (version 0.0.4),
// from plain values gathered by the /metrics route. Pure; thread-safe.
//
// Series (all prefixed gatehouse_):
//   http_requests_total{route,outcome}        counter
//   http_refused_total{reason}                counter (refusal_counters.h: every reason)
//   http_open_connections                     gauge
//   journal_events_appended_total             counter
//   journal_batches_synced_total              counter
//   journal_appends_total / _conflicts_total / _duplicates_total / _failures_total
//   journal_batch_size_events                 histogram (le = kBatchSizeBounds)
//   journal_append_latency_seconds            histogram (le = kAppendLatencyBoundsMs / 1000)
//   journal_fsync_duration_seconds            histogram (le = kSyncLatencyBoundsMs / 1000)
//   live_actors                               gauge
//   broker_connected                          gauge (0/1)
//   plus every extra (name, value) contributed by other adapters, grouped by family with
//   HELP and TYPE (`_total`: counter, otherwise gauge).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http/request_counters.h"
#include "events/journal.h"

namespace gh::http {

struct MetricsValues {
  std::map<RequestCounters::Key, uint64_t> requests;
  std::vector<std::pair<std::string_view, uint64_t>> refusals;  // reason, count
  std::optional<size_t> open_connections;
  std::optional<JournalStats> journal;
  std::optional<size_t> live_actors;
  std::optional<bool> broker_connected;
  // "name" or "name{label=\"v\"}"; names not matching [a-zA-Z_:][a-zA-Z0-9_:]* are skipped.
  std::vector<std::pair<std::string, double>> extra;
};

std::string render_metrics(const MetricsValues& values);

}  // namespace gh::http
