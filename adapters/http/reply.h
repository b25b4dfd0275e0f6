// Writing gatehouse's JSON envelope (adapters/codec/json_reply.h) into httplib responses,
// with the HTTP status from the one Status -> HTTP table (http_status.h). Every route
// answers through these, except the picture bytes themselves.
// Pure helpers over the response object; thread-safe.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "events/status.h"

namespace gh::http {

inline constexpr std::string_view kJsonType = "application/json";

// `body` as application/json with `status`.
void send_json(httplib::Response& res, int status, const nlohmann::json& body);
// {"ok":true, ...fields} with `status` (200 unless given).
void send_ok(httplib::Response& res, nlohmann::json fields = nlohmann::json::object(),
             int status = 200);
// {"ok":false,"error":{code,message}} with http_status(error.code()); a 401 also carries
// `WWW-Authenticate: Bearer realm="gatehouse"`.
void send_error(httplib::Response& res, const Status& error);

}  // namespace gh::http
