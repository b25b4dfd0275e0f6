// Serving an SseStream (sse_hub.h) as an HTTP response: the parts every live route shares.
// Internal to adapters/http. Thread-safety: stateless helpers; the provider runs on the
// request's worker thread.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/route_context.h"
#include "adapters/http/sse_hub.h"

namespace gh::http {

// The bearer secret of a stream request: `Authorization: Bearer`, else ?token= (a browser's
// EventSource cannot set headers), else the session cookie (session_cookie.h). Empty when
// none is given.
std::string stream_secret(const httplib::Request& req);

// The first frames of every stream: "retry: 3000" (how long a browser waits before it
// reconnects) and a `ready` event with `ready_data`, queued once the subscription exists, so
// that a client loading state after `ready` misses no update.
std::string stream_preamble(const nlohmann::json& ready_data);

// Answers a refused subscription (SseHub::subscribe()'s error) with Retry-After: 429 when the
// caller holds its maximum of streams (counted as a refusal), else the error's own status.
// Returns ok when it wrote the answer, else the error for the route to answer.
Status refuse_stream(const RouteContext& context, httplib::Response& res, const Status& refused);

// Answers 200 text/event-stream (no caching, no proxy buffering) and serves `stream`: its
// frames as they come, a comment every context.options.event_heartbeat while idle, the final
// `end` frame, then the end of the response. When `session_token` is not empty the stream
// belongs to a chat session: it is checked again at each heartbeat and the stream ends with
// "session_ended" once the session has expired or been logged out.
void serve_stream(const RouteContext& context, httplib::Response& res,
                  std::shared_ptr<SseStream> stream, std::string session_token);

}  // namespace gh::http
