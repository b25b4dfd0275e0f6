// Configuration and injected dependencies of the HTTP adapter, filled in by server/main.
// Value types; thread-compatible.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/http/http_server.h"
#include "events/journal.h"

namespace gh::http {

// Inputs of GET /healthz. An empty function is "not checked": left out of the answer and
// never makes the server unhealthy. Called on HTTP worker threads; must be quick.
struct HealthProbes {
  std::function<bool()> broker_connected;
  std::function<bool()> journal_reachable;
};

// Inputs of GET /metrics; an empty function leaves its series out. Called on HTTP worker
// threads for each scrape; must be quick and thread-safe.
struct MetricsSources {
  std::function<JournalStats()> journal;
  std::function<size_t()> live_actors;
  // Extra counters/gauges from other adapters (MQTT): ("gatehouse_mqtt_received_total", 12)
  // or with labels ("gatehouse_mqtt_received_total{topic=\"hello\"}", 3), printed as given.
  std::function<std::vector<std::pair<std::string, double>>()> extra;
};

struct HttpOptions {
  // Listener: address, port (0: any, for tests), threads, body limit, keep-alive, read/write
  // timeouts, request head limits, connection limits (http_server.h).
  ServerOptions server;
  // Prefix of the absolute URLs made by signed_picture_url() (no trailing slash); empty:
  // http://ADDRESS:PORT with the port actually bound (so port 0 gives working links).
  std::string public_base_url;
  // Lifetime of a signed picture URL.
  std::chrono::seconds picture_url_ttl{3600};
  // Upper bound on any wait for the device service (the command timeout).
  std::chrono::milliseconds call_timeout{10000};
  // Largest ?wait=SECONDS accepted on lock/unlock.
  std::chrono::seconds max_wait{60};
  // Request JSON bodies: nesting limit (the byte limit is server.max_body_bytes).
  size_t max_json_depth = 16;
  // GET /devices page size: default and maximum.
  size_t page_default = 50;
  size_t page_max = 500;
  // `legacy` on: the seed's Flask routes also answer GET /lock, /unlock and /test, as the seed
  // did (still with a bearer token, which no link or prefetch carries).
  bool legacy_get_routes = false;
  // GET /metrics without a token from loopback addresses only; with a token from anywhere.
  bool metrics_open_on_loopback = true;
  // Cluster mode: the HTTP base URL of the node serving `stream` ("device/door1") when it is
  // another node; nullopt to serve here. Requests about one entity (forwarding.h) go there.
  // Empty: every request is served here. Called on worker threads; must not block.
  std::function<std::optional<std::string>(const std::string& stream)> owner_url;
  // This node's id, named in forwarded requests (X-Gatehouse-Forwarded-By).
  std::string node;
  // Unix milliseconds now; empty: the system clock. Injected for tests of URL expiry.
  std::function<int64_t()> clock_ms;

  // ---- chat (/api/..., docs/protocol.md "Chat API") ----
  // GET /api/rooms page size: default and maximum.
  size_t rooms_page_default = 100;
  size_t rooms_page_max = 500;
  // GET /api/rooms/{room}/messages page size: default (the maximum is the service's, 100).
  size_t history_page_default = 50;
  // Server-Sent Events (GET /api/rooms/{room}/events). Each open stream holds one worker
  // thread for as long as it lasts, so the adapter adds this many threads to server.threads:
  // streams can never starve ordinary requests. Beyond it a new stream is 503. 0: no streams.
  size_t max_event_streams = 64;
  // Streams one user (a chat session's user, an API token) may hold at once, per kind
  // (rooms, devices); beyond, a new stream is 429. 0: no limit per user.
  size_t max_streams_per_user = 4;
  // Bytes of events queued for one stream that its client has not read yet; a client that
  // falls further behind is dropped (its stream ends) rather than buffered without bound.
  size_t event_stream_buffer_bytes = 256 * 1024;
  // A comment line on an idle stream this often, so proxies and clients see it alive and a
  // vanished client is noticed; the session is checked again at the same time.
  std::chrono::milliseconds event_heartbeat{15000};
};

}  // namespace gh::http
