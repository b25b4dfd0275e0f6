// The route families of the HTTP adapter, one file each (docs/protocol.md "HTTP API" describes
// every route). Each register_* adds its routes to `server`; `context` must outlive it.
// Internal to adapters/http.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/route_context.h"

namespace gh::http {

// GET /hello, POST /lock, POST /unlock, POST /test, GET /get_pic (the seed's routes).
void register_legacy_routes(httplib::Server& server, RouteContext& context);
// GET/POST /devices, GET /devices/{id}, POST /devices/{id}/lock|unlock,
// GET /devices/{id}/history, GET /devices/{id}/timeline.
void register_device_routes(httplib::Server& server, RouteContext& context);
// GET /api/alerts and POST /devices/{id}/alerts/{alert}/review (routes_alerts.cpp).
void register_alert_routes(httplib::Server& server, RouteContext& context);
// GET /pictures/{id}.
void register_picture_routes(httplib::Server& server, RouteContext& context);
// GET /healthz, GET /metrics.
void register_ops_routes(httplib::Server& server, RouteContext& context);
// The chat API under /api/: users, sessions, rooms, messages, likes and the rooms' event
// streams (Server-Sent Events through context.streams). 503 while context.chat is null.
void register_chat_routes(httplib::Server& server, RouteContext& context);
// /api/actions...: the scripted actions for operators (routes_actions.cpp). 503 while
// context.actions is null.
void register_action_routes(httplib::Server& server, RouteContext& context);
// POST and DELETE /devices/{id}/credential; POST, GET /api/provisioning-keys and DELETE
// /api/provisioning-keys/{name} (routes_credentials.cpp). 503 while context.credentials is null.
void register_credential_routes(httplib::Server& server, RouteContext& context);
// {"username": id, "secret": secret}: a door's credential, in the one answer that shows it;
// with "password" (its MQTT password) when context.broker_password is set (NATS).
nlohmann::json issued_credential_json(const RouteContext& context, const std::string& id,
                                      const std::string& secret);
// What GET /devices/{id} shows of the door's credential: {"issued_at", "issued_by"}, or null
// when it has none (or no registry is set). Never the hash.
nlohmann::json door_credential_json(const RouteContext& context, const std::string& id);
// GET / and GET /web/{file}: the web console's embedded files (adapters/web).
void register_web_routes(httplib::Server& server, RouteContext& context);
class DeviceEventHub;
// GET /api/devices/events: `hub`'s stream (device_event_stream.h) for an API token or an
// operator's session (Authorization: Bearer, or ?token= for EventSource).
void register_device_event_routes(httplib::Server& server, RouteContext& context,
                                  DeviceEventHub& hub);

// Answers picture `picture_id` (shared by /pictures/{id} and /get_pic): a valid signature
// (expires & sig parameters) or a bearer token, then the bytes with their type and ETag,
// or 304 when If-None-Match names it.
Status serve_picture(const RouteContext& context, const httplib::Request& req,
                     httplib::Response& res, const std::string& picture_id);

}  // namespace gh::http
