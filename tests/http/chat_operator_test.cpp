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

}  // namespace
}  // namespace gh::http::testing
