#include "adapters/http/forwarding.h"

#include <string_view>

namespace gh::http {
namespace {

// The path segment after `prefix` ("/devices/") up to the next '/', "" when there is none.
std::string segment_after(const std::string& path, std::string_view prefix) {
  if (path.compare(0, prefix.size(), prefix) != 0) return "";
  const auto end = path.find('/', prefix.size());
  return path.substr(prefix.size(),
                     end == std::string::npos ? std::string::npos : end - prefix.size());
}

// What the owner reads of a request, besides its method, target and body: the caller's
// identity (token, session cookie and its CSRF token), its Idempotency-Key (a retried lock
// through any node is the same command), and its conditions.
constexpr const char* kRequestHeaders[] = {"Authorization", "Cookie",          "X-CSRF-Token",
                                           "Accept",        "Idempotency-Key", "If-None-Match"};
// What the caller reads of the owner's answer, besides its status and body.
constexpr const char* kAnswerHeaders[] = {"Content-Type",    "Location",    "ETag",
                                          "Cache-Control",   "Retry-After", "Set-Cookie",
                                          "WWW-Authenticate"};

bool ends_with(const std::string& text, std::string_view tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string stream_of_path(const std::string& path) {
  if (ends_with(path, "/events")) return "";
  if (auto id = segment_after(path, "/devices/"); !id.empty()) return "device/" + id;
  if (auto room = segment_after(path, "/api/rooms/"); !room.empty()) return "room/" + room;
  if (auto user = segment_after(path, "/api/users/"); !user.empty()) return "user/" + user;
  return "";
}

Status forward(const std::string& base_url, const std::string& from, const httplib::Request& req,
               std::chrono::milliseconds timeout, httplib::Response& res) {
  httplib::Client client(base_url);
  client.set_tcp_nodelay(true);
  client.set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
                                0);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  httplib::Headers headers{{kForwardedByHeader, from}};
  for (const char* name : kRequestHeaders)
    if (req.has_header(name)) headers.emplace(name, req.get_header_value(name));
  const std::string type = req.get_header_value("Content-Type");
  const std::string target = req.target.empty() ? req.path : req.target;
  httplib::Result answer{nullptr, httplib::Error::Unknown};
  if (req.method == "GET") answer = client.Get(target, headers);
  if (req.method == "DELETE") answer = client.Delete(target, headers, req.body, type);
  if (req.method == "POST") answer = client.Post(target, headers, req.body, type);
  if (req.method == "PUT") answer = client.Put(target, headers, req.body, type);
  if (!answer)
    return unavailable("forwarding to the node serving this entity at " + base_url +
                       " failed: " + httplib::to_string(answer.error()));
  res.status = answer->status;
  res.body = answer->body;
  for (const char* name : kAnswerHeaders)
    if (answer->has_header(name)) res.set_header(name, answer->get_header_value(name));
  return Status::ok();
}

}  // namespace gh::http
