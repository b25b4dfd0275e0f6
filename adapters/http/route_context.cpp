#include "adapters/http/route_context.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "actors/user/user_model.h"
#include "adapters/http/bounded_wait.h"
#include "adapters/http/forwarding.h"
#include "adapters/http/http_status.h"
#include "adapters/http/params.h"
#include "adapters/http/reply.h"
#include "adapters/http/session_cookie.h"
#include "events/log.h"

namespace gh::http {
namespace {

// The refusal of a JSON route's body of another type, or ok.
Status check_body(const httplib::Request& req, Body body) {
  if (body != Body::kJson || req.body.empty()) return Status::ok();
  if (is_json_media_type(req.get_header_value("Content-Type"))) return Status::ok();
  return invalid_argument("this route takes a JSON body: send Content-Type: application/json");
}

}  // namespace

int64_t RouteContext::now_ms() const {
  if (options.clock_ms) return options.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

// One line per answered request: method, path (never the query string, which may carry a
// link's signature), route, status, peer and time. Never a header, so never a token. Probes
// (/healthz, /metrics) are debug: a scraper every few seconds would drown the rest.
void log_request(const std::string& label, const httplib::Request& req,
                 const httplib::Response& res, std::chrono::steady_clock::time_point started) {
  const bool probe = req.path == "/healthz" || req.path == "/metrics";
  const auto level = probe ? log::Level::kDebug : log::Level::kInfo;
  if (!log::enabled(level)) return;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", double(us) / 1000.0);
  log::write(level, "http", "request",
             {{"method", req.method},
              {"path", req.path},
              {"route", label},
              {"status", std::to_string(res.status)},
              {"from", req.remote_addr},
              {"ms", ms}});
}

}  // namespace

namespace {
// The node to send `req` to, when it is about an entity another node serves.
std::optional<std::string> forward_target(const RouteContext& context,
                                          const httplib::Request& req) {
  if (!context.options.owner_url || req.has_header(kForwardedByHeader)) return std::nullopt;
  const auto stream = stream_of_path(req.path);
  if (stream.empty()) return std::nullopt;
  return context.options.owner_url(stream);
}
}  // namespace

void add_route(httplib::Server& server, RouteContext& context, Method method,
               const std::string& pattern, std::string label, RouteFn fn, Body body) {
  // Only the methods whose body carries a command; a GET or DELETE body is ignored.
  if (method != Method::kPost && method != Method::kPut) body = Body::kAnyWithBearer;
  auto handler = [&context, label = std::move(label), fn = std::move(fn), body](
                     const httplib::Request& req, httplib::Response& res) {
    if (Status refused = check_body(req, body); !refused.is_ok()) {
      if (context.refusals) context.refusals->count(Refusal::kUnsupportedMediaType);
      send_error(res, refused);
      res.status = 415;
      context.counters.count(label, code_name(refused.code()));
      return;
    }
    const auto started = std::chrono::steady_clock::now();
    // Cluster mode: a request about an entity another node serves is answered by that node
    // (forwarding.h); a request forwarded once is never forwarded again.
    if (auto owner = forward_target(context, req)) {
      const auto longest = std::max<std::chrono::milliseconds>(context.options.call_timeout,
                                                               context.options.max_wait);
      Status forwarded =
          forward(*owner, context.options.node, req, longest + std::chrono::seconds(5), res);
      if (!forwarded.is_ok()) send_error(res, forwarded);
      log_request(label, req, res, started);
      context.counters.count(label, forwarded.is_ok() ? "forwarded" : code_name(forwarded.code()));
      return;
    }
    Status status = fn(req, res);
    if (!status.is_ok()) send_error(res, status);
    log_request(label, req, res, started);
    // A handler may answer an error status itself (an unhealthy /healthz is a 503 with a
    // body of its own): count it by that status.
    Code outcome = !status.is_ok()     ? status.code()
                   : res.status >= 400 ? code_for_http_status(res.status)
                                       : Code::kOk;
    context.counters.count(label, outcome == Code::kOk ? "ok" : code_name(outcome));
  };
  switch (method) {
    case Method::kGet:
      server.Get(pattern, std::move(handler));
      break;
    case Method::kPost:
      server.Post(pattern, std::move(handler));
      break;
    case Method::kPut:
      server.Put(pattern, std::move(handler));
      break;
    case Method::kDelete:
      server.Delete(pattern, std::move(handler));
      break;
  }
}

Result<std::string> require_token(const RouteContext& context, const httplib::Request& req) {
  // Named: bearer_secret() returns a view into it.
  const std::string header = req.get_header_value("Authorization");
  auto secret = bearer_secret(header);
  if (!secret) return unauthenticated("this route needs an Authorization: Bearer token");
  auto name = context.tokens.authenticate(*secret);
  if (!name) return unauthenticated("unknown or revoked API token");
  return *name;
}

events::Cause token_cause(const std::string& token_name) {
  events::Cause cause;
  cause.set_kind(events::Cause::API_TOKEN);
  cause.set_name(token_name);
  cause.set_channel("http");
  return cause;
}

events::Cause user_cause(const std::string& user) {
  events::Cause cause;
  cause.set_kind(events::Cause::USER);
  cause.set_name(user);
  cause.set_channel("http");
  return cause;
}

Result<chat::Identity> authenticate_session(const RouteContext& context, const std::string& token) {
  if (context.chat == nullptr) return unavailable("the chat service is not available");
  if (token.empty()) return unauthenticated("this route needs a session token");
  return wait_bounded<chat::Identity>(context.options.call_timeout, "chat service",
                                      [&](auto done) { context.chat->authenticate(token, done); });
}

Result<events::Cause> require_operator_caller(const RouteContext& context,
                                              const httplib::Request& req) {
  auto secret = request_secret(req);
  if (!secret) return secret.status();
  if (secret->empty()) {
    return unauthenticated("this route needs an Authorization: Bearer token or the session cookie");
  }
  return operator_caller(context, *secret);
}

Result<events::Cause> operator_caller(const RouteContext& context, const std::string& secret) {
  // API tokens first: they are local and constant-time; a session costs a call to a user
  // actor.
  if (auto name = context.tokens.authenticate(secret)) return token_cause(*name);
  if (context.chat == nullptr) return unauthenticated("unknown or revoked API token");
  auto who = authenticate_session(context, secret);
  if (!who) {
    if (who.status().code() == Code::kUnauthenticated) {
      return unauthenticated("unknown or revoked API token or session");
    }
    return who.status();
  }
  if (!who->has_role(user::kOperatorRole)) {
    return permission_denied("user " + who->user + " is not an operator");
  }
  return user_cause(who->user);
}

}  // namespace gh::http
