// The web console (adapters/web): GET / answers index.html, GET /web/{file} the other
// embedded files. Open: the files hold no data; everything the console shows comes from the
// API routes, which check the session the page keeps in memory.
//
// Every answer carries a strict Content-Security-Policy (only this origin's scripts,
// styles and connections; pictures also from blob: URLs, which is how the console shows
// stranger pictures it fetched with the operator's session), nosniff, no framing and no
// referrer. Files are revalidated on each load (no-cache with a strong ETag, 304 when it
// matches): names are not fingerprinted, so a new build must never be hidden by a cache.
#include "adapters/http/reply.h"
#include "adapters/http/routes.h"
#include "adapters/web/web_assets.h"

namespace gh::http {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

bool etag_matches(const std::string& if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  return if_none_match.find(etag) != std::string::npos;
}

Status serve_asset(const httplib::Request& req, httplib::Response& res, std::string_view name) {
  const web::Asset* asset = web::find_asset(name);
  if (asset == nullptr) return not_found("no file " + std::string(name) + " in the web console");
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", std::string(asset->etag));
  if (etag_matches(req.get_header_value("If-None-Match"), asset->etag)) {
    res.status = 304;
    return Status::ok();
  }
  res.status = 200;
  res.set_content(asset->bytes.data(), asset->bytes.size(), std::string(asset->content_type));
  return Status::ok();
}

}  // namespace

void register_web_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kGet, "/", "GET /",
            [](const httplib::Request& req, httplib::Response& res) {
              return serve_asset(req, res, "index.html");
            });
  add_route(server, context, Method::kGet, R"(/web/([A-Za-z0-9_-][A-Za-z0-9._-]{0,63}))",
            "GET /web/{file}", [](const httplib::Request& req, httplib::Response& res) {
              return serve_asset(req, res, req.matches[1].str());
            });
}

}  // namespace gh::http
