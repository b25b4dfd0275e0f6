// Chat through the whole server (App) as people use it: register, log in, post, read, like,
// over HTTP; a restart keeps users, sessions, rooms and messages; an operator granted with
// the real gatehousectl (server stopped, as it requires) commands doors with a session.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/app_fixture.h"

namespace gh::server {
namespace {

using nlohmann::json;

class ChatFlow : public AppFixture {
 protected:
  void SetUp() override {
    AppFixture::SetUp();
    start();
  }
  void register_user(const std::string& name) {
    auto answer = call("POST", "/api/users", {}, {{"name", name}, {"password", "correct horse"}});
    ASSERT_EQ(answer.status, 201) << answer.body.dump();
  }
  std::string login(const std::string& name) {
    auto answer =
        call("POST", "/api/sessions", {}, {{"name", name}, {"password", "correct horse"}});
    EXPECT_EQ(answer.status, 201) << answer.body.dump();
    return answer.body.value("token", "");
  }
};

TEST_F(ChatFlow, TwoPeoplePostReadAndLikeAndARestartKeepsEverything) {
  register_user("alice");
  register_user("bob");
  auto alice = login("alice");
  auto bob = login("bob");
  ASSERT_FALSE(alice.empty());
  ASSERT_FALSE(bob.empty());

  ASSERT_EQ(call("POST", "/api/rooms", bearer(alice), {{"name", "garden"}}).status, 201);
  ASSERT_EQ(call("POST", "/api/rooms/garden/members", bearer(bob)).status, 200);
  auto posted =
      call("POST", "/api/rooms/garden/messages", bearer(alice), {{"text", "tomatoes are ripe"}});
  ASSERT_EQ(posted.status, 201) << posted.body.dump();
  auto id = posted.body["message"]["id"].get<uint64_t>();
  auto liked =
      call("PUT", "/api/rooms/garden/messages/" + std::to_string(id) + "/like", bearer(bob));
  ASSERT_EQ(liked.status, 200) << liked.body.dump();
  EXPECT_EQ(liked.body["message"]["like_count"], 1);

  restart();

  // The sessions survive the restart: they are in the log, not in memory.
  auto page = call("GET", "/api/rooms/garden/messages", bearer(bob));
  ASSERT_EQ(page.status, 200) << page.body.dump();
  ASSERT_EQ(page.body["messages"].size(), 1u);
  EXPECT_EQ(page.body["messages"][0]["text"], "tomatoes are ripe");
  EXPECT_EQ(page.body["messages"][0]["author"], "alice");
  EXPECT_EQ(page.body["messages"][0]["like_count"], 1);
  EXPECT_EQ(page.body["messages"][0]["liked_by_viewer"], true);
  auto room = call("GET", "/api/rooms/garden", bearer(alice));
  ASSERT_EQ(room.status, 200) << room.body.dump();
  EXPECT_EQ(room.body["room"]["members"], json::array({"alice", "bob"}));
  EXPECT_EQ(call("POST", "/api/users", {}, {{"name", "alice"}, {"password", "another one"}}).status,
            409)
      << "a registered name stays taken after a restart";
}

TEST_F(ChatFlow, AnOperatorGrantedWithGatehousectlCommandsDoorsWithASession) {
  register_user("olga");
  register_user("pete");
  // A device to command: provisioned with the API token.
  auto provisioned = call("POST", "/devices", bearer(kApiToken), {{"id", "door1"}});
  ASSERT_EQ(provisioned.status, 201) << provisioned.body.dump();

  auto pete = login("pete");
  EXPECT_EQ(call("POST", "/devices/door1/lock", bearer(pete)).status, 403)
      << "a session without the operator role may not command doors";

  stop();
  ASSERT_EQ(gatehousectl("user grant olga operator --as root"), 0);
  start();

  auto olga = login("olga");
  auto locked = call("POST", "/devices/door1/lock", bearer(olga));
  EXPECT_TRUE(locked.status == 200 || locked.status == 202) << locked.body.dump();
  auto history = call("GET", "/devices/door1/history", bearer(olga));
  ASSERT_EQ(history.status, 200) << history.body.dump();
  ASSERT_EQ(history.body["history"].size(), 1u);
  EXPECT_EQ(history.body["history"][0]["requested_by"]["name"], "olga");
}

TEST_F(ChatFlow, RefusalsGetTheRightStatusAndPostNothing) {
  register_user("alice");
  auto alice = login("alice");
  EXPECT_EQ(call("POST", "/api/users", {}, {{"name", "bob"}, {"password", "short"}}).status, 400);
  EXPECT_EQ(
      call("POST", "/api/sessions", {}, {{"name", "alice"}, {"password", "wrong horse"}}).status,
      401);
  EXPECT_EQ(
      call("POST", "/api/rooms/lobby/messages", bearer("alice.0000"), {{"text", "hi"}}).status,
      401);
  EXPECT_EQ(call("POST", "/api/rooms/lobby/messages", bearer(alice),
                 {{"text", std::string(config_->chat_max_text + 1, 'x')}})
                .status,
            413);
  auto page = call("GET", "/api/rooms/lobby/messages", bearer(alice));
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(page.body["messages"].empty());
}

// The same chat over MQTT through the whole server: an answer in the client's inbox, the
// post live on the room's events topic and in the HTTP history; the seed's topics are off
// unless `legacy` is on.
TEST_F(ChatFlow, MqttChatAnswersInTheInboxAndPublishesRoomEvents) {
  register_user("alice");
  auto alice = login("alice");
  mqtt_test::TestClient client(app_->info().broker_url, "alice-phone");
  // The session token is alice's MQTT password: anonymous clients may only log in. The
  // broker learns of the session a moment after the login answered.
  ASSERT_TRUE(mqtt_test::eventually([&] { return client.connect("alice", alice); }));
  ASSERT_TRUE(client.subscribe("gatehouse/inbox/alice-phone/#"));
  ASSERT_TRUE(client.subscribe("gatehouse/rooms/lobby/events"));
  // With legacy off the broker grants no subscription outside gatehouse's topics.
  EXPECT_FALSE(client.subscribe_granted("legacy-reply"));
  json request = {{"id", 7},
                  {"reply_to", "gatehouse/inbox/alice-phone/replies"},
                  {"token", alice},
                  {"room", "lobby"},
                  {"text", "over the broker"}};
  ASSERT_TRUE(client.publish("gatehouse/chat/post", request.dump()));
  auto reply = client.wait_for("gatehouse/inbox/alice-phone/replies");
  ASSERT_TRUE(reply);
  auto answer = json::parse(reply->payload, nullptr, false);
  EXPECT_EQ(answer["ok"], true) << reply->payload;
  EXPECT_EQ(answer["id"], 7);
  auto event = client.wait_for("gatehouse/rooms/lobby/events");
  ASSERT_TRUE(event);
  EXPECT_EQ(json::parse(event->payload, nullptr, false)["message"]["text"], "over the broker");
  auto page = call("GET", "/api/rooms/lobby/messages", bearer(alice));
  ASSERT_EQ(page.body["messages"].size(), 1u);

  // legacy is off by default: the seed's topics get no answer and post nothing.
  ASSERT_TRUE(client.publish(
      "chatsend", "{'userName': 'alice', 'message': 'legacy', 'returnTopic': 'legacy-reply'}"));
  EXPECT_FALSE(client.wait_for("legacy-reply", nullptr, std::chrono::milliseconds(500)));
  EXPECT_EQ(call("GET", "/api/rooms/lobby/messages", bearer(alice)).body["messages"].size(), 1u);
}

TEST_F(ChatFlow, LegacyOnServesTheSeedTopics) {
  stop();
  configure = [](Config& c) { c.legacy = "on"; };
  start();
  mqtt_test::TestClient client(app_->info().broker_url, "seed-client");
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(client.subscribe("carolregister"));
  ASSERT_TRUE(client.publish(
      "register",
      "{'userName': 'carol', 'userPwd': 'correct horse', 'returnTopic': 'carolregister'}"));
  auto reply = client.wait_for("carolregister");
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->payload.find("'code': 1"), std::string::npos) << reply->payload;
  EXPECT_FALSE(login("carol").empty()) << "registered through the seed's topic";
}

// Issue 9 through the whole server with `legacy` on (its broker enforcing the access rules,
// anonymous clients from this machine allowed as by default): the seed chat's own client
// classes, unchanged, still register, log in, chat, like and reset a password over the seed's
// topics; and the takeover is refused: the legacy `set_security_question` sets no question
// for a user registered over HTTP nor for an operator, the reset that would follow fails, and
// their passwords still work.
TEST_F(ChatFlow, TheSeedsClientsStillWorkAndCannotTakeOverOthers) {
  stop();
  configure = [](Config& c) { c.legacy = "on"; };
  start();
  const std::string python = "/usr/bin/python3";
  if (std::system((python + " -c 'import paho.mqtt.client' 2>/dev/null").c_str()) != 0)
    GTEST_SKIP() << "no python3 with paho.mqtt (Debian: python3-paho-mqtt, as scripts/setup)";

  register_user("alice");  // over HTTP
  register_user("olga");
  stop();
  ASSERT_EQ(gatehousectl("user grant olga operator --as root"), 0);
  start();

  const std::string url = app_->info().broker_url;  // tcp://host:port
  const auto colon = url.rfind(':');
  const std::string host = url.substr(6, colon - 6), port = url.substr(colon + 1);
  const std::string out_file = (dir_ / "driver.out").string();
  const std::string command = "cd " + std::string(GH_SOURCE_DIR) +
                              "/tests/mqtt/seed_clients && HOST=" + host + " PORT=" + port +
                              " PYTHONDONTWRITEBYTECODE=1 WAIT_SECONDS=60 timeout 280 " + python +
                              " driver.py > " + out_file + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream out_stream(out_file);
  const std::string out((std::istreambuf_iterator<char>(out_stream)),
                        std::istreambuf_iterator<char>());
  auto at = out.rfind("RESULT ");
  ASSERT_NE(at, std::string::npos) << out;
  json r = json::parse(out.substr(at + 7), nullptr, false);
  ASSERT_TRUE(r.is_object()) << out;
  SCOPED_TRACE(r.dump(1));
  EXPECT_EQ(r["register"]["code"], 1);
  EXPECT_EQ(r["login"]["code"], 1);
  EXPECT_EQ(r["send"]["code"], 1);
  ASSERT_TRUE(r["chatall"].is_array());
  EXPECT_EQ(r["chatall"].size(), 1u);
  EXPECT_EQ(r["like"]["code"], 1);
  EXPECT_EQ(r["set_question"]["code"], 1);
  EXPECT_EQ(r["reset"]["code"], 1);
  EXPECT_EQ(r["login_new"]["code"], 1);
  EXPECT_EQ(r["login_old"]["code"], 0);
  EXPECT_EQ(r["plain_chatall"], r["chatall"]);

  // The takeover, as an anonymous client on the seed's topics.
  mqtt_test::TestClient evil(url, "evil-5b0c9a1e77d2");
  ASSERT_TRUE(evil.connect());
  ASSERT_TRUE(evil.subscribe_granted("evilanswer"));
  auto ask = [&](const std::string& topic, const std::string& payload) {
    const size_t n = evil.messages_on("evilanswer").size();
    EXPECT_TRUE(evil.publish(topic, payload));
    std::string reply;
    EXPECT_TRUE(mqtt_test::eventually([&] {
      auto all = evil.messages_on("evilanswer");
      if (all.size() <= n) return false;
      reply = all[n].payload;
      return true;
    })) << topic;
    return reply;
  };
  for (const std::string victim : {"alice", "olga"}) {
    const std::string set =
        ask("set_security_question", "{'userName': '" + victim +
                                         "', 'question': 'Mine?', 'answer': 'attacker', "
                                         "'returnTopic': 'evilanswer'}");
    EXPECT_NE(set.find("'code': 0"), std::string::npos) << victim << ": " << set;
    const std::string reset =
        ask("verify_security_answer", "{'userName': '" + victim +
                                          "', 'answer': 'attacker', 'newPassword': 'taken-over', "
                                          "'returnTopic': 'evilanswer'}");
    EXPECT_NE(reset.find("'code': 0"), std::string::npos) << victim << ": " << reset;
    EXPECT_FALSE(login(victim).empty()) << victim << " keeps the account";
    EXPECT_EQ(call("GET", "/api/users/" + victim + "/security-question", {}).status, 404)
        << victim << " still has no question";
  }
}

}  // namespace
}  // namespace gh::server
