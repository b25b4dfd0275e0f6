#include "adapters/http/reply.h"

#include "adapters/codec/json_reply.h"
#include "adapters/http/auth.h"
#include "adapters/http/http_status.h"

namespace gh::http {

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(codec::to_wire(body), std::string(kJsonType));
}

void send_ok(httplib::Response& res, nlohmann::json fields, int status) {
  send_json(res, status, codec::ok_reply(std::move(fields)));
}

void send_error(httplib::Response& res, const Status& error) {
  int status = http_status(error.code());
  if (status == 401) res.set_header("WWW-Authenticate", std::string(kWwwAuthenticate));
  send_json(res, status, codec::error_reply(error));
}

}  // namespace gh::http
