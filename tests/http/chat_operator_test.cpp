// Operator sessions on the device routes: every route that takes an API token also takes the
// session of a user with the role `operator`, whose name the audit trail then shows; any
// other user's session is 403 and writes nothing.
#include "tests/http/chat_fixture.h"

namespace gh::http::testing {
namespace {

class ChatOperatorTest : public ChatHttpTest {
 protected:
  void SetUp() override {
    ChatHttpTest::SetUp();
    if (HasFatalFailure()) return;
    start();
  }
  // The operator's session token, logged in as a script does (no cookie).
  std::string login_token() { return login(kOperator, kOperatorPassword); }
};

TEST_F(ChatOperatorTest, OperatorSessionCommandsDevicesAndIsNamedInTheAudit) {
  auto session = post("/api/sessions", {{"name", kOperator}, {"password", kOperatorPassword}});
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 201) << session->body;
  EXPECT_EQ(body(session)["roles"], json({"operator"}));
  const std::string olga = body(session)["token"];

  auto provisioned =
      post("/devices", {{"id", "door1"}, {"type", "lock"}, {"name", "Front"}}, bearer(olga));
  ASSERT_TRUE(provisioned);
  ASSERT_EQ(provisioned->status, 201) << provisioned->body;
  auto list = client_->Get("/devices", bearer(olga));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_EQ(body(list)["devices"], json({"door1"}));
  auto got = client_->Get("/devices/door1", bearer(olga));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200) << got->body;

  httplib::Headers keyed = bearer(olga);
  keyed.emplace("Idempotency-Key", "olga-1");
  auto locked = client_->Post("/devices/door1/lock", keyed, "", "text/plain");
  ASSERT_TRUE(locked);
  ASSERT_EQ(locked->status, 202) << locked->body;
  auto legacy = client_->Post("/unlock?device=door1", bearer(olga), "", "text/plain");
  ASSERT_TRUE(legacy);
  ASSERT_EQ(legacy->status, 202) << legacy->body;

  auto history = client_->Get("/devices/door1/history", bearer(olga));
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200) << history->body;
  auto entries = body(history)["history"];
  ASSERT_EQ(entries.size(), 2u) << history->body;
  for (const auto& entry : entries) {
    EXPECT_EQ(entry["requested_by"],
              json({{"kind", "user"}, {"name", "olga"}, {"channel", "http"}}))
        << history->body;
  }
  EXPECT_EQ(entries[0]["command_id"], "olga-1");

  // An API token still works beside sessions.
  auto by_token = client_->Get("/devices/door1", bearer(kApiSecret));
  ASSERT_TRUE(by_token);
  EXPECT_EQ(by_token->status, 200) << by_token->body;

  // A picture that does not exist: the operator gets past authorization to the 404.
  expect_error(client_->Get("/pictures/0123456789abcdef0123456789abcdef", bearer(olga)), 404,
               "not_found");

  // When the session ends, so does the access.
  auto logout = client_->Delete("/api/sessions/current", bearer(olga));
  ASSERT_TRUE(logout);
  ASSERT_EQ(logout->status, 200) << logout->body;
  expect_error(client_->Get("/devices", bearer(olga)), 401, "unauthenticated");
}

TEST_F(ChatOperatorTest, OtherSessionsAre403AndUnknownBearersAre401) {
  auto provisioned = post("/devices", {{"id", "door1"}, {"type", "lock"}}, bearer(kApiSecret));
  ASSERT_TRUE(provisioned);
  ASSERT_EQ(provisioned->status, 201) << provisioned->body;
  const std::string alice = user_session("alice");
  const auto before = journal_->last_position();

  std::vector<httplib::Result> refused;
  refused.push_back(client_->Get("/devices", bearer(alice)));
  refused.push_back(post("/devices", {{"id", "door2"}, {"type", "lock"}}, bearer(alice)));
  refused.push_back(client_->Get("/devices/door1", bearer(alice)));
  refused.push_back(client_->Get("/devices/door1/history", bearer(alice)));
  refused.push_back(client_->Post("/devices/door1/lock", bearer(alice), "", "text/plain"));
  refused.push_back(client_->Post("/devices/door1/unlock", bearer(alice), "", "text/plain"));
  refused.push_back(client_->Post("/lock", bearer(alice), "", "text/plain"));
  refused.push_back(client_->Post("/unlock", bearer(alice), "", "text/plain"));
  refused.push_back(client_->Post("/test", bearer(alice), "lock", "text/plain"));
  refused.push_back(client_->Get("/pictures/0123456789abcdef0123456789abcdef", bearer(alice)));
  refused.push_back(client_->Get("/get_pic?id=0123456789abcdef0123456789abcdef", bearer(alice)));
  refused.push_back(client_->Get("/api/alerts", bearer(alice)));
  refused.push_back(client_->Get("/devices/door1/timeline", bearer(alice)));
  refused.push_back(
      client_->Post("/devices/door1/alerts/a1/review", bearer(alice), "", "text/plain"));
  for (const auto& result : refused) {
    expect_error(result, 403, "permission_denied");
    EXPECT_NE(body(result)["error"]["message"].get<std::string>().find("operator"),
              std::string::npos)
        << result->body;
  }

  for (const char* secret : {"alice.0123", "nobody", "olga.ffff"}) {
    expect_error(client_->Get("/devices", bearer(secret)), 401, "unauthenticated");
    expect_error(client_->Post("/devices/door1/lock", bearer(secret), "", "text/plain"), 401,
                 "unauthenticated");
    expect_error(client_->Post("/devices/door1/alerts/a1/review", bearer(secret), "", "text/plain"),
                 401, "unauthenticated");
  }
  EXPECT_EQ(journal_->last_position(), before);
}

// The console's session (issue 13): a login asking for a cookie gets an HttpOnly,
// SameSite=Strict cookie and no token in the answer; the cookie alone reads, and changes state
// only with the session's X-CSRF-Token (a forged request without it writes nothing); GET
// /api/me tells the page its CSRF token again after a reload; logging out everywhere ends the
// browser's and the script's sessions alike.
TEST_F(ChatOperatorTest, CookieSessionsNeedTheCsrfTokenToChangeState) {
  auto provisioned = post("/devices", {{"id", "door1"}, {"type", "lock"}}, bearer(kApiSecret));
  ASSERT_TRUE(provisioned);
  ASSERT_EQ(provisioned->status, 201) << provisioned->body;
  auto login = post("/api/sessions",
                    {{"name", kOperator}, {"password", kOperatorPassword}, {"cookie", true}});
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 201) << login->body;
  EXPECT_FALSE(body(login).contains("token")) << login->body;
  const std::string set_cookie = login->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("Max-Age="), std::string::npos) << set_cookie;
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "plain http: " << set_cookie;
  ASSERT_EQ(set_cookie.rfind("gh_session=", 0), 0u) << set_cookie;
  const std::string token = set_cookie.substr(11, set_cookie.find(';') - 11);
  const std::string csrf = body(login)["csrf"];
  const httplib::Headers cookie = {{"Cookie", "theme=dark; gh_session=" + token}};

  auto me = client_->Get("/api/me", cookie);
  ASSERT_TRUE(me);
  ASSERT_EQ(me->status, 200) << me->body;
  EXPECT_EQ(body(me)["session"]["csrf"], csrf);
  auto list = client_->Get("/devices", cookie);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200) << list->body;

  const auto before = journal_->last_position();
  expect_error(client_->Post("/devices/door1/lock", cookie, "", "text/plain"), 403,
               "permission_denied");
  httplib::Headers forged = cookie;
  forged.emplace("X-CSRF-Token", std::string(64, '0'));
  expect_error(client_->Post("/devices/door1/lock", forged, "", "text/plain"), 403,
               "permission_denied");
  expect_error(client_->Delete("/api/sessions/current", cookie), 403, "permission_denied");
  EXPECT_EQ(journal_->last_position(), before);

  httplib::Headers with_csrf = cookie;
  with_csrf.emplace("X-CSRF-Token", csrf);
  auto locked = client_->Post("/devices/door1/lock", with_csrf, "", "text/plain");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 202) << locked->body;

  // A script's session of the same user ends too when the browser logs out everywhere.
  const std::string script = login_token();
  auto everywhere = client_->Delete("/api/sessions", with_csrf);
  ASSERT_TRUE(everywhere);
  ASSERT_EQ(everywhere->status, 200) << everywhere->body;
  EXPECT_NE(everywhere->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  expect_error(client_->Get("/api/me", cookie), 401, "unauthenticated");
  expect_error(client_->Get("/api/me", bearer(script)), 401, "unauthenticated");
}

}  // namespace
}  // namespace gh::http::testing
