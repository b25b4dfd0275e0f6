// Cluster mode's HTTP forwarding (docs/cluster.md, "HTTP forwarding"): a request about one
// entity that another node serves is sent to that node and its answer returned as it is.
//
// Nothing is trusted between nodes beyond what any client sends: the caller's own
// credentials (Authorization, the session cookie) go along unchanged and the owner checks
// them as if the caller had come to it directly. The header X-Gatehouse-Forwarded-By marks a
// forwarded request, so that it is never forwarded again (it is served or refused there);
// a client that sends it only turns forwarding off for its own request.
// Thread-safety: pure functions, and forward() on the calling worker thread.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>

#include "events/status.h"

namespace gh::http {

inline constexpr char kForwardedByHeader[] = "X-Gatehouse-Forwarded-By";

// The stream a request path is about, "" when none (lists, sessions, event streams):
// /devices/{id}[/...] -> device/{id}; /api/rooms/{name}[/...] -> room/{name};
// /api/users/{name}/... -> user/{name}. Server-Sent Event streams (.../events) are not
// forwarded: "".
std::string stream_of_path(const std::string& path);

// Sends `req` (method, path and query, body, the caller's credentials and content type) to
// `base_url` ("http://10.0.0.1:8080") as node `from`, and writes the answer (status, body,
// content type, Retry-After) into `res`. kUnavailable naming the node when it cannot be
// reached or does not answer within `timeout`.
Status forward(const std::string& base_url, const std::string& from, const httplib::Request& req,
               std::chrono::milliseconds timeout, httplib::Response& res);

}  // namespace gh::http
