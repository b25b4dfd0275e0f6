#include "adapters/http/route_context.h"

#include <chrono>

#include "adapters/http/http_status.h"
#include "adapters/http/reply.h"

namespace gh::http {

int64_t RouteContext::now_ms() const {
  if (options.clock_ms) return options.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void add_route(httplib::Server& server, RouteContext& context, Method method,
               const std::string& pattern, std::string label, RouteFn fn) {
  auto handler = [&context, label = std::move(label), fn = std::move(fn)](
                     const httplib::Request& req, httplib::Response& res) {
    Status status = fn(req, res);
    if (!status.is_ok()) send_error(res, status);
    // A handler may answer an error status itself (an unhealthy /healthz is a 503 with a
    // body of its own): count it by that status.
    Code outcome = !status.is_ok()     ? status.code()
                   : res.status >= 400 ? code_for_http_status(res.status)
                                       : Code::kOk;
    context.counters.count(label, outcome == Code::kOk ? "ok" : code_name(outcome));
  };
  if (method == Method::kGet) {
    server.Get(pattern, std::move(handler));
  } else {
    server.Post(pattern, std::move(handler));
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

}  // namespace gh::http
