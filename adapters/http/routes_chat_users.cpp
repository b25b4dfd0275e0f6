// Users and sessions: register, log in and out, who am I, change the password, the security
// question and the password reset it allows. Register, login, the question and the reset
// are open (they are how one gets a session); the rest need the session.
//
// Statuses beyond the one table: a wrong password at login or a wrong answer at a reset is
// 401 (bad credentials, as the service says: the same answer for an unknown user, and for a
// reset also for a user without a question); a wrong current password when changing it is
// 403, because the session itself is fine and a 401 would tell the client to drop it. An
// attempt refused by the throttle (per address, per account, back-off per both) is 429
// with Retry-After. There is no locked account.
#include "actors/user/user_rules.h"
#include "adapters/codec/chat_json.h"
#include "adapters/codec/iso_time.h"
#include "adapters/http/reply.h"
#include "adapters/http/routes_chat.h"
#include "adapters/http/session_cookie.h"

namespace gh::http {
namespace {

// {"name","password"} of a registration or login body.
struct Credentials {
  std::string name;
  std::string password;
  bool cookie = false;  // login: keep the session in an HttpOnly cookie (session_cookie.h)
};

Result<Credentials> credentials(const RouteContext& context, const httplib::Request& req) {
  auto body = object_body(context, req);
  if (!body) return body.status();
  auto name = string_member(*body, "name");
  if (!name) return name.status();
  auto password = string_member(*body, "password");
  if (!password) return password.status();
  bool cookie = false;
  if (auto it = body->find("cookie"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean()) return invalid_argument("cookie must be true or false");
    cookie = it->get<bool>();
  }
  return Credentials{std::move(*name), std::move(*password), cookie};
}

Status register_user(RouteContext& context, chat::ChatService& chat, const httplib::Request& req,
                     httplib::Response& res) {
  auto given = credentials(context, req);
  if (!given) return given.status();
  auto user = call_chat<chat::UserView>(context, [&](auto done) {
    chat.register_user(given->name, given->password, http_caller(req), std::move(done));
  });
  if (!user) return user.status();
  send_ok(res, {{"user", codec::to_json(*user)}}, 201);
  return Status::ok();
}

Status login(RouteContext& context, chat::ChatService& chat, const httplib::Request& req,
             httplib::Response& res) {
  auto given = credentials(context, req);
  if (!given) return given.status();
  auto session = call_chat<chat::LoginResult>(context, [&](auto done) {
    chat.login(given->name, given->password, http_caller(req), std::move(done));
  });
  if (!session) return session.status();
  res.set_header("Cache-Control", "no-store");  // the answer holds a credential
  nlohmann::json answer = {{"user", session->user},
                           {"expires_at", codec::iso8601_or_null(session->expires_at_ms)},
                           {"roles", session->roles},
                           {"csrf", csrf_token(session->token)}};
  if (context.chat_broker_password) {
    if (auto password = context.chat_broker_password(session->user, session->expires_at_ms);
        !password.empty())
      answer["mqtt_password"] = std::move(password);
  }
  if (given->cookie) {
    // The token goes only into the HttpOnly cookie: no script of the page can read it.
    const int64_t max_age_s = (session->expires_at_ms - context.now_ms()) / 1000;
    res.set_header("Set-Cookie", session_cookie(session->token, max_age_s,
                                                cookie_secure(context.options.public_base_url)));
  } else {
    answer["token"] = session->token;
  }
  send_ok(res, std::move(answer), 201);
  return Status::ok();
}

Status logout(RouteContext& context, chat::ChatService& chat, const Session& session,
              const httplib::Request&, httplib::Response& res) {
  auto ack = call_chat<chat::Ack>(context,
                                  [&](auto done) { chat.logout(session.token, std::move(done)); });
  if (!ack) return ack.status();
  res.set_header("Set-Cookie",
                 cleared_session_cookie(cookie_secure(context.options.public_base_url)));
  send_ok(res);
  return Status::ok();
}

// Ends every session of the caller's user: every browser and script logged in as them.
Status logout_everywhere(RouteContext& context, chat::ChatService& chat, const Session& session,
                         const httplib::Request&, httplib::Response& res) {
  auto ack = call_chat<chat::Ack>(
      context, [&](auto done) { chat.logout_everywhere(session.token, std::move(done)); });
  if (!ack) return ack.status();
  res.set_header("Set-Cookie",
                 cleared_session_cookie(cookie_secure(context.options.public_base_url)));
  send_ok(res);
  return Status::ok();
}

Status me(RouteContext& context, chat::ChatService& chat, const Session& session,
          const httplib::Request&, httplib::Response& res) {
  auto user = call_chat<chat::UserView>(
      context, [&](auto done) { chat.get_user(session.who.user, std::move(done)); });
  if (!user) return user.status();
  send_ok(res, {{"user", codec::to_json(*user)},
                {"session",
                 {{"expires_at", codec::iso8601_or_null(session.who.session_expires_at_ms)},
                  {"csrf", csrf_token(session.token)}}}});
  return Status::ok();
}

Status change_password(RouteContext& context, chat::ChatService& chat, const Session& session,
                       const httplib::Request& req, httplib::Response& res) {
  auto body = object_body(context, req);
  if (!body) return body.status();
  auto old_password = string_member(*body, "old_password");
  if (!old_password) return old_password.status();
  auto new_password = string_member(*body, "new_password");
  if (!new_password) return new_password.status();
  auto ack = call_chat<chat::Ack>(context, [&](auto done) {
    chat.change_password(session.token, *old_password, *new_password, http_caller(req),
                         std::move(done));
  });
  if (!ack) return ack.status();
  send_ok(res);
  return Status::ok();
}

// Setting the question needs the password too: the question opens a password reset, so a
// stolen session alone must not be able to set one and take the account over.
Status set_security_question(RouteContext& context, chat::ChatService& chat, const Session& session,
                             const httplib::Request& req, httplib::Response& res) {
  auto body = object_body(context, req);
  if (!body) return body.status();
  auto question = string_member(*body, "question");
  if (!question) return question.status();
  auto answer = string_member(*body, "answer");
  if (!answer) return answer.status();
  auto password = string_member(*body, "password");
  if (!password) return password.status();
  auto ack = call_chat<chat::Ack>(context, [&](auto done) {
    chat.set_own_security_question(session.token, *password, *question, *answer, http_caller(req),
                                   std::move(done));
  });
  if (!ack) return ack.status();
  send_ok(res);
  return Status::ok();
}

Status security_question(RouteContext& context, chat::ChatService& chat,
                         const httplib::Request& req, httplib::Response& res) {
  auto name = path_name(req, 1, "user name");
  if (!name) return name.status();
  auto question = call_chat<std::string>(
      context, [&](auto done) { chat.security_question(*name, std::move(done)); });
  if (!question) return question.status();
  send_ok(res, {{"user", *name}, {"question", *question}});
  return Status::ok();
}

Status reset_password(RouteContext& context, chat::ChatService& chat, const httplib::Request& req,
                      httplib::Response& res) {
  auto name = path_name(req, 1, "user name");
  if (!name) return name.status();
  auto body = object_body(context, req);
  if (!body) return body.status();
  auto answer = string_member(*body, "answer");
  if (!answer) return answer.status();
  auto new_password = string_member(*body, "new_password");
  if (!new_password) return new_password.status();
  auto ack = call_chat<chat::Ack>(context, [&](auto done) {
    chat.reset_password(*name, *answer, *new_password, http_caller(req), std::move(done));
  });
  if (!ack) return ack.status();
  send_ok(res);
  return Status::ok();
}

// Binds a handler to the context.
template <class Fn>
auto open(RouteContext& context, Fn fn) {
  return open_chat_route(
      context, [&context, fn](chat::ChatService& chat, const httplib::Request& req,
                              httplib::Response& res) { return fn(context, chat, req, res); });
}

template <class Fn>
auto with_session(RouteContext& context, Fn fn) {
  return session_chat_route(
      context,
      [&context, fn](chat::ChatService& chat, const Session& session, const httplib::Request& req,
                     httplib::Response& res) { return fn(context, chat, session, req, res); });
}

}  // namespace

void register_chat_user_routes(httplib::Server& server, RouteContext& context) {
  add_route(server, context, Method::kPost, "/api/users", "POST /api/users",
            open(context, register_user));
  add_route(server, context, Method::kPost, "/api/sessions", "POST /api/sessions",
            open(context, login));
  add_route(server, context, Method::kDelete, "/api/sessions/current",
            "DELETE /api/sessions/current", with_session(context, logout));
  add_route(server, context, Method::kDelete, "/api/sessions", "DELETE /api/sessions",
            with_session(context, logout_everywhere));
  add_route(server, context, Method::kGet, "/api/me", "GET /api/me", with_session(context, me));
  add_route(server, context, Method::kPost, "/api/me/password", "POST /api/me/password",
            with_session(context, change_password));
  add_route(server, context, Method::kPut, "/api/me/security-question",
            "PUT /api/me/security-question", with_session(context, set_security_question));
  add_route(server, context, Method::kGet, "/api/users/([^/]+)/security-question",
            "GET /api/users/{name}/security-question", open(context, security_question));
  add_route(server, context, Method::kPost, "/api/users/([^/]+)/password-reset",
            "POST /api/users/{name}/password-reset", open(context, reset_password));
}

}  // namespace gh::http
