// The one table that maps gatehouse Status codes to HTTP statuses (STYLE.md "Errors": each
// adapter maps codes to its wire in one table), and back for the statuses httplib produces
// on its own (404 no route, 413 payload too large, 400 unparsable request).
// Pure; thread-safe.
#pragma once

#include "events/status.h"

namespace gh::http {

// 200 for kOk; 400, 401, 403, 404, 409, 413, 500, 503 or 504 for the failures (see the
// table in http_status.cpp and docs/protocol.md "HTTP API").
int http_status(Code code);

// The Code whose HTTP status is `status` for statuses httplib answers without a handler:
// 404 -> kNotFound, 413 -> kTooLarge, 400/414/416 -> kInvalidArgument, 401 ->
// kUnauthenticated, 403 -> kPermissionDenied, 503 -> kUnavailable, 504 -> kTimeout;
// kInternal for anything else.
Code code_for_http_status(int status);

}  // namespace gh::http
