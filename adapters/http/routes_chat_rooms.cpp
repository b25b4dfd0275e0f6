// Rooms, their members, messages and likes. Every route needs a session; the service decides
// who may do what (members read and post, authors delete) and answers 403 otherwise.
#include <algorithm>

#include "adapters/codec/chat_json.h"
#include "adapters/http/params.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes_chat.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

// The service's largest history page (room_model.h kMaxPageSize).
constexpr size_t kMaxHistoryPage = 100;

std::string room_path(const std::string& room) { return "/api/rooms/" + room; }

Status list_rooms(RouteContext& context, chat::ChatService& chat, const Session&,
                  const httplib::Request& req, httplib::Response& res) {
  std::string after = req.get_param_value("after");
  if (!after.empty()) GH_RETURN_IF_ERROR(validate_id(after, "after"));
  auto limit = parse_limit(req.get_param_value("limit"), context.options.rooms_page_default,
                           context.options.rooms_page_max);
  if (!limit) return limit.status();
  // One more than asked tells whether another page exists.
  auto rooms = chat.list_rooms(after, *limit + 1);
  if (!rooms) return rooms.status();
  nlohmann::json next = nullptr;
  if (rooms->size() > *limit) {
    rooms->resize(*limit);
    next = rooms->back();
  }
  send_ok(res, {{"rooms", *rooms}, {"next", next}});
  return Status::ok();
}

Status create_room(RouteContext& context, chat::ChatService& chat, const Session& session,
                   const httplib::Request& req, httplib::Response& res) {
  auto body = object_body(context, req);
  if (!body) return body.status();
  auto name = string_member(*body, "name");
  if (!name) return name.status();
  GH_RETURN_IF_ERROR(validate_id(*name, "room name"));
  auto room = call_chat<chat::RoomView>(
      context, [&](auto done) { chat.create_room(session.who, *name, std::move(done)); });
  if (!room) return room.status();
  res.set_header("Location", room_path(room->name));
  send_ok(res, {{"room", codec::to_json(*room)}}, 201);
  return Status::ok();
}

Status get_room(RouteContext& context, chat::ChatService& chat, const Session&,
                const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  auto room =
      call_chat<chat::RoomView>(context, [&](auto done) { chat.get_room(*name, std::move(done)); });
  if (!room) return room.status();
  send_ok(res, {{"room", codec::to_json(*room)}});
  return Status::ok();
}

Status join(RouteContext& context, chat::ChatService& chat, const Session& session,
            const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  auto room = call_chat<chat::RoomView>(
      context, [&](auto done) { chat.join(session.who, *name, std::move(done)); });
  if (!room) return room.status();
  send_ok(res, {{"room", codec::to_json(*room)}});
  return Status::ok();
}

Status leave(RouteContext& context, chat::ChatService& chat, const Session& session,
             const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  auto room = call_chat<chat::RoomView>(
      context, [&](auto done) { chat.leave(session.who, *name, std::move(done)); });
  if (!room) return room.status();
  send_ok(res, {{"room", codec::to_json(*room)}});
  return Status::ok();
}

Status history(RouteContext& context, chat::ChatService& chat, const Session& session,
               const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  uint64_t before = 0;
  if (req.has_param("before")) {
    auto parsed = parse_u64(req.get_param_value("before"), "before");
    if (!parsed) return parsed.status();
    before = *parsed;
  }
  auto limit = parse_limit(req.get_param_value("limit"), context.options.history_page_default,
                           kMaxHistoryPage);
  if (!limit) return limit.status();
  auto page = call_chat<chat::HistoryView>(context, [&](auto done) {
    chat.history(session.who, *name, before, *limit, std::move(done));
  });
  if (!page) return page.status();
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& message : page->messages) messages.push_back(codec::to_json(message));
  nlohmann::json next = nullptr;
  if (page->next_before_id != 0) next = page->next_before_id;
  send_ok(res, {{"room", *name}, {"messages", std::move(messages)}, {"next_before", next}});
  return Status::ok();
}

Status post(RouteContext& context, chat::ChatService& chat, const Session& session,
            const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  auto body = object_body(context, req);
  if (!body) return body.status();
  auto text = string_member(*body, "text");
  if (!text) return text.status();
  auto client_msg_id = string_member(*body, "client_msg_id", /*required=*/false);
  if (!client_msg_id) return client_msg_id.status();
  auto message = call_chat<chat::MessageView>(context, [&](auto done) {
    chat.post(session.who, *name, *text, *client_msg_id, std::move(done));
  });
  if (!message) return message.status();
  res.set_header("Location", room_path(*name) + "/messages/" + std::to_string(message->id));
  send_ok(res, {{"message", codec::to_json(*message)}}, 201);
  return Status::ok();
}

// PUT (like) or DELETE (unlike) /api/rooms/{room}/messages/{id}/like.
Status like(RouteContext& context, chat::ChatService& chat, const Session& session,
            const httplib::Request& req, httplib::Response& res, bool liked) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  auto id = path_message_id(req, 2);
  if (!id) return id.status();
  auto message = call_chat<chat::MessageView>(context, [&](auto done) {
    if (liked) {
      chat.like(session.who, *name, *id, std::move(done));
    } else {
      chat.unlike(session.who, *name, *id, std::move(done));
    }
  });
  if (!message) return message.status();
  send_ok(res, {{"message", codec::to_json(*message)}});
  return Status::ok();
}

Status delete_message(RouteContext& context, chat::ChatService& chat, const Session& session,
                      const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "room name");
  if (!name) return name.status();
  auto id = path_message_id(req, 2);
  if (!id) return id.status();
  auto ack = call_chat<chat::Ack>(
      context, [&](auto done) { chat.delete_message(session.who, *name, *id, std::move(done)); });
  if (!ack) return ack.status();
  send_ok(res, {{"room", *name}, {"id", *id}, {"version", ack->version}});
  return Status::ok();
}

template <class Fn>
RouteFn with_session(RouteContext& context, Fn fn) {
  return session_chat_route(
      context,
      [&context, fn](chat::ChatService& chat, const Session& session, const httplib::Request& req,
                     httplib::Response& res) { return fn(context, chat, session, req, res); });
}

}  // namespace

void register_chat_room_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/api/rooms", "GET /api/rooms",
            with_session(context, list_rooms));
  add_route(server, context, Method::kPost, "/api/rooms", "POST /api/rooms",
            with_session(context, create_room));
  add_route(server, context, Method::kGet, "/api/rooms/([^/]+)", "GET /api/rooms/{room}",
            with_session(context, get_room));
  add_route(server, context, Method::kPost, "/api/rooms/([^/]+)/members",
            "POST /api/rooms/{room}/members", with_session(context, join));
  add_route(server, context, Method::kDelete, "/api/rooms/([^/]+)/members/me",
            "DELETE /api/rooms/{room}/members/me", with_session(context, leave));
  add_route(server, context, Method::kGet, "/api/rooms/([^/]+)/messages",
            "GET /api/rooms/{room}/messages", with_session(context, history));
  add_route(server, context, Method::kPost, "/api/rooms/([^/]+)/messages",
            "POST /api/rooms/{room}/messages", with_session(context, post));
  add_route(server, context, Method::kPut, "/api/rooms/([^/]+)/messages/([^/]+)/like",
            "PUT /api/rooms/{room}/messages/{id}/like",
            with_session(context, [](RouteContext& c, chat::ChatService& chat, const Session& s,
                                     const httplib::Request& req, httplib::Response& res) {
              return like(c, chat, s, req, res, /*liked=*/true);
            }));
  add_route(server, context, Method::kDelete, "/api/rooms/([^/]+)/messages/([^/]+)/like",
            "DELETE /api/rooms/{room}/messages/{id}/like",
            with_session(context, [](RouteContext& c, chat::ChatService& chat, const Session& s,
                                     const httplib::Request& req, httplib::Response& res) {
              return like(c, chat, s, req, res, /*liked=*/false);
            }));
  add_route(server, context, Method::kDelete, "/api/rooms/([^/]+)/messages/([^/]+)",
            "DELETE /api/rooms/{room}/messages/{id}", with_session(context, delete_message));
}

}  // namespace gh::http
