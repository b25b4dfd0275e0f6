// The device routes. Every one needs a bearer API token or an operator's session (door
// states and histories are sensitive), validates ids, parameters and bodies before calling the
// service, and bounds every wait for it (options.call_timeout).
#include <algorithm>

#include "adapters/codec/device_json.h"
#include "adapters/codec/json_reply.h"
#include "adapters/http/bounded_wait.h"
#include "adapters/http/params.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

// Longest type, name or firmware accepted when provisioning.
constexpr size_t kMaxInfoLength = 128;

// The id captured by the route pattern, validated.
Result<std::string> path_id(const httplib::Request& req) {
  std::string id = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  return id;
}

// An optional string member of the provisioning body, bounded in length.
Status info_field(const nlohmann::json& body, const char* name, std::string& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return invalid_argument(std::string(name) + " must be a string");
  out = it->get<std::string>();
  if (out.size() > kMaxInfoLength) {
    return invalid_argument(std::string(name) + " is longer than " +
                            std::to_string(kMaxInfoLength) + " bytes");
  }
  return Status::ok();
}

Status list_devices(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  std::string after = req.get_param_value("after");
  if (!after.empty()) GH_RETURN_IF_ERROR(validate_id(after, "after"));
  auto limit = parse_limit(req.get_param_value("limit"), context.options.page_default,
                           context.options.page_max);
  if (!limit) return limit.status();
  // One more than asked tells whether another page exists.
  auto ids = context.devices.list(after, *limit + 1);
  if (!ids) return ids.status();
  nlohmann::json next = nullptr;
  if (ids->size() > *limit) {
    ids->resize(*limit);
    next = ids->back();
  }
  send_ok(res, {{"devices", *ids}, {"next", next}});
  return Status::ok();
}

Status provision(RouteContext& context, const events::Cause& cause, const httplib::Request& req,
                 httplib::Response& res) {
  auto body = codec::parse_json(req.body, context.options.server.max_body_bytes,
                                context.options.max_json_depth);
  if (!body) return body.status();
  if (!body->is_object()) return invalid_argument("body must be a JSON object");
  auto id_it = body->find("id");
  if (id_it == body->end() || !id_it->is_string()) return invalid_argument("id is required");
  std::string id = id_it->get<std::string>();
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  device::DeviceInfo info;
  GH_RETURN_IF_ERROR(info_field(*body, "type", info.type));
  GH_RETURN_IF_ERROR(info_field(*body, "name", info.name));
  GH_RETURN_IF_ERROR(info_field(*body, "firmware", info.firmware));
  auto state = wait_bounded<device::State>(context.options.call_timeout, [&](auto done) {
    context.devices.provision(id, std::move(info), cause, std::move(done));
  });
  if (!state) return state.status();
  nlohmann::json answer = {{"device", codec::to_json(*state)}};
  if (context.credentials != nullptr) {
    // After the device is registered, so that provisioning an existing device never rotates
    // its credential.
    auto secret = context.credentials->issue_door(id, cause);
    if (!secret) {
      return Status(secret.status().code(), "device " + id +
                                                " was registered but no credential was issued (" +
                                                secret.status().message() + "); POST /devices/" +
                                                id + "/credential issues one");
    }
    answer["credential"] = issued_credential_json(context, id, *secret);
  }
  res.set_header("Location", "/devices/" + id);
  send_ok(res, std::move(answer), 201);
  return Status::ok();
}

Status get_device(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return id.status();
  const bool by_version = req.has_param("version");
  const bool by_time = req.has_param("at");
  if (by_version && by_time) return invalid_argument("give version or at, not both");
  if (!by_version && !by_time) {
    auto state = wait_bounded<device::State>(context.options.call_timeout, [&](auto done) {
      context.devices.get(*id, std::move(done));
    });
    if (!state) return state.status();
    send_ok(res, {{"device", codec::to_json(*state)},
                  {"credential", door_credential_json(context, *id)}});
    return Status::ok();
  }
  uint64_t version = 0;
  int64_t at_ms = 0;
  if (by_version) {
    auto parsed = parse_u64(req.get_param_value("version"), "version");
    if (!parsed) return parsed.status();
    if (*parsed == 0) return invalid_argument("version must be at least 1");
    version = *parsed;
  } else {
    auto parsed = parse_time_ms(req.get_param_value("at"));
    if (!parsed) return parsed.status();
    if (*parsed <= 0) return invalid_argument("at must be after 1970-01-01T00:00:00Z");
    at_ms = *parsed;
  }
  auto state = context.devices.state_at(*id, version, at_ms);
  if (!state) return state.status();
  if (!state->registered) return not_found("device " + *id + " was not registered then");
  send_ok(res, {{"device", codec::to_json(*state)}});
  return Status::ok();
}

Status lock_device(RouteContext& context, const events::Cause& cause, const httplib::Request& req,
                   httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return id.status();
  auto action = device::parse_action(req.matches.size() > 2 ? std::string(req.matches[2]) : "");
  if (!action) return invalid_argument("action must be lock or unlock");
  std::string command_id = req.get_header_value("Idempotency-Key");
  if (!command_id.empty()) GH_RETURN_IF_ERROR(validate_id(command_id, "Idempotency-Key"));
  std::chrono::seconds wait{0};
  if (req.has_param("wait")) {
    auto parsed = parse_wait(req.get_param_value("wait"), context.options.max_wait);
    if (!parsed) return parsed.status();
    wait = *parsed;
  }
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wait);
  // The service answers by itself after `wait`; the bound only guards against it not
  // answering at all.
  auto command =
      wait_bounded<device::CommandRecord>(wait_ms + context.options.call_timeout, [&](auto done) {
        context.devices.request_lock_and_wait(*id, *action, command_id, cause, wait_ms,
                                              std::move(done));
      });
  if (!command) return command.status();
  if (command->action != *action) {
    // A repeated key answers the original command, which did something else.
    return conflict("Idempotency-Key " + command_id + " was used for " +
                    std::string(device::action_name(command->action)));
  }
  res.set_header("Location", "/devices/" + *id + "/history");
  send_ok(res,
          {{"device", *id}, {"command_id", command->id}, {"command", codec::to_json(*command)}},
          command->finished() ? 200 : 202);
  return Status::ok();
}

Status history(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return id.status();
  auto entries = context.devices.history(*id);
  if (!entries) return entries.status();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& entry : *entries) list.push_back(codec::to_json(entry));
  send_ok(res, {{"device", *id}, {"history", std::move(list)}});
  return Status::ok();
}

// Every event of the door with its name, time and cause, oldest first.
Status timeline(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return id.status();
  auto events = context.devices.events(*id);
  if (!events) return events.status();
  if (events->empty()) return not_found("device " + *id + " is not registered");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& entry : device::timeline(*events)) list.push_back(codec::to_json(entry));
  send_ok(res, {{"device", *id}, {"timeline", std::move(list)}});
  return Status::ok();
}

// Removes the door: its credential is revoked first (the broker ends its connection and it can
// no longer connect), then DeviceRemoved names the caller; a door without a credential is
// removed all the same. Answers the removed door's JSON.
Status remove_device(RouteContext& context, const events::Cause& cause, const httplib::Request& req,
                     httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return id.status();
  auto state = wait_bounded<device::State>(
      context.options.call_timeout, [&](auto done) { context.devices.get(*id, std::move(done)); });
  if (!state) return state.status();
  bool revoked = false;
  if (context.credentials != nullptr) {
    auto status = context.credentials->revoke_door(*id, cause);
    if (!status.is_ok() && status.code() != Code::kNotFound) return status;
    revoked = status.is_ok();
  }
  auto removed = wait_bounded<device::State>(context.options.call_timeout, [&](auto done) {
    context.devices.remove(*id, cause, std::move(done));
  });
  if (!removed) return removed.status();
  send_ok(res, {{"device", codec::to_json(*removed)}, {"credential_revoked", revoked}});
  return Status::ok();
}

// Wraps a handler that needs to know who is calling (the cause of its events).
RouteFn authenticated(RouteContext& context,
                      Status (*fn)(RouteContext&, const events::Cause&, const httplib::Request&,
                                   httplib::Response&)) {
  return [&context, fn](const httplib::Request& req, httplib::Response& res) {
    auto caller = require_operator_caller(context, req);
    if (!caller) return caller.status();
    return fn(context, *caller, req, res);
  };
}

// Wraps a read-only handler: the caller is checked, who it is is not needed.
RouteFn authenticated(RouteContext& context,
                      Status (*fn)(RouteContext&, const httplib::Request&, httplib::Response&)) {
  return [&context, fn](const httplib::Request& req, httplib::Response& res) {
    auto caller = require_operator_caller(context, req);
    if (!caller) return caller.status();
    return fn(context, req, res);
  };
}

}  // namespace

void register_device_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/devices", "GET /devices",
            authenticated(context, list_devices));
  add_route(server, context, Method::kPost, "/devices", "POST /devices",
            authenticated(context, provision));
  add_route(server, context, Method::kGet, "/devices/([^/]+)", "GET /devices/{id}",
            authenticated(context, get_device));
  add_route(server, context, Method::kDelete, "/devices/([^/]+)", "DELETE /devices/{id}",
            authenticated(context, remove_device));
  // The action is captured too, so lock and unlock are counted apart.
  add_route(server, context, Method::kPost, "/devices/([^/]+)/(lock)", "POST /devices/{id}/lock",
            authenticated(context, lock_device));
  add_route(server, context, Method::kPost, "/devices/([^/]+)/(unlock)",
            "POST /devices/{id}/unlock", authenticated(context, lock_device));
  add_route(server, context, Method::kGet, "/devices/([^/]+)/history", "GET /devices/{id}/history",
            authenticated(context, history));
  add_route(server, context, Method::kGet, "/devices/([^/]+)/timeline",
            "GET /devices/{id}/timeline", authenticated(context, timeline));
}

}  // namespace gh::http
