// The seed's Flask routes, kept for its clients, now authenticated (docs/security.md: routes
// that change state need a bearer token, or an operator's session). They answer JSON like
// every route.
#include <algorithm>
#include <cctype>
#include <vector>

#include "adapters/codec/device_json.h"
#include "adapters/http/bounded_wait.h"
#include "adapters/http/lock_reply.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

// LOCK/UNLOCK every device, or only ?device=ID, on behalf of `cause` (an API token or an
// operator).
Status lock_devices(RouteContext& context, const httplib::Request& req, httplib::Response& res,
                    events::LockAction action, const events::Cause& cause) {
  const auto limit = context.options.call_timeout;
  if (req.has_param("device")) {
    std::string id = req.get_param_value("device");
    GH_RETURN_IF_ERROR(validate_id(id, "device id"));
    auto command = wait_bounded<device::CommandRecord>(limit, [&](auto done) {
      context.devices.request_lock(id, action, "", cause, std::move(done));
    });
    if (!command) return command.status();
    std::vector<device::FanOut> one;
    one.push_back({id, std::move(command)});
    send_ok(res, {{"results", fan_out_json(one)}}, 202);
    return Status::ok();
  }
  auto results = wait_bounded<std::vector<device::FanOut>>(
      limit, [&](auto done) { context.devices.request_lock_all(action, cause, std::move(done)); });
  if (!results) return results.status();
  send_ok(res, {{"results", fan_out_json(*results)}}, 202);
  return Status::ok();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

void register_legacy_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/hello", "GET /hello",
            [](const httplib::Request&, httplib::Response& res) {
              send_ok(res, {{"message", "Hello World!"}, {"service", "gatehouse"}});
              return Status::ok();
            });
  // The seed's Flask routes took GET; gatehouse takes POST, and GET too with `legacy` on.
  std::vector<Method> methods{Method::kPost};
  if (context.options.legacy_get_routes) methods.push_back(Method::kGet);
  for (Method method : methods) {
    const std::string verb = method == Method::kGet ? "GET " : "POST ";
    add_route(server, context, method, "/lock", verb + "/lock",
              [&context](const httplib::Request& req, httplib::Response& res) {
                auto caller = require_operator_caller(context, req);
                if (!caller) return caller.status();
                return lock_devices(context, req, res, events::LOCK, *caller);
              });
    add_route(server, context, method, "/unlock", verb + "/unlock",
              [&context](const httplib::Request& req, httplib::Response& res) {
                auto caller = require_operator_caller(context, req);
                if (!caller) return caller.status();
                return lock_devices(context, req, res, events::UNLOCK, *caller);
              });
    // The seed's /test: the body says "lock" or "unlock" (a GET, whose body httplib does not
    // read, says it in ?action=).
    add_route(
        server, context, method, "/test", verb + "/test",
        [&context](const httplib::Request& req, httplib::Response& res) {
          auto caller = require_operator_caller(context, req);
          if (!caller) return caller.status();
          const std::string said =
              req.has_param("action") ? req.get_param_value("action") : req.body;
          auto action = device::parse_action(trim(said));
          if (!action) return invalid_argument("body or ?action= must be \"lock\" or \"unlock\"");
          return lock_devices(context, req, res, *action, *caller);
        },
        Body::kAnyWithBearer);
  }
  add_route(server, context, Method::kGet, "/get_pic", "GET /get_pic",
            [&context](const httplib::Request& req, httplib::Response& res) {
              if (!req.has_param("id")) return invalid_argument("missing ?id=PICTURE_ID");
              return serve_picture(context, req, res, req.get_param_value("id"));
            });
}

}  // namespace gh::http
