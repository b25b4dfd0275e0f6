#include "adapters/http/sse_response.h"

#include "adapters/http/auth.h"
#include "adapters/http/reply.h"
#include "adapters/http/session_cookie.h"

namespace gh::http {

std::string stream_secret(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  if (auto secret = bearer_secret(header)) return std::string(*secret);
  if (req.has_param("token")) return req.get_param_value("token");
  return cookie_value(req, kSessionCookie);  // a GET: no CSRF token needed
}

std::string stream_preamble(const nlohmann::json& ready_data) {
  return "retry: 3000\n\n" + sse_frame("ready", ready_data);
}

Status refuse_stream(const RouteContext& context, httplib::Response& res, const Status& refused) {
  res.set_header("Retry-After", "5");
  if (refused.code() != Code::kFailedPrecondition) return refused;
  if (context.refusals) context.refusals->count(Refusal::kStreamsPerUser);
  send_error(res, unavailable(refused.message()));
  res.status = 429;
  return Status::ok();
}

void serve_stream(const RouteContext& context, httplib::Response& res,
                  std::shared_ptr<SseStream> stream, std::string session_token) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  res.status = 200;
  res.set_chunked_content_provider(
      "text/event-stream", [&context, stream = std::move(stream), token = std::move(session_token)](
                               size_t, httplib::DataSink& sink) {
        std::string out;
        auto next = stream->next(out, context.options.event_heartbeat);
        if (next == SseStream::Next::kIdle) {
          // Idle: tell the client (and proxies) the stream is alive, and end it when the
          // session has expired or been logged out since.
          out = ": keep-alive\n\n";
          if (!token.empty()) {
            auto still = authenticate_session(context, token);
            if (!still && still.status().code() == Code::kUnauthenticated) {
              stream->end("session_ended");
            }
          }
        }
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;  // client gone
        if (next == SseStream::Next::kEnded) sink.done();
        return true;
      });
}

}  // namespace gh::http
