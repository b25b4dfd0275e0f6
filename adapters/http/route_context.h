// Shared plumbing of the route files (routes_*.cpp): what a handler can reach, how it is
// registered (counted per route and outcome; a returned error becomes the JSON error
// answer), and the bearer-token check. Internal to adapters/http.
// Thread-safety: a RouteContext is read-only after registration except the counters,
// which are thread-safe; handlers run concurrently on the worker threads.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "actors/device/device_service.h"
#include "adapters/http/auth.h"
#include "adapters/http/http_options.h"
#include "adapters/http/request_counters.h"
#include "adapters/http/url_signer.h"
#include "events/event.pb.h"
#include "events/status.h"

namespace gh::http {

struct RouteContext {
  device::DeviceService& devices;
  const ApiTokens& tokens;
  const UrlSigner& signer;
  const HttpOptions& options;
  const HealthProbes& health;
  const MetricsSources& metrics;
  RequestCounters& counters;

  // Unix milliseconds from the injected clock, or the system clock.
  int64_t now_ms() const;
};

// A route handler: writes a success answer into `res` and returns ok, or returns the error
// (which add_route() turns into the JSON error answer with its HTTP status).
using RouteFn = std::function<Status(const httplib::Request&, httplib::Response&)>;

enum class Method { kGet, kPost };

// Registers `fn` for `method` and the path regex `pattern`, counted in the metrics as
// `label` ("POST /devices/{id}/lock").
void add_route(httplib::Server& server, RouteContext& context, Method method,
               const std::string& pattern, std::string label, RouteFn fn);

// The name of the API token in the request's `Authorization: Bearer` header;
// kUnauthenticated when it is missing or matches no token.
Result<std::string> require_token(const RouteContext& context, const httplib::Request& req);

// {kind API_TOKEN, name = token, channel "http"}: who caused the events of a request.
events::Cause token_cause(const std::string& token_name);

}  // namespace gh::http
