// Operations routes: /healthz for load balancers and supervisors (open, cheap), /metrics
// for Prometheus (open on loopback where the scraper usually runs, token elsewhere).
#include "adapters/codec/json_reply.h"
#include "adapters/http/metrics_text.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"

namespace gh::http {
namespace {

bool is_loopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("::ffff:127.", 0) == 0;
}

Status healthz(const RouteContext& context, httplib::Response& res) {
  nlohmann::json checks = nlohmann::json::object();
  std::string failing;
  auto check = [&](const char* name, const std::function<bool()>& probe) {
    if (!probe) return;
    bool ok = probe();
    checks[name] = ok;
    if (!ok) failing += failing.empty() ? name : std::string(", ") + name;
  };
  check("broker_connected", context.health.broker_connected);
  check("journal_reachable", context.health.journal_reachable);
  if (failing.empty()) {
    send_ok(res, {{"checks", std::move(checks)}});
    return Status::ok();
  }
  // Unhealthy is an answer, not a failed request: the body still lists every check.
  nlohmann::json body = codec::error_reply(unavailable("unhealthy: " + failing));
  body["checks"] = std::move(checks);
  send_json(res, 503, body);
  return Status::ok();
}

Status metrics(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  if (!(context.options.metrics_open_on_loopback && is_loopback(req.remote_addr))) {
    auto token = require_token(context, req);
    if (!token) return token.status();
  }
  MetricsValues values;
  values.requests = context.counters.snapshot();
  if (context.refusals) values.refusals = context.refusals->snapshot();
  if (context.server) values.open_connections = context.server->open_connections();
  if (context.metrics.journal) values.journal = context.metrics.journal();
  if (context.metrics.live_actors) values.live_actors = context.metrics.live_actors();
  if (context.health.broker_connected) {
    values.broker_connected = context.health.broker_connected();
  }
  if (context.metrics.extra) values.extra = context.metrics.extra();
  res.status = 200;
  res.set_content(render_metrics(values), "text/plain; version=0.0.4; charset=utf-8");
  return Status::ok();
}

}  // namespace

void register_ops_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/healthz", "GET /healthz",
            [&context](const httplib::Request&, httplib::Response& res) {
              return healthz(context, res);
            });
  add_route(server, context, Method::kGet, "/metrics", "GET /metrics",
            [&context](const httplib::Request& req, httplib::Response& res) {
              return metrics(context, req, res);
            });
}

}  // namespace gh::http
