#include "adapters/http/raw_response.h"

#include "adapters/codec/json_reply.h"
#include "adapters/http/reply.h"

namespace gh::http {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

std::string raw_error_response(int status, const Status& error, int retry_after_s) {
  const std::string body = codec::to_wire(codec::error_reply(error));
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  out += "Content-Type: ";
  out += kJsonType;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (retry_after_s > 0) out += "Retry-After: " + std::to_string(retry_after_s) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace gh::http
