// The chat API's shared plumbing and registration. Every chat route reaches the service
// through call_chat() (a bounded wait, like the device routes), answers 503 with Retry-After
// while the service is missing or busy (the hashing queue is full), and validates names,
// ids and bodies before calling it.
#include "adapters/http/routes_chat.h"

#include "adapters/codec/json_reply.h"
#include "adapters/http/params.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "adapters/http/session_cookie.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

// A busy or missing service is worth retrying soon: say when. An attempt the throttle
// refused is 429 Too Many Requests with the throttle's own wait (written here, since the one
// Status table maps kUnavailable to 503).
Status with_retry_after(Status status, httplib::Response& res) {
  if (status.code() != Code::kUnavailable) return status;
  const int64_t seconds = chat::retry_after_seconds(status);
  res.set_header("Retry-After", std::to_string(seconds > 0 ? seconds : 1));
  if (seconds == 0) return status;
  send_json(res, 429, codec::error_reply(status));
  return Status::ok();
}

}  // namespace

RouteFn open_chat_route(RouteContext& context, OpenChatFn fn) {
  return [&context, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    if (context.chat == nullptr) {
      return with_retry_after(unavailable("the chat service is not available"), res);
    }
    return with_retry_after(fn(*context.chat, req, res), res);
  };
}

RouteFn session_chat_route(RouteContext& context, SessionChatFn fn) {
  return [&context, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    if (context.chat == nullptr) {
      return with_retry_after(unavailable("the chat service is not available"), res);
    }
    auto secret = request_secret(req);
    if (!secret) return secret.status();
    if (secret->empty()) {
      return Status(unauthenticated(
          "this route needs an Authorization: Bearer session token or the session cookie"));
    }
    Session session;
    session.token = std::move(*secret);
    auto who = authenticate_session(context, session.token);
    if (!who) return with_retry_after(who.status(), res);
    session.who = std::move(who).value();
    return with_retry_after(fn(*context.chat, session, req, res), res);
  };
}

Result<nlohmann::json> object_body(const RouteContext& context, const httplib::Request& req) {
  auto body = codec::parse_json(req.body, context.options.server.max_body_bytes,
                                context.options.max_json_depth);
  if (!body) return body.status();
  if (!body->is_object()) return invalid_argument("body must be a JSON object");
  return body;
}

Result<std::string> string_member(const nlohmann::json& body, std::string_view name,
                                  bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return invalid_argument(std::string(name) + " is required");
    return std::string();
  }
  if (!it->is_string()) return invalid_argument(std::string(name) + " must be a string");
  return it->get<std::string>();
}

Result<std::string> path_name(const httplib::Request& req, size_t index, std::string_view what) {
  std::string name = req.matches.size() > index ? std::string(req.matches[index]) : std::string();
  GH_RETURN_IF_ERROR(validate_id(name, what));
  return name;
}

Result<uint64_t> path_message_id(const httplib::Request& req, size_t index) {
  std::string text = req.matches.size() > index ? std::string(req.matches[index]) : std::string();
  auto id = parse_u64(text, "message id");
  if (!id) return id.status();
  if (*id == 0) return invalid_argument("message id must be at least 1");
  return *id;
}

void register_chat_routes(httplib::Server& server, RouteContext& context) {
  register_chat_user_routes(server, context);
  register_chat_room_routes(server, context);
  register_chat_event_routes(server, context);
}

}  // namespace gh::http
