// Shared plumbing of the chat route files (routes_chat_*.cpp): reaching the chat service with
// a bounded wait, the session check, JSON bodies and path parameters. Internal to
// adapters/http. Thread-safety: stateless helpers; handlers run concurrently.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "actors/chat/chat_service.h"
#include "adapters/http/bounded_wait.h"
#include "adapters/http/route_context.h"
#include "events/status.h"

namespace gh::http {

// The caller of a session route: who, and the token it came with (for logout and password
// changes, which act on that session).
struct Session {
  chat::Identity who;
  std::string token;
};

using OpenChatFn =
    std::function<Status(chat::ChatService&, const httplib::Request&, httplib::Response&)>;
using SessionChatFn = std::function<Status(chat::ChatService&, const Session&,
                                           const httplib::Request&, httplib::Response&)>;

// A route that needs no session (register, login, password reset): 503 without a chat
// service; a 503 answer carries Retry-After; an attempt the throttle refused
// (chat::throttled()) is 429 with Retry-After in whole seconds.
RouteFn open_chat_route(RouteContext& context, OpenChatFn fn);
// A route that needs `Authorization: Bearer <session token>`: 401 without a live session.
RouteFn session_chat_route(RouteContext& context, SessionChatFn fn);

// Who is calling, for the chat service's throttle: channel "http", the peer's address.
inline chat::Caller http_caller(const httplib::Request& req) {
  return chat::Caller{"http", req.remote_addr};
}

// Calls the chat service and waits for its answer, at most options.call_timeout.
template <class T, class Start>
Result<T> call_chat(const RouteContext& context, Start&& start) {
  return wait_bounded<T>(context.options.call_timeout, "chat service", std::forward<Start>(start));
}

// The request body as a JSON object within the body and depth limits: kInvalidArgument when
// it is not JSON or not an object, kTooLarge when it nests too deep.
Result<nlohmann::json> object_body(const RouteContext& context, const httplib::Request& req);

// Member `name` of `body` as a string. An absent or null member is kInvalidArgument ("name
// is required") when `required`, otherwise "". Any other type is kInvalidArgument.
Result<std::string> string_member(const nlohmann::json& body, std::string_view name,
                                  bool required = true);

// Path capture `index` as an id (user or room name, events/stream_name.h rules), named
// `what` in the error.
Result<std::string> path_name(const httplib::Request& req, size_t index, std::string_view what);

// Path capture `index` as a message id (>= 1).
Result<uint64_t> path_message_id(const httplib::Request& req, size_t index);

// The route families behind register_chat_routes() (routes.h), one file each.
// routes_chat_users.cpp: /api/users..., /api/sessions..., /api/me...
void register_chat_user_routes(httplib::Server& server, RouteContext& context);
// routes_chat_rooms.cpp: /api/rooms..., messages, likes.
void register_chat_room_routes(httplib::Server& server, RouteContext& context);
// routes_chat_events.cpp: GET /api/rooms/{room}/events (Server-Sent Events).
void register_chat_event_routes(httplib::Server& server, RouteContext& context);

}  // namespace gh::http
