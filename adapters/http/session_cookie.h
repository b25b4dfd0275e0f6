// The browser's session: a chat session token in an HttpOnly cookie instead of page memory,
// so that a reload keeps the person logged in while no script can read the token
// (docs/security.md "Browser sessions").
//
// - The cookie is `gh_session=<token>; HttpOnly; SameSite=Strict; Path=/; Max-Age=<until the
//   session expires>`, plus `Secure` when gatehouse is reached over TLS (http.public-url
//   starts with https://): another site can never make the browser send it.
// - A request authenticated by the cookie that changes state (any method but GET and HEAD)
//   must also carry `X-CSRF-Token: csrf_token(token)`. The page learns that value from the
//   login answer or from GET /api/me, which only a same-origin script can read.
// - An `Authorization: Bearer` header always wins: scripts and API tokens work as before.
// Pure functions; thread-safe.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::http {

inline constexpr std::string_view kSessionCookie = "gh_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

// The Set-Cookie value that stores `token` for `max_age_s` seconds.
std::string session_cookie(std::string_view token, int64_t max_age_s, bool secure);
// The Set-Cookie value that deletes the session cookie.
std::string cleared_session_cookie(bool secure);
// True when the cookie must be Secure: `public_base_url` is https.
bool cookie_secure(std::string_view public_base_url);

// The value of cookie `name` in the request's Cookie header(s), or "" when absent.
std::string cookie_value(const httplib::Request& req, std::string_view name);

// The CSRF token of a session: lower-case hex SHA-256 of "gatehouse-csrf:" + token. Only who
// knows the session token (the server, or a page the server told) knows it.
std::string csrf_token(std::string_view session_token);

// The credential a request carries: the bearer secret of its Authorization header, else the
// session cookie. Empty when it has neither. kPermissionDenied when only the cookie is there,
// the method changes state and X-CSRF-Token is missing or wrong.
Result<std::string> request_secret(const httplib::Request& req);

}  // namespace gh::http
