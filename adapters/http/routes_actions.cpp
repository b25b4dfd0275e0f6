// The scripted actions' operator routes (docs/protocol.md "Operator HTTP routes"): list, show
// with source, recorded runs, install or replace (the body is the Lua source), disable,
// enable, remove. Every one needs an API token or an operator's session; changes are recorded
// with that caller as their cause and answered once durable. The admin blocks (sandbox check,
// journal append or read): it runs on the worker thread, never on an actor's. The sandbox
// check of an install runs in a child process killed at actions.max-call-ms, so no script
// holds a worker longer than that (issue 9).
#include "adapters/codec/action_json.h"
#include "adapters/http/params.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"

namespace gh::http {
namespace {

// A handler of these routes: the context, the admin, who is calling (the cause of any change).
using AdminFn = Status (*)(const RouteContext&, actions::ActionAdmin&, const events::Cause&,
                           const httplib::Request&, httplib::Response&);

// The action name captured by the route pattern, validated.
Result<std::string> path_action(const httplib::Request& req) {
  std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
  GH_RETURN_IF_ERROR(actions::validate_name(name));
  return name;
}

// The action `name` as it is now in the table: kNotFound when it is not installed.
Result<actions::Action> current(const actions::ActionAdmin& admin, const std::string& name) {
  auto table = admin.table();
  const actions::Action* found = table.find(name);
  if (found == nullptr) return not_found("no action named " + name);
  return *found;
}

// `replace` query parameter: absent or "false" is false, "true" is true.
Result<bool> replace_param(const httplib::Request& req) {
  if (!req.has_param("replace")) return false;
  const std::string value = req.get_param_value("replace");
  if (value == "true") return true;
  if (value == "false") return false;
  return invalid_argument("replace must be true or false");
}

Status list_actions(const RouteContext&, actions::ActionAdmin& admin, const events::Cause&,
                    const httplib::Request&, httplib::Response& res) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, action] : admin.table().actions) {
    list.push_back(codec::to_json(action, false));
  }
  send_ok(res, {{"actions", std::move(list)}});
  return Status::ok();
}

Status show_action(const RouteContext&, actions::ActionAdmin& admin, const events::Cause&,
                   const httplib::Request& req, httplib::Response& res) {
  auto name = path_action(req);
  if (!name) return name.status();
  auto action = current(admin, *name);
  if (!action) return action.status();
  send_ok(res, {{"action", codec::to_json(*action, true)}});
  return Status::ok();
}

// The newest runs, oldest first; they outlive the action (a removed action's runs stay).
Status action_runs(const RouteContext& context, actions::ActionAdmin& admin, const events::Cause&,
                   const httplib::Request& req, httplib::Response& res) {
  auto name = path_action(req);
  if (!name) return name.status();
  auto limit = parse_limit(req.get_param_value("limit"), context.options.page_default,
                           context.options.page_max);
  if (!limit) return limit.status();
  auto runs = admin.runs(*name, *limit);
  if (!runs) return runs.status();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& run : *runs) list.push_back(codec::to_json(run));
  send_ok(res, {{"name", *name}, {"runs", std::move(list)}});
  return Status::ok();
}

Status install_action(const RouteContext&, actions::ActionAdmin& admin, const events::Cause& by,
                      const httplib::Request& req, httplib::Response& res) {
  auto name = path_action(req);
  if (!name) return name.status();
  auto replace = replace_param(req);
  if (!replace) return replace.status();
  if (req.body.empty()) return invalid_argument("the body must be the action's Lua source");
  auto installed = admin.install(*name, req.body, *replace, by);
  if (!installed) return installed.status();
  const bool created = installed->revision == 1;
  if (created) res.set_header("Location", "/api/actions/" + *name);
  send_ok(res, {{"action", codec::to_json(*installed, false)}}, created ? 201 : 200);
  return Status::ok();
}

// POST /api/actions/{name}/disable|enable: the action as it is afterwards (doing it twice
// changes nothing and answers the same).
Status toggle_action(const RouteContext&, actions::ActionAdmin& admin, const events::Cause& by,
                     const httplib::Request& req, httplib::Response& res) {
  auto name = path_action(req);
  if (!name) return name.status();
  const bool enable = req.matches.size() > 2 && req.matches[2] == "enable";
  actions::Command command = actions::Enable{*name};
  if (!enable) command = actions::Disable{*name, "operator"};
  GH_RETURN_IF_ERROR(admin.change(command, by));
  auto action = current(admin, *name);
  if (!action) return action.status();
  send_ok(res, {{"action", codec::to_json(*action, false)}});
  return Status::ok();
}

Status remove_action(const RouteContext&, actions::ActionAdmin& admin, const events::Cause& by,
                     const httplib::Request& req, httplib::Response& res) {
  auto name = path_action(req);
  if (!name) return name.status();
  GH_RETURN_IF_ERROR(admin.change(actions::Remove{*name}, by));
  send_ok(res, {{"removed", *name}});
  return Status::ok();
}

// The admin, or 503 while the server runs without scripted actions.
Result<actions::ActionAdmin*> require_admin(const RouteContext& context) {
  if (context.actions == nullptr) return unavailable("scripted actions are not running");
  return context.actions;
}

// Wraps `fn`: an operator caller (whose cause the changes carry) and the admin.
RouteFn operator_route(RouteContext& context, AdminFn fn) {
  return [&context, fn](const httplib::Request& req, httplib::Response& res) {
    auto caller = require_operator_caller(context, req);
    if (!caller) return caller.status();
    auto admin = require_admin(context);
    if (!admin) return admin.status();
    return fn(context, **admin, *caller, req, res);
  };
}

}  // namespace

void register_action_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/api/actions", "GET /api/actions",
            operator_route(context, list_actions));
  add_route(server, context, Method::kGet, "/api/actions/([^/]+)", "GET /api/actions/{name}",
            operator_route(context, show_action));
  add_route(server, context, Method::kGet, "/api/actions/([^/]+)/runs",
            "GET /api/actions/{name}/runs", operator_route(context, action_runs));
  add_route(server, context, Method::kPut, "/api/actions/([^/]+)", "PUT /api/actions/{name}",
            operator_route(context, install_action), Body::kAnyWithBearer);
  add_route(server, context, Method::kPost, "/api/actions/([^/]+)/(disable)",
            "POST /api/actions/{name}/disable", operator_route(context, toggle_action));
  add_route(server, context, Method::kPost, "/api/actions/([^/]+)/(enable)",
            "POST /api/actions/{name}/enable", operator_route(context, toggle_action));
  add_route(server, context, Method::kDelete, "/api/actions/([^/]+)", "DELETE /api/actions/{name}",
            operator_route(context, remove_action));
}

}  // namespace gh::http
