// The chat topics end to end: clients (plain paho, MQTT 5 and 3.1.1) send requests through a
// real mosquitto to our MqttConnection + ChatTopics, backed by the real ChatSystem on a real
// RocksDB journal in a temporary directory. Every op, and every way a request is refused.
#include "adapters/mqtt/chat_topics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "tests/mqtt/chat_test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::ChatClient;
using mqtt_test::ChatMessage;
using mqtt_test::eventually;
using mqtt_test::kWait;
using nlohmann::json;

constexpr const char* kPassword = "correct horse";

// Fields of a reply, or "" when it is not an object with that string member: predicates run
// over every message a client got and must not throw.
std::string member(const ChatMessage& m, const char* name) {
  auto j = m.json();
  if (!j.is_object() || !j.contains(name) || !j[name].is_string()) return "";
  return j[name];
}
bool is_error(const ChatMessage& m) {
  auto j = m.json();
  return j.is_object() && j.value("ok", true) == false;
}

std::string error_code(const json& reply) {
  if (!reply.is_object() || !reply.contains("error")) return "<no error: " + reply.dump() + ">";
  return reply["error"].value("code", "");
}

class ChatTopicsTest : public mqtt_test::ChatServerFixture {
 protected:
  void start() { ChatServerFixture::start(/*chat_topics=*/true, /*legacy=*/false); }

  // Registers `name` and logs in; returns the session token.
  std::string user(ChatClient& c, const std::string& name) {
    auto reg = c.request("register", {{"name", name}, {"password", kPassword}});
    EXPECT_EQ(reg["ok"], true) << reg.dump();
    auto login = c.request("login", {{"name", name}, {"password", kPassword}});
    EXPECT_EQ(login["ok"], true) << login.dump();
    return login.value("token", "");
  }

  uint64_t rejected(ChatRejection r) { return topics_->counters().rejected_of(r); }
};

TEST_F(ChatTopicsTest, RegisterLoginWhoamiLogout) {
  start();
  auto c = client("c1");
  auto reg = c->request("register", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(reg["ok"], true) << reg.dump();
  EXPECT_EQ(reg["op"], "register");
  EXPECT_EQ(reg["user"]["name"], "alice");
  EXPECT_EQ(reg["user"]["has_security_question"], false);

  auto login = c->request("login", {{"name", "alice"}, {"password", kPassword}});
  ASSERT_EQ(login["ok"], true) << login.dump();
  EXPECT_EQ(login["user"], "alice");
  ASSERT_TRUE(login["token"].is_string());
  EXPECT_TRUE(login["expires_at"].is_string());
  const std::string token = login["token"];

  auto me = c->request("whoami", {{"token", token}});
  ASSERT_EQ(me["ok"], true) << me.dump();
  EXPECT_EQ(me["user"]["name"], "alice");
  EXPECT_EQ(me["session"]["expires_at"], login["expires_at"]);

  EXPECT_EQ(c->request("logout", {{"token", token}})["ok"], true);
  auto after = c->request("whoami", {{"token", token}});
  EXPECT_EQ(error_code(after), "unauthenticated") << after.dump();
  EXPECT_EQ(topics_->counters().received_of(ChatOp::kWhoami), 2u);
}

TEST_F(ChatTopicsTest, RegisterRefusals) {
  start();
  auto c = client("c1");
  ASSERT_EQ(c->request("register", {{"name", "alice"}, {"password", kPassword}})["ok"], true);
  EXPECT_EQ(error_code(c->request("register", {{"name", "alice"}, {"password", kPassword}})),
            "already_exists");
  EXPECT_EQ(error_code(c->request("register", {{"name", "bob"}, {"password", "short"}})),
            "invalid_argument");
  EXPECT_EQ(error_code(c->request("register", {{"name", "../x"}, {"password", kPassword}})),
            "invalid_argument");
  auto missing = c->request("register", {{"name", "bob"}});
  EXPECT_EQ(error_code(missing), "invalid_argument");
  EXPECT_NE(missing["error"]["message"].get<std::string>().find("missing field 'password'"),
            std::string::npos)
      << missing.dump();
  auto typed = c->request("register", {{"name", 7}, {"password", kPassword}});
  EXPECT_NE(typed["error"]["message"].get<std::string>().find("'name' must be a string"),
            std::string::npos)
      << typed.dump();
  EXPECT_GE(rejected(ChatRejection::kBadField), 2u);
  EXPECT_GE(rejected(ChatRejection::kServiceRejected), 3u);
}

TEST_F(ChatTopicsTest, WrongPasswordsBackOffTheirClientNotTheOwner) {
  chat_system_options_.throttle = chat::ThrottleOptions{};  // the defaults: 3 free failures
  start();
  auto home = client("home");
  auto evil = client("evil");
  ASSERT_EQ(home->request("register", {{"name", "alice"}, {"password", kPassword}})["ok"], true);
  json wrong;
  for (int i = 0; i < 3; ++i) {
    wrong = evil->request("login", {{"name", "alice"}, {"password", "wrong password"}});
    EXPECT_EQ(error_code(wrong), "unauthenticated") << wrong.dump();
  }
  // The guesser's client waits now, even with the right password; nothing is hashed.
  const uint64_t hashes = chat_->hashes();
  auto refused = evil->request("login", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(error_code(refused), "unavailable") << refused.dump();
  EXPECT_GE(refused["error"].value("retry_after", 0), 1) << refused.dump();
  EXPECT_EQ(chat_->hashes(), hashes);
  // The owner's client is not delayed: no lockout.
  auto ok = home->request("login", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(ok["ok"], true) << ok.dump();
  // An unknown user gets exactly the answer of a wrong password.
  auto unknown = home->request("login", {{"name", "nobody"}, {"password", "wrong password"}});
  EXPECT_EQ(unknown["error"], wrong["error"]) << unknown.dump();
}

TEST_F(ChatTopicsTest, ALoginFloodFromOneClientNeitherFillsTheHashQueueNorDelaysOthers) {
  chat_system_options_.throttle = chat::ThrottleOptions{};  // the defaults: a burst of 10
  // A clock that stands still: no bucket refills while the flood is sent, so exactly the
  // burst gets through however long publishing 1500 requests takes.
  chat_system_options_.clock = [] { return int64_t{1'700'000'000'000}; };
  start();
  auto home = client("home");
  ASSERT_EQ(home->request("register", {{"name", "alice"}, {"password", kPassword}})["ok"], true);
  const uint64_t failures_before = chat_->logins_failed();
  // Hold the one hashing thread: whatever the flood gets past the throttle stays queued, so
  // the queue's depth afterwards is exactly what the flood cost.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(chat_->hasher().submit([released] { released.wait(); }).is_ok());
  auto evil = client("evil");
  constexpr int kFlood = 1500;
  std::vector<std::pair<std::string, std::string>> flood;
  for (int i = 1; i <= kFlood; ++i) {
    json request = {
        {"id", i}, {"reply_to", evil->inbox()}, {"name", "alice"}, {"password", "wrong password"}};
    flood.emplace_back("gatehouse/chat/login", request.dump());
  }
  ASSERT_TRUE(evil->publish_all(flood));
  // Everything past the client's burst is answered at once, while the hasher is held.
  ASSERT_TRUE(eventually([&] { return evil->count() >= kFlood - 10; }))
      << evil->count() << " replies";
  int throttled = 0;
  for (const auto& m : evil->messages()) {
    auto j = m.json();
    if (error_code(j) == "unavailable" && j["error"].value("retry_after", 0) >= 1) throttled++;
  }
  EXPECT_EQ(throttled, kFlood - 10);
  EXPECT_LE(chat_->hash_queue_depth(), 10u) << "the flood did not fill the hash queue";
  EXPECT_EQ(chat_->hashes_refused(), 0u);
  release.set_value();
  // The owner, from another client, still logs in (10 hashes to go; how long it took is
  // printed, not asserted: a slow machine must not fail the test).
  const auto t0 = std::chrono::steady_clock::now();
  auto ok = home->request("login", {{"name", "alice"}, {"password", kPassword}});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(ok["ok"], true) << ok.dump();
  std::printf("[ figures  ] the owner's login beside the flood: %.1f ms\n",
              std::chrono::duration<double, std::milli>(took).count());
  // The log grew by the attempts that were hashed, not by the flood.
  ASSERT_TRUE(eventually([&] { return evil->count() >= kFlood; }));
  size_t failed_events = 0;
  auto stream = journal_->read_stream("user/alice", 1);
  ASSERT_TRUE(stream.is_ok());
  for (const auto& e : *stream) failed_events += e.has_user_login_failed();
  EXPECT_EQ(failed_events, 10u);
  EXPECT_EQ(chat_->logins_failed() - failures_before, static_cast<uint64_t>(kFlood));
}

TEST_F(ChatTopicsTest, SessionOpsNeedAValidToken) {
  start();
  auto c = client("c1");
  auto none = c->request("rooms");
  EXPECT_EQ(error_code(none), "unauthenticated") << none.dump();
  auto wrong = c->request("rooms", {{"token", "alice.0000"}});
  EXPECT_EQ(error_code(wrong), "unauthenticated") << wrong.dump();
  auto garbage = c->request("post", {{"token", "not a token"}, {"room", "lobby"}, {"text", "x"}});
  EXPECT_EQ(error_code(garbage), "unauthenticated") << garbage.dump();
  EXPECT_EQ(error_code(c->request("whoami", {{"token", 42}})), "invalid_argument");
  EXPECT_GE(rejected(ChatRejection::kUnauthenticated), 3u);
}

TEST_F(ChatTopicsTest, RoomsPostsHistoryLikesAndEvents) {
  start();
  auto spy = client("spy");
  ASSERT_TRUE(spy->subscribe("gatehouse/rooms/+/events"));
  auto a = client("ca");
  auto b = client("cb");
  const std::string ta = user(*a, "alice");
  const std::string tb = user(*b, "bob");

  auto created = a->request("create_room", {{"token", ta}, {"room", "tea"}});
  ASSERT_EQ(created["ok"], true) << created.dump();
  EXPECT_EQ(created["room"]["name"], "tea");
  EXPECT_EQ(created["room"]["creator"], "alice");
  EXPECT_EQ(error_code(a->request("create_room", {{"token", ta}, {"room", "tea"}})),
            "already_exists");

  auto rooms = b->request("rooms", {{"token", tb}});
  ASSERT_EQ(rooms["ok"], true) << rooms.dump();
  EXPECT_EQ(rooms["rooms"], json({"lobby", "tea"}));
  EXPECT_EQ(rooms["next"], nullptr);
  auto page = b->request("rooms", {{"token", tb}, {"limit", 1}});
  EXPECT_EQ(page["rooms"], json({"lobby"}));
  EXPECT_EQ(page["next"], "lobby");
  EXPECT_EQ(b->request("rooms", {{"token", tb}, {"after", "lobby"}})["rooms"], json({"tea"}));
  EXPECT_EQ(error_code(b->request("rooms", {{"token", tb}, {"limit", 0}})), "invalid_argument");

  // Not a member yet: refused, nothing written.
  auto outsider = b->request("post", {{"token", tb}, {"room", "tea"}, {"text", "hi"}});
  EXPECT_EQ(error_code(outsider), "permission_denied") << outsider.dump();

  auto joined = b->request("join", {{"token", tb}, {"room", "tea"}});
  ASSERT_EQ(joined["ok"], true) << joined.dump();
  EXPECT_EQ(joined["room"]["members"], json({"alice", "bob"}));
  auto members = a->request("members", {{"token", ta}, {"room", "tea"}});
  EXPECT_EQ(members["room"]["members"], json({"alice", "bob"}));

  auto posted = b->request(
      "post", {{"token", tb}, {"room", "tea"}, {"text", "hello"}, {"client_msg_id", "m1"}});
  ASSERT_EQ(posted["ok"], true) << posted.dump();
  EXPECT_EQ(posted["message"]["id"], 1);
  EXPECT_EQ(posted["message"]["author"], "bob");
  EXPECT_EQ(posted["message"]["client_msg_id"], "m1");
  // A retry with the same client_msg_id is the same message.
  auto again = b->request(
      "post", {{"token", tb}, {"room", "tea"}, {"text", "hello"}, {"client_msg_id", "m1"}});
  EXPECT_EQ(again["message"]["id"], 1);
  ASSERT_EQ(a->request("post", {{"token", ta}, {"room", "tea"}, {"text", "second"}})["ok"], true);

  auto liked = a->request("like", {{"token", ta}, {"room", "tea"}, {"message_id", 1}});
  ASSERT_EQ(liked["ok"], true) << liked.dump();
  EXPECT_EQ(liked["message"]["like_count"], 1);
  EXPECT_EQ(liked["message"]["liked_by_viewer"], true);
  auto unliked = a->request("unlike", {{"token", ta}, {"room", "tea"}, {"message_id", 1}});
  EXPECT_EQ(unliked["message"]["like_count"], 0);
  EXPECT_EQ(error_code(a->request("like", {{"token", ta}, {"room", "tea"}, {"message_id", 99}})),
            "not_found");
  EXPECT_EQ(error_code(a->request("like", {{"token", ta}, {"room", "tea"}, {"message_id", -1}})),
            "invalid_argument");

  auto history = a->request("history", {{"token", ta}, {"room", "tea"}});
  ASSERT_EQ(history["ok"], true) << history.dump();
  EXPECT_EQ(history["room"], "tea");
  ASSERT_EQ(history["messages"].size(), 2u);
  EXPECT_EQ(history["messages"][0]["text"], "second");  // newest first
  EXPECT_EQ(history["messages"][1]["text"], "hello");
  EXPECT_EQ(history["next_before"], nullptr);
  auto older = a->request("history", {{"token", ta}, {"room", "tea"}, {"limit", 1}});
  ASSERT_EQ(older["messages"].size(), 1u);
  EXPECT_EQ(older["next_before"], 2);
  auto rest = a->request("history", {{"token", ta}, {"room", "tea"}, {"before", 2}});
  ASSERT_EQ(rest["messages"].size(), 1u);
  EXPECT_EQ(rest["messages"][0]["id"], 1);
  EXPECT_EQ(error_code(a->request("history", {{"token", ta}, {"room", "tea"}, {"limit", 101}})),
            "invalid_argument");

  // Only the author deletes.
  EXPECT_EQ(error_code(a->request("delete", {{"token", ta}, {"room", "tea"}, {"message_id", 1}})),
            "permission_denied");
  EXPECT_EQ(b->request("delete", {{"token", tb}, {"room", "tea"}, {"message_id", 1}})["ok"], true);

  auto left = b->request("leave", {{"token", tb}, {"room", "tea"}});
  ASSERT_EQ(left["ok"], true) << left.dump();
  EXPECT_EQ(left["room"]["members"], json({"alice"}));

  // Every change reached rooms/tea/events, in order, after it was durable.
  std::vector<std::string> kinds;
  ASSERT_TRUE(eventually([&] {
    kinds.clear();
    for (const auto& m : spy->messages()) {
      if (m.topic == "gatehouse/rooms/tea/events") kinds.push_back(member(m, "kind"));
    }
    return kinds.size() >= 8;
  })) << kinds.size();
  // The creator joins her room first.
  EXPECT_EQ(kinds, (std::vector<std::string>{"joined", "joined", "posted", "posted", "liked",
                                             "unliked", "deleted", "left"}));
  auto first_post = spy->wait_for([](const ChatMessage& m) {
    return m.topic == "gatehouse/rooms/tea/events" && member(m, "kind") == "posted";
  });
  ASSERT_TRUE(first_post);
  auto event = first_post->json();
  EXPECT_EQ(event["room"], "tea");
  EXPECT_EQ(event["user"], "bob");
  EXPECT_EQ(event["message"]["text"], "hello");
  EXPECT_FALSE(event["message"].contains("liked_by_viewer"));
  EXPECT_GE(topics_->counters().updates_published.load(), 8u);
}

TEST_F(ChatTopicsTest, TooLongTextIsRefused) {
  start();
  auto c = client("c1");
  const std::string token = user(*c, "alice");
  auto before = journal_->last_position();
  auto reply =
      c->request("post", {{"token", token}, {"room", "lobby"}, {"text", std::string(5000, 'x')}});
  EXPECT_EQ(error_code(reply), "too_large") << reply.dump();
  EXPECT_EQ(journal_->last_position(), before) << "a refused post wrote an event";
  EXPECT_EQ(
      c->request("post",
                 {{"token", token}, {"room", "lobby"}, {"text", std::string(4096, 'x')}})["ok"],
      true);
}

TEST_F(ChatTopicsTest, SecurityQuestionAndPasswordChanges) {
  start();
  auto c = client("c1");
  const std::string token = user(*c, "alice");
  // Setting the question needs the password as well as the session.
  auto no_password = c->request("set_security_question",
                                {{"token", token}, {"question", "Pet?"}, {"answer", "Rex"}});
  EXPECT_EQ(error_code(no_password), "invalid_argument");
  auto wrong = c->request(
      "set_security_question",
      {{"token", token}, {"question", "Pet?"}, {"answer", "Rex"}, {"password", "wrong password"}});
  EXPECT_EQ(error_code(wrong), "permission_denied") << wrong.dump();
  // A wrong password is answered before its audit event is durable; a login is answered
  // after it (one append at a time per user), so the log is settled from here on.
  ASSERT_EQ(c->request("login", {{"name", "alice"}, {"password", kPassword}})["ok"], true);
  // A question the service would refuse is refused before the password is tried: no
  // login, no event.
  auto before = journal_->last_position();
  auto empty = c->request(
      "set_security_question",
      {{"token", token}, {"question", "   "}, {"answer", "Rex"}, {"password", kPassword}});
  EXPECT_EQ(error_code(empty), "invalid_argument") << empty.dump();
  auto no_answer = c->request(
      "set_security_question",
      {{"token", token}, {"question", "Pet?"}, {"answer", " "}, {"password", kPassword}});
  EXPECT_EQ(error_code(no_answer), "invalid_argument") << no_answer.dump();
  EXPECT_EQ(journal_->last_position(), before);
  auto set = c->request(
      "set_security_question",
      {{"token", token}, {"question", "Pet?"}, {"answer", "Rex"}, {"password", kPassword}});
  ASSERT_EQ(set["ok"], true) << set.dump();

  auto question = c->request("security_question", {{"name", "alice"}});
  ASSERT_EQ(question["ok"], true) << question.dump();
  EXPECT_EQ(question["question"], "Pet?");
  EXPECT_EQ(error_code(c->request("security_question", {{"name", "nobody"}})), "not_found");

  EXPECT_EQ(error_code(c->request(
                "reset_password",
                {{"name", "alice"}, {"answer", "Tom"}, {"new_password", "new password 1"}})),
            "unauthenticated");
  auto reset =
      c->request("reset_password",
                 {{"name", "alice"}, {"answer", "  rex "}, {"new_password", "new password 1"}});
  ASSERT_EQ(reset["ok"], true) << reset.dump();
  // A reset ends every session.
  EXPECT_EQ(error_code(c->request("whoami", {{"token", token}})), "unauthenticated");
  auto login = c->request("login", {{"name", "alice"}, {"password", "new password 1"}});
  ASSERT_EQ(login["ok"], true) << login.dump();
  const std::string token2 = login["token"];

  auto bad_old = c->request(
      "change_password",
      {{"token", token2}, {"old_password", "not it at all"}, {"new_password", "new password 2"}});
  EXPECT_EQ(error_code(bad_old), "permission_denied") << bad_old.dump();
  auto changed = c->request(
      "change_password",
      {{"token", token2}, {"old_password", "new password 1"}, {"new_password", "new password 2"}});
  ASSERT_EQ(changed["ok"], true) << changed.dump();
  EXPECT_EQ(c->request("login", {{"name", "alice"}, {"password", "new password 2"}})["ok"], true);
}

TEST_F(ChatTopicsTest, MalformedAndOversizedPayloadsAreAnsweredWhenTheySayWhere) {
  chat_options_.max_payload_bytes = 4096;
  start();
  auto c = client("c1");
  auto before = journal_->last_position();
  const std::string inbox = c->inbox();

  // Broken JSON whose id and reply_to come before the damage.
  ASSERT_TRUE(c->publish("gatehouse/chat/login",
                         R"({"id": "bad-1", "reply_to": ")" + inbox + R"(", "name": )"));
  auto bad = c->wait_for([](const ChatMessage& m) { return member(m, "id") == "bad-1"; });
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->json()["ok"], false);
  EXPECT_EQ(error_code(bad->json()), "invalid_argument");
  EXPECT_EQ(bad->json()["op"], "login");

  // Oversized: refused without being parsed in full; answered from its head.
  std::string big = R"({"id": "big-1", "reply_to": ")" + inbox + R"(", "text": ")" +
                    std::string(10000, 'x') + R"("})";
  ASSERT_TRUE(c->publish("gatehouse/chat/post", big));
  auto large = c->wait_for([](const ChatMessage& m) { return member(m, "id") == "big-1"; });
  ASSERT_TRUE(large);
  EXPECT_EQ(error_code(large->json()), "too_large");

  // Too deep.
  ASSERT_TRUE(c->publish("gatehouse/chat/post", R"({"id": "deep-1", "reply_to": ")" + inbox +
                                                    R"(", "x": )" + std::string(100, '[') +
                                                    std::string(100, ']') + "}"));
  auto deep = c->wait_for([](const ChatMessage& m) { return member(m, "id") == "deep-1"; });
  ASSERT_TRUE(deep);
  EXPECT_EQ(error_code(deep->json()), "too_large");

  // Not an object, not JSON at all: nowhere to answer; counted and dropped.
  const auto dropped = topics_->counters().dropped.load();
  ASSERT_TRUE(c->publish("gatehouse/chat/login", "[1, 2, 3]"));
  ASSERT_TRUE(c->publish("gatehouse/chat/login", "\xff\xfe not json"));
  ASSERT_TRUE(c->publish("gatehouse/chat/login", ""));
  EXPECT_TRUE(eventually([&] { return topics_->counters().dropped.load() >= dropped + 3; }));

  // Unknown op.
  ASSERT_TRUE(
      c->publish("gatehouse/chat/dance", R"({"id": "op-1", "reply_to": ")" + inbox + "\"}"));
  auto unknown = c->wait_for([](const ChatMessage& m) { return member(m, "id") == "op-1"; });
  ASSERT_TRUE(unknown);
  EXPECT_EQ(error_code(unknown->json()), "invalid_argument");
  EXPECT_EQ(unknown->json()["op"], "other");
  EXPECT_NE(unknown->json()["error"]["message"].get<std::string>().find("unknown op 'dance'"),
            std::string::npos);

  // A bad id is refused, answered with a null id.
  ASSERT_TRUE(c->publish("gatehouse/chat/login", R"({"id": {"x": 1}, "reply_to": ")" + inbox +
                                                     R"(", "name": "a", "password": "b"})"));
  auto bad_id = c->wait_for([](const ChatMessage& m) {
    auto j = m.json();
    return j.is_object() && j["id"].is_null() && j["op"] == "login";
  });
  ASSERT_TRUE(bad_id);
  EXPECT_NE(bad_id->json()["error"]["message"].get<std::string>().find("'id'"), std::string::npos);

  EXPECT_GE(rejected(ChatRejection::kBadJson), 3u);
  EXPECT_GE(rejected(ChatRejection::kTooLarge), 2u);
  EXPECT_EQ(rejected(ChatRejection::kUnknownOp), 1u);
  EXPECT_EQ(topics_->counters().received_of(ChatOp::kOther), 1u);
  EXPECT_EQ(journal_->last_position(), before) << "bad input wrote an event";
}

TEST_F(ChatTopicsTest, ForeignReplyTopicsAreNeverPublishedTo) {
  start();
  auto spy = client("spy");
  ASSERT_TRUE(spy->subscribe("#"));
  auto c = client("c1");
  const std::vector<std::string> foreign = {"gatehouse/devices/door1/command",
                                            "gatehouse/chat/login",
                                            "alice/inbox",
                                            "gatehouse/inbox/+/x",
                                            "gatehouse/inbox//x",
                                            "$SYS/broker/x",
                                            "gatehouse/rooms/lobby/events",
                                            "gatehouse/inbox/" + std::string(300, 'c') + "/x"};
  for (const auto& topic : foreign) {
    ASSERT_TRUE(c->publish(
        "gatehouse/chat/register",
        json({{"id", 1}, {"reply_to", topic}, {"name", "mallory"}, {"password", kPassword}})
            .dump()));
  }
  // A wildcard below a valid client's inbox: the error goes to that inbox's errors topic.
  ASSERT_TRUE(c->publish("gatehouse/chat/whoami",
                         json({{"id", "w"}, {"reply_to", "gatehouse/inbox/c1/#"}}).dump()));
  auto error = c->wait_on("gatehouse/inbox/c1/errors");
  ASSERT_TRUE(error);
  EXPECT_EQ(error_code(error->json()), "invalid_argument");
  EXPECT_EQ(error->json()["id"], "w");
  EXPECT_NE(error->json()["error"]["message"].get<std::string>().find("wildcard"),
            std::string::npos);
  // No reply_to at all.
  ASSERT_TRUE(c->publish("gatehouse/chat/login", json({{"id", 2}, {"name", "x"}}).dump()));
  // A good request afterwards: once its reply is in, anything published before it is too.
  ASSERT_EQ(c->request("register", {{"name", "alice"}, {"password", kPassword}})["ok"], true);
  ASSERT_TRUE(spy->wait_on(c->inbox()));
  for (const auto& m : spy->messages()) {
    if (m.topic.starts_with("gatehouse/chat/")) continue;  // the requests themselves
    for (const auto& topic : foreign) EXPECT_NE(m.topic, topic) << "published to a foreign topic";
    EXPECT_EQ(m.payload.find("mallory"), std::string::npos) << m.topic;
  }
  EXPECT_TRUE(eventually([&] {
    return rejected(ChatRejection::kBadReplyTo) == foreign.size() + 1 &&
           rejected(ChatRejection::kNoReplyTo) == 1 &&
           topics_->counters().dropped.load() == foreign.size() + 1;
  }));
  // Nobody was registered by the refused requests.
  auto mallory = c->request("login", {{"name", "mallory"}, {"password", kPassword}});
  EXPECT_EQ(error_code(mallory), "unauthenticated");
  // Refusals were logged (the fixture's log has no rate limit).
  auto lines = log_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("dropped (bad_reply_to)"), std::string::npos) << lines[0];
}

TEST_F(ChatTopicsTest, RefusalLogIsRateLimited) {
  chat_options_.log_interval = std::chrono::hours(1);
  start();
  auto c = client("c1");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        c->publish("gatehouse/chat/login", json({{"id", i}, {"reply_to", "$SYS/x"}}).dump()));
  }
  EXPECT_TRUE(eventually([&] {
    return rejected(ChatRejection::kBadReplyTo) == 20 && topics_->log_lines_suppressed() == 19;
  }));
  EXPECT_EQ(log_lines().size(), 1u);
}

TEST_F(ChatTopicsTest, ResponseTopicAndCorrelationDataOfMqtt5) {
  start();
  auto c = client("c5");
  mqtt::properties props{
      mqtt::property(mqtt::property::RESPONSE_TOPIC, c->inbox()),
      mqtt::property(mqtt::property::CORRELATION_DATA, std::string("corr\x00\x01", 6))};
  // No reply_to in the JSON: the Response Topic says where.
  ASSERT_TRUE(c->publish("gatehouse/chat/register",
                         json({{"id", "r1"}, {"name", "alice"}, {"password", kPassword}}).dump(),
                         false, props));
  auto reply = c->wait_for([](const ChatMessage& m) { return member(m, "id") == "r1"; });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->json()["ok"], true);
  EXPECT_EQ(reply->topic, c->inbox());
  ASSERT_TRUE(reply->correlation);
  EXPECT_EQ(*reply->correlation, std::string("corr\x00\x01", 6));

  // Errors carry it too, even for a payload that is not JSON.
  ASSERT_TRUE(c->publish("gatehouse/chat/login", "not json", false, props));
  auto error =
      c->wait_for([](const ChatMessage& m) { return member(m, "op") == "login" && is_error(m); });
  ASSERT_TRUE(error);
  EXPECT_EQ(error_code(error->json()), "invalid_argument");
  ASSERT_TRUE(error->correlation);
  EXPECT_EQ(*error->correlation, std::string("corr\x00\x01", 6));

  // The Response Topic is held to the same rules as reply_to.
  mqtt::properties foreign{mqtt::property(mqtt::property::RESPONSE_TOPIC, "elsewhere/x")};
  ASSERT_TRUE(c->publish("gatehouse/chat/login",
                         json({{"id", "r2"}, {"reply_to", c->inbox()}}).dump(), false, foreign));
  EXPECT_TRUE(eventually([&] { return rejected(ChatRejection::kBadReplyTo) == 1; }));

  // Without Correlation Data, none comes back.
  auto plain = c->request("login", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(plain["ok"], true);
  for (const auto& m : c->messages()) {
    if (member(m, "op") == "login" && !is_error(m)) {
      EXPECT_FALSE(m.correlation);
    }
  }
}

TEST_F(ChatTopicsTest, RetainedRequestsAreRefused) {
  // The broker marks a message retained only when it hands it to a new subscription: here,
  // the server's subscribe after connecting.
  auto c = client("c1");
  ASSERT_TRUE(c->publish(
      "gatehouse/chat/register",
      json({{"id", "ret"}, {"reply_to", c->inbox()}, {"name", "alice"}, {"password", kPassword}})
          .dump(),
      /*retain=*/true));
  start();
  auto reply = c->wait_for([](const ChatMessage& m) { return member(m, "id") == "ret"; });
  ASSERT_TRUE(reply);
  EXPECT_EQ(error_code(reply->json()), "invalid_argument");
  EXPECT_EQ(rejected(ChatRejection::kRetained), 1u);
  // Nothing was registered.
  EXPECT_EQ(error_code(c->request("login", {{"name", "alice"}, {"password", kPassword}})),
            "unauthenticated");
}

TEST_F(ChatTopicsTest, Mqtt311ClientsAndAMqtt311Server) {
  mqtt_version_ = 4;
  start();
  auto c = client("old", /*mqtt_version=*/4);
  auto reg = c->request("register", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(reg["ok"], true) << reg.dump();
  auto login = c->request("login", {{"name", "alice"}, {"password", kPassword}});
  EXPECT_EQ(login["ok"], true) << login.dump();
}

TEST_F(ChatTopicsTest, MetricsNameEveryOpAndReason) {
  start();
  auto c = client("c1");
  user(*c, "alice");
  auto metrics = topics_->metrics();
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : metrics)
      if (n == name) return v;
    return -1.0;
  };
  EXPECT_EQ(value("gatehouse_mqtt_chat_received_total{op=\"register\"}"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_chat_received_total{op=\"login\"}"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_chat_received_total{op=\"delete\"}"), 0);
  EXPECT_EQ(value("gatehouse_mqtt_chat_rejected_total{reason=\"bad_reply_to\"}"), 0);
  EXPECT_EQ(value("gatehouse_mqtt_chat_replies_total{result=\"ok\"}"), 2);
  EXPECT_EQ(value("gatehouse_mqtt_chat_dropped_total"), 0);
  EXPECT_EQ(metrics.size(),
            static_cast<size_t>(ChatOp::kCount) + static_cast<size_t>(ChatRejection::kCount) + 4);
}

}  // namespace
}  // namespace gh::mqtt_adapter
