// Shared plumbing of the route files (routes_*.cpp): what a handler can reach, how it is
// registered (counted per route and outcome; a returned error becomes the JSON error
// answer), and the checks of who is calling: API tokens, chat sessions, operators.
// Internal to adapters/http.
// Thread-safety: a RouteContext is read-only after registration except the counters,
// which are thread-safe; handlers run concurrently on the worker threads.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "actors/actions/action_service.h"
#include "actors/chat/chat_service.h"
#include "actors/device/device_service.h"
#include "actors/system/credential_registry.h"
#include "adapters/http/auth.h"
#include "adapters/http/http_options.h"
#include "adapters/http/refusal_counters.h"
#include "adapters/http/request_counters.h"
#include "adapters/http/url_signer.h"
#include "events/event.pb.h"
#include "events/status.h"

namespace gh::http {

class EventStreamHub;

struct RouteContext {
  device::DeviceService& devices;
  const ApiTokens& tokens;
  const UrlSigner& signer;
  const HttpOptions& options;
  const HealthProbes& health;
  const MetricsSources& metrics;
  RequestCounters& counters;
  // The chat service behind /api/... (HttpAdapter::set_chat(), before start()); null: the
  // chat routes answer 503 and device routes accept API tokens only.
  chat::ChatService* chat = nullptr;
  // The Server-Sent Events subscribers (GET /api/rooms/{room}/events).
  EventStreamHub* streams = nullptr;
  // The scripted actions behind /api/actions (HttpAdapter::set_actions(), before start());
  // null: those routes answer 503.
  actions::ActionAdmin* actions = nullptr;
  // The doors' broker credentials and the provisioning keys (HttpAdapter::set_credentials(),
  // before start()); null: the credential routes answer 503 and POST /devices issues none.
  credentials::CredentialRegistry* credentials = nullptr;
  // The MQTT password of a door whose credential was just issued, when it is not the secret
  // (HttpAdapter::set_broker_password(): on NATS, the door's NATS user JWT); null: the secret.
  std::function<std::string(const std::string& device_id)> broker_password = nullptr;
  // The MQTT password a login answer carries as "mqtt_password", given the user and the
  // session's end in Unix ms (HttpAdapter::set_chat_broker_password(): on NATS, the user's
  // NATS JWT); null or empty: none.
  std::function<std::string(const std::string& user, int64_t expires_at_ms)> chat_broker_password =
      nullptr;
  // Refusals by reason for /metrics (the server's); null: not counted.
  RefusalCounters* refusals = nullptr;
  // The listener, for its open connections in /metrics; null: left out.
  const HttpServer* server = nullptr;

  // Unix milliseconds from the injected clock, or the system clock.
  int64_t now_ms() const;
};

// A route handler: writes a success answer into `res` and returns ok, or returns the error
// (which add_route() turns into the JSON error answer with its HTTP status).
using RouteFn = std::function<Status(const httplib::Request&, httplib::Response&)>;

enum class Method { kGet, kPost, kPut, kDelete };

// What a route accepts as a request body (docs/security.md "HTTP", CSRF).
// - kJson: a non-empty body must come with `Content-Type: application/json` (parameters
//   such as charset allowed); anything else is 415 before the handler runs. An HTML form or
//   a cross-site fetch without a preflight can only send text/plain, form or multipart
//   bodies, so no other site can make a browser call a JSON route. An empty body is
//   accepted whatever its type: bodiless routes (POST /devices/{id}/lock, `curl -X POST
//   -d ''`) keep working, and a JSON route refuses an empty body itself.
// - kAnyWithBearer: any type (PUT /api/actions/{name}'s Lua source, the seed's POST /test).
//   Only for routes that require an `Authorization: Bearer` credential, which a cross-site
//   page cannot send (gatehouse grants no CORS preflight).
enum class Body { kJson, kAnyWithBearer };

// Registers `fn` for `method` and the path regex `pattern`, counted in the metrics as
// `label` ("POST /devices/{id}/lock"), accepting bodies as `body` says.
void add_route(httplib::Server& server, RouteContext& context, Method method,
               const std::string& pattern, std::string label, RouteFn fn, Body body = Body::kJson);

// The name of the API token in the request's `Authorization: Bearer` header;
// kUnauthenticated when it is missing or matches no token.
Result<std::string> require_token(const RouteContext& context, const httplib::Request& req);

// {kind API_TOKEN, name = token, channel "http"}: who caused the events of a request.
events::Cause token_cause(const std::string& token_name);
// {kind USER, name = user, channel "http"}: a user's session caused them.
events::Cause user_cause(const std::string& user);

// The identity behind the chat session token `token` (options.call_timeout bounds the
// wait). kUnavailable when no chat service is set; kUnauthenticated when the session is
// unknown, expired or ended.
Result<chat::Identity> authenticate_session(const RouteContext& context, const std::string& token);

// Who may use an operator route (devices, pictures by token, the device event stream,
// scripted actions): an API token, or the chat session of a user with the role `operator`.
// Returns the cause the route's events carry. kUnauthenticated when the bearer is missing or
// neither a token nor a live session; kPermissionDenied for the session of a user who is not
// an operator.
Result<events::Cause> require_operator_caller(const RouteContext& context,
                                              const httplib::Request& req);
// The same check for a bearer secret taken from elsewhere (an event stream's ?token=, the
// MQTT remote install's token through HttpAdapter::authenticate_operator()).
Result<events::Cause> operator_caller(const RouteContext& context, const std::string& secret);

}  // namespace gh::http
