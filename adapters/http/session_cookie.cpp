#include "adapters/http/session_cookie.h"

#include "actors/system/secret.h"
#include "adapters/http/auth.h"

namespace gh::http {

std::string session_cookie(std::string_view token, int64_t max_age_s, bool secure) {
  std::string cookie = std::string(kSessionCookie) + "=" + std::string(token) +
                       "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                       std::to_string(max_age_s > 0 ? max_age_s : 0);
  if (secure) cookie += "; Secure";
  return cookie;
}

std::string cleared_session_cookie(bool secure) { return session_cookie("", 0, secure); }

bool cookie_secure(std::string_view public_base_url) {
  return public_base_url.substr(0, 8) == "https://";
}

std::string cookie_value(const httplib::Request& req, std::string_view name) {
  const size_t count = req.get_header_value_count("Cookie");
  for (size_t i = 0; i < count; ++i) {
    const std::string header = req.get_header_value("Cookie", i);
    std::string_view rest = header;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name)
        return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

std::string csrf_token(std::string_view session_token) {
  return secrets::to_hex(secrets::sha256_of("gatehouse-csrf:" + std::string(session_token)));
}

Result<std::string> request_secret(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  if (auto secret = bearer_secret(header)) return std::string(*secret);
  std::string token = cookie_value(req, kSessionCookie);
  if (token.empty()) return std::string();
  if (req.method != "GET" && req.method != "HEAD") {
    const std::string given = req.get_header_value(std::string(kCsrfHeader).c_str());
    if (!secrets::equal_hashes(given, csrf_token(token)))
      return permission_denied(
          "a request with the session cookie that changes state needs the "
          "session's X-CSRF-Token header");
  }
  return token;
}

}  // namespace gh::http
