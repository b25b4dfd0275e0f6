// A complete HTTP/1.1 error answer as bytes, for refusals made before httplib has read the
// request (the connection gate): the usual JSON error body, `Connection: close`, and
// `Retry-After` when given. Pure; thread-safe.
#pragma once

#include <string>

#include "events/status.h"

namespace gh::http {

// "HTTP/1.1 <status> <reason>\r\n...\r\n\r\n{"ok":false,"error":{...}}"; `retry_after_s` > 0
// adds Retry-After.
std::string raw_error_response(int status, const Status& error, int retry_after_s = 0);

}  // namespace gh::http
