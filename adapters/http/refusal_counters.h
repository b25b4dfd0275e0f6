// Counts the requests and connections the HTTP adapter refuses, by reason, for /metrics
// (gatehouse_http_refused_total{reason="..."}), so operators see floods, slow clients and
// misbehaving callers. The connection gate, the HTTP server and the routes count here.
// Thread-safety: every method may be called from any thread (relaxed atomics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/codec/labelled_counter.h"

namespace gh::http {

enum class Refusal {
  kHeaderTooLarge,        // 431: the request head exceeds max_header_bytes
  kTooManyHeaders,        // 431: more than max_headers header lines
  kHeaderTimeout,         // 408: the head did not arrive within header_timeout
  kSourceConnections,     // 429: the source address holds max_connections_per_source
  kTotalConnections,      // 503: max_connections are open
  kBodyFraming,           // 411/415: chunked or compressed request body
  kUnsupportedMediaType,  // 415: a JSON route's body is not application/json
  kStreamsPerUser,        // 429: the caller holds max_streams_per_user event streams
};

inline constexpr size_t kRefusalCount = 8;

// The label value of `reason` ("header_too_large").
std::string_view refusal_name(Refusal reason);

class RefusalCounters {
 public:
  void count(Refusal reason) { counts_.count(reason); }
  uint64_t get(Refusal reason) const { return counts_.get(reason); }
  // Every reason with its count (zeros included), in declaration order.
  std::vector<std::pair<std::string_view, uint64_t>> snapshot() const;

 private:
  codec::LabelledCounter<Refusal, kRefusalCount> counts_;
};

}  // namespace gh::http
