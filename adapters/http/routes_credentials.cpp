// The credential routes for operators (docs/protocol.md "Door credentials"): a door's broker
// credential (POST/DELETE /devices/{id}/credential) and the provisioning keys
// (/api/provisioning-keys). Each needs an API token or an operator's session, validates ids
// and bodies before calling the CredentialRegistry, and shows a secret only in the answer
// that created it; only hashes are stored. 503 while context.credentials is null.
#include "adapters/codec/device_json.h"
#include "adapters/codec/iso_time.h"
#include "adapters/codec/json_reply.h"
#include "adapters/http/bounded_wait.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

using Handler = Status (*)(RouteContext&, credentials::CredentialRegistry&, const events::Cause&,
                           const httplib::Request&, httplib::Response&);

// The id or name captured by the route pattern, validated.
Result<std::string> path_id(const httplib::Request& req, std::string_view what) {
  std::string id = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
  GH_RETURN_IF_ERROR(validate_id(id, what));
  return id;
}

// Checks the caller (as the device routes do), then the registry, then runs `fn`.
RouteFn operator_route(RouteContext& context, Handler fn) {
  return [&context, fn](const httplib::Request& req, httplib::Response& res) {
    auto caller = require_operator_caller(context, req);
    if (!caller) return caller.status();
    if (context.credentials == nullptr) return unavailable("door credentials are not available");
    return fn(context, *context.credentials, *caller, req, res);
  };
}

// POST /devices/{id}/credential: a registered device gets a new secret (its first, or a
// rotation); 404 for a device that is not registered.
Status rotate(RouteContext& context, credentials::CredentialRegistry& registry,
              const events::Cause& cause, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req, "device id");
  if (!id) return id.status();
  auto device = context.devices.state_at(*id, 0, 0);
  if (!device) return device.status();
  if (!device->registered) return not_found("device " + *id + " is not registered");
  auto secret = registry.issue_door(*id, cause);
  if (!secret) return secret.status();
  send_ok(res, {{"device", *id}, {"credential", issued_credential_json(context, *id, *secret)}});
  return Status::ok();
}

// DELETE /devices/{id}/credential: 404 when the device has no credential.
Status revoke(RouteContext&, credentials::CredentialRegistry& registry, const events::Cause& cause,
              const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req, "device id");
  if (!id) return id.status();
  GH_RETURN_IF_ERROR(registry.revoke_door(*id, cause));
  send_ok(res, {{"device", *id}, {"credential", nullptr}});
  return Status::ok();
}

nlohmann::json key_json(const credentials::ProvisioningKeyInfo& key) {
  return {{"name", key.name},
          {"created_at", codec::iso8601_or_null(key.created_at_ms)},
          {"created_by", codec::to_json(key.created_by)}};
}

// POST /api/provisioning-keys {"name": "..."}: 201 with the key's text, shown once.
Status create_key(RouteContext& context, credentials::CredentialRegistry& registry,
                  const events::Cause& cause, const httplib::Request& req, httplib::Response& res) {
  auto body = codec::parse_json(req.body, context.options.server.max_body_bytes,
                                context.options.max_json_depth);
  if (!body) return body.status();
  if (!body->is_object()) return invalid_argument("body must be a JSON object");
  auto name_it = body->find("name");
  if (name_it == body->end() || !name_it->is_string()) return invalid_argument("name is required");
  const std::string name = name_it->get<std::string>();
  GH_RETURN_IF_ERROR(validate_id(name, "provisioning key name"));
  auto text = registry.create_provisioning_key(name, cause);
  if (!text) return text.status();
  nlohmann::json key = {{"name", name}, {"secret", *text}, {"created_at", nullptr}};
  for (const auto& info : registry.provisioning_key_list())
    if (info.name == name) key["created_at"] = codec::iso8601_or_null(info.created_at_ms);
  res.set_header("Location", "/api/provisioning-keys/" + name);
  send_ok(res, {{"key", std::move(key)}}, 201);
  return Status::ok();
}

// GET /api/provisioning-keys: the active keys, never their secrets or hashes.
Status list_keys(RouteContext&, credentials::CredentialRegistry& registry, const events::Cause&,
                 const httplib::Request&, httplib::Response& res) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& key : registry.provisioning_key_list()) keys.push_back(key_json(key));
  send_ok(res, {{"keys", std::move(keys)}});
  return Status::ok();
}

// DELETE /api/provisioning-keys/{name}: 404 when no active key has the name.
Status revoke_key(RouteContext&, credentials::CredentialRegistry& registry,
                  const events::Cause& cause, const httplib::Request& req, httplib::Response& res) {
  auto name = path_id(req, "provisioning key name");
  if (!name) return name.status();
  GH_RETURN_IF_ERROR(registry.revoke_provisioning_key(*name, cause));
  send_ok(res, {{"revoked", *name}});
  return Status::ok();
}

}  // namespace

nlohmann::json issued_credential_json(const RouteContext& context, const std::string& id,
                                      const std::string& secret) {
  nlohmann::json out = {{"username", id}, {"secret", secret}};
  if (context.broker_password) out["password"] = context.broker_password(id);
  return out;
}

nlohmann::json door_credential_json(const RouteContext& context, const std::string& id) {
  if (context.credentials == nullptr) return nullptr;
  auto door = context.credentials->door(id);
  if (!door) return nullptr;
  return {{"issued_at", codec::iso8601_or_null(door->issued_at_ms)},
          {"issued_by", codec::to_json(door->issued_by)}};
}

void register_credential_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kPost, "/devices/([^/]+)/credential",
            "POST /devices/{id}/credential", operator_route(context, rotate));
  add_route(server, context, Method::kDelete, "/devices/([^/]+)/credential",
            "DELETE /devices/{id}/credential", operator_route(context, revoke));
  add_route(server, context, Method::kPost, "/api/provisioning-keys", "POST /api/provisioning-keys",
            operator_route(context, create_key));
  add_route(server, context, Method::kGet, "/api/provisioning-keys", "GET /api/provisioning-keys",
            operator_route(context, list_keys));
  add_route(server, context, Method::kDelete, "/api/provisioning-keys/([^/]+)",
            "DELETE /api/provisioning-keys/{name}", operator_route(context, revoke_key));
}

}  // namespace gh::http
