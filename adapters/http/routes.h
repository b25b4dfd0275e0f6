// The route families of the HTTP adapter, one file each (docs/protocol.md "HTTP API" describes
// every route). Each register_* adds its routes to `server`; `context` must outlive it.
// Internal to adapters/http.
#pragma once

#include <httplib.h>

#include <string>

#include "adapters/http/route_context.h"

namespace gh::http {

// GET /hello, POST /lock, POST /unlock, POST /test, GET /get_pic (the seed's routes).
void register_legacy_routes(httplib::Server& server, RouteContext& context);
// GET/POST /devices, GET /devices/{id}, POST /devices/{id}/lock|unlock,
// GET /devices/{id}/history.
void register_device_routes(httplib::Server& server, RouteContext& context);
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
