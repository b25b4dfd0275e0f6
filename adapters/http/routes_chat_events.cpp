// GET /api/rooms/{room}/events: a room's live updates as Server-Sent Events.
//
// A browser's EventSource cannot set headers, so the session token may also come as
// ?token=. The stream shows what the room's history shows: the service's own history check
// (a one-message page) decides whether the caller may watch. Each stream holds a worker
// thread for its whole life (httplib 0.11 is blocking), which is why the adapter adds
// max_event_streams threads to the pool and the hub refuses streams beyond that (503).
//
// The first frames are `retry:` and a `ready` event, sent once the subscription exists: a
// client that loads history after `ready` misses no update (it may see one twice, by
// message id). Then one frame per update, a comment every event_heartbeat while idle (when
// the session is also checked again), and a final `end` event naming why the stream ended.
#include "adapters/http/event_stream.h"
#include "adapters/http/routes_chat.h"
#include "adapters/http/sse_response.h"

namespace gh::http {
namespace {

Status room_events(RouteContext& context, const httplib::Request& req, httplib::Response& res) {
  if (context.chat == nullptr || context.streams == nullptr) {
    res.set_header("Retry-After", "1");
    return unavailable("the chat service is not available");
  }
  if (context.options.max_event_streams == 0) return unavailable("event streams are turned off");
  const std::string token = stream_secret(req);
  if (token.empty()) {
    return unauthenticated("this route needs a session token (Authorization: Bearer or ?token=)");
  }
  auto who = authenticate_session(context, token);
  if (!who) return who.status();
  auto room = path_name(req, 1, "room name");
  if (!room) return room.status();
  auto probe = call_chat<chat::HistoryView>(context, [&](auto done) {
    context.chat->history(*who, *room, /*before_id=*/0, /*limit=*/1, std::move(done));
  });
  if (!probe) return probe.status();

  auto subscription = context.streams->subscribe(
      *room, who->user, stream_preamble({{"room", *room}, {"user", who->user}}));
  if (!subscription) return refuse_stream(context, res, subscription.status());
  serve_stream(context, res, std::move(subscription).value(), token);
  return Status::ok();
}

}  // namespace

void register_chat_event_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/api/rooms/([^/]+)/events",
            "GET /api/rooms/{room}/events",
            [&context](const httplib::Request& req, httplib::Response& res) {
              return room_events(context, req, res);
            });
}

}  // namespace gh::http
