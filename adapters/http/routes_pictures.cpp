// Stranger pictures. The bytes are immutable and named by their content hash, so the id is
// a strong ETag and clients may cache them for good; If-None-Match saves the transfer.
// A picture dropped by its door's quota or the retention answers 404 not_found, with or
// without If-None-Match: the store is asked first.
#include <string_view>

#include "adapters/codec/image_type.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "events/stream_name.h"

namespace gh::http {
namespace {

// True when the If-None-Match header value names `etag` (a quoted id) or is "*".
// Weak validators (W/"...") match too: the comparison for GET is the weak one (RFC 9110).
bool etag_matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

// A signed URL (expires & sig), a bearer token or an operator's session. A URL that carries a
// signature is judged by it alone: a bad or expired one is 403 even if a token was sent too, so
// mistakes show.
Status authorize(const RouteContext& context, const httplib::Request& req,
                 const std::string& picture_id) {
  if (req.has_param("sig") || req.has_param("expires")) {
    return context.signer.verify(picture_id, req.get_param_value("expires"),
                                 req.get_param_value("sig"), context.now_ms() / 1000);
  }
  auto caller = require_operator_caller(context, req);
  return caller ? Status::ok() : caller.status();
}

}  // namespace

Status serve_picture(const RouteContext& context, const httplib::Request& req,
                     httplib::Response& res, const std::string& picture_id) {
  GH_RETURN_IF_ERROR(validate_id(picture_id, "picture id"));
  GH_RETURN_IF_ERROR(authorize(context, req, picture_id));
  auto bytes = context.devices.picture(picture_id);
  if (!bytes) return bytes.status();
  const std::string etag = "\"" + picture_id + "\"";
  if (etag_matches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;
    res.set_header("ETag", etag);
    return Status::ok();
  }
  auto type = codec::detect_image_type(*bytes);
  res.status = 200;
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "private, max-age=31536000, immutable");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(std::move(*bytes),
                  std::string(type ? *type : std::string_view("application/octet-stream")));
  return Status::ok();
}

void register_picture_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/pictures/([^/]+)", "GET /pictures/{id}",
            [&context](const httplib::Request& req, httplib::Response& res) {
              return serve_picture(context, req, res, req.matches[1]);
            });
}

}  // namespace gh::http
