// The legacy chat topics end to end, as the seed's clients speak them (MQTT 3.1.1, str(dict)
// payloads, returnTopic): a plain paho client through a real mosquitto to our LegacyChat on
// the real ChatSystem. Replies are read back with the safe literal parser; the seed's own
// Python classes are run against the server in legacy_seed_clients_test.cpp.
#include "adapters/mqtt/legacy_chat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/user/user_model.h"
#include "adapters/codec/py_literal.h"
#include "events/log.h"
#include "tests/mqtt/chat_test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::eventually;
using mqtt_test::kWait;
using mqtt_test::Message;
using mqtt_test::TestClient;
using nlohmann::json;

json literal(const std::string& text) {
  auto parsed = codec::parse_py_literal(text);
  EXPECT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
  return parsed ? *parsed : json();
}

class LegacyChatTest : public mqtt_test::ChatServerFixture {
 protected:
  void start() {
    ChatServerFixture::start(/*chat_topics=*/false, /*legacy=*/true);
    c_ = std::make_unique<TestClient>(broker_->url(), "seed-like");
    ASSERT_TRUE(c_->connect());
  }
  void TearDown() override {
    c_.reset();
    ChatServerFixture::TearDown();
    // Every thread that logged is gone: back to stderr.
    if (restore_log_) log::configure(log::Level::kInfo, log::Format::kText);
  }

  // Publishes `payload` on `topic` and returns the n-th reply (0-based) on `reply_topic`,
  // as the value the seed's eval() would see.
  json ask_raw(const std::string& topic, const std::string& payload,
               const std::string& reply_topic) {
    if (!subscribed_.count(reply_topic)) {
      EXPECT_TRUE(c_->subscribe(reply_topic));
      subscribed_.insert(reply_topic);
    }
    size_t n = c_->messages_on(reply_topic).size();
    EXPECT_TRUE(c_->publish(topic, payload));
    std::optional<Message> reply;
    EXPECT_TRUE(eventually([&] {
      auto all = c_->messages_on(reply_topic);
      if (all.size() <= n) return false;
      reply = all[n];
      return true;
    })) << topic
        << " " << payload;
    return reply ? literal(reply->payload) : json();
  }
  json ask(const std::string& topic, json fields, const std::string& reply_topic) {
    fields["returnTopic"] = reply_topic;
    return ask_raw(topic, codec::to_py_literal(fields), reply_topic);
  }

  void register_user(const std::string& name, const std::string& password = "pass-word-1") {
    auto r = ask("register", {{"userName", name}, {"userPwd", password}}, name + "register");
    ASSERT_EQ(r["code"], 1) << r.dump();
  }

  uint64_t rejected(LegacyRejection r) { return legacy_->counters().rejected_of(r); }

  // Appends what the pure user model decides for `command`, caused over `channel`, as
  // gatehousectl does (before the ChatSystem runs: no actor holds the stream).
  void append_as(user::State& state, const user::Command& command, const std::string& channel) {
    auto events = user::decide(state, command, 1'700'000'000'000);
    ASSERT_TRUE(events.is_ok()) << events.status().to_string();
    AppendRequest request;
    request.stream = user::user_stream(state.name);
    request.expected_version = state.version;
    request.cause.set_kind(events::Cause::USER);
    request.cause.set_name(state.name);
    request.cause.set_channel(channel);
    request.events = *events;
    request.time_unix_ms = 1'700'000'000'000;
    auto appended = journal_->append_and_wait(std::move(request));
    ASSERT_TRUE(appended.is_ok()) << appended.status().to_string();
    for (const auto& event : appended->events) user::apply(state, event);
  }

  std::unique_ptr<TestClient> c_;
  std::set<std::string> subscribed_;
  bool restore_log_ = false;
};

TEST_F(LegacyChatTest, RegisterAndLoginAnswerAsTheSeedServer) {
  start();
  // Exactly the bytes the seed's Register client sends.
  auto r = ask_raw(
      "register", "{'userName': 'alice', 'userPwd': 'pass-word-1', 'returnTopic': 'aliceregister'}",
      "aliceregister");
  EXPECT_EQ(r, json({{"code", 1}, {"message", "用户添加成功!"}}));
  r = ask("register", {{"userName", "alice"}, {"userPwd", "pass-word-1"}}, "aliceregister");
  EXPECT_EQ(r, json({{"code", 0}, {"message", "用户添加失败,用户存在"}}));
  r = ask("register", {{"userName", "bob"}, {"userPwd", "1234"}}, "bobregister");
  EXPECT_EQ(r["code"], 0);  // our passwords are at least 8 characters: the message says so
  EXPECT_NE(r["message"].get<std::string>().find("8"), std::string::npos) << r.dump();

  r = ask("login", {{"userName", "alice"}, {"userPwd", "pass-word-1"}}, "alicelogin");
  EXPECT_EQ(r, json({{"code", 1}, {"message", "验证通过,欢迎回来alice"}}));
  EXPECT_FALSE(r.contains("token"));  // a returnTopic anyone can read gets no credential
  r = ask("login", {{"userName", "alice"}, {"userPwd", "wrong"}}, "alicelogin");
  EXPECT_EQ(r, json({{"code", 0}, {"message", "账号或密码错误"}}));
  r = ask("login", {{"userName", "nobody"}, {"userPwd", "pass-word-1"}}, "alicelogin");
  EXPECT_EQ(r, json({{"code", 0}, {"message", "账号或密码错误"}}));
  // JSON is accepted too.
  r = ask_raw("login",
              R"({"userName": "alice", "userPwd": "pass-word-1", "returnTopic": "alicelogin"})",
              "alicelogin");
  EXPECT_EQ(r["code"], 1);
}

TEST_F(LegacyChatTest, EachRequestIsLoggedByItsOpNeverItsPayload) {
  struct Captured {
    std::mutex mu;
    std::vector<std::string> lines;
  };
  auto captured = std::make_shared<Captured>();  // outlives every thread that may still log
  log::configure(log::Level::kInfo, log::Format::kText, [captured](const std::string& line) {
    std::lock_guard lock(captured->mu);
    captured->lines.push_back(line);
  });
  restore_log_ = true;
  start();
  register_user("alice", "secret-pass-42");
  auto r = ask("login", {{"userName", "alice"}, {"userPwd", "secret-pass-42"}}, "alicelogin");
  EXPECT_EQ(r["code"], 1) << r.dump();

  std::lock_guard lock(captured->mu);
  const auto& lines = captured->lines;
  auto logged = [&](const std::string& op) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find("mqtt: legacy chat request op=" + op) != std::string::npos;
    });
  };
  EXPECT_EQ(logged("register"), 1);
  EXPECT_EQ(logged("login"), 1);
  for (const auto& line : lines)
    EXPECT_EQ(line.find("secret-pass-42"), std::string::npos) << "never the password: " << line;
}

TEST_F(LegacyChatTest, WrongPasswordsNeverLockTheOwnerOut) {
  chat_system_options_.throttle = chat::ThrottleOptions{};  // the defaults: 3 free failures
  start();
  register_user("alice");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ask("login", {{"userName", "alice"}, {"userPwd", "wrong"}}, "evil"),
              json({{"code", 0}, {"message", "账号或密码错误"}}));
  }
  // The guesser's returnTopic must wait now, even with the right password.
  auto r = ask("login", {{"userName", "alice"}, {"userPwd", "pass-word-1"}}, "evil");
  EXPECT_EQ(r["code"], 0);
  EXPECT_NE(r["message"].get<std::string>().find("retry in"), std::string::npos) << r.dump();
  // The owner is not locked out.
  EXPECT_EQ(ask("login", {{"userName", "alice"}, {"userPwd", "pass-word-1"}}, "al")["code"], 1);
}

// The takeover of issue 9: with no session and no password, set_security_question named any
// user without a question (registered over HTTP or chat/register, operators included), and
// verify_security_answer then reset their password.
TEST_F(LegacyChatTest, SetQuestionOnlyForUsersRegisteredHereNeverOthers) {
  before_chat_ = [this] {
    // An operator who registered over the legacy topics, as gatehousectl would grant it.
    user::State root = user::replay("root", {});
    append_as(root, user::Register{"$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"}, "legacy");
    append_as(root, user::GrantRole{std::string(user::kOperatorRole)}, "tool");
  };
  ChatServerFixture::start(/*chat_topics=*/true, /*legacy=*/true);
  c_ = std::make_unique<TestClient>(broker_->url(), "seed-like");
  ASSERT_TRUE(c_->connect());
  auto modern = client("modern");
  ASSERT_EQ(modern->request("register", {{"name", "bob"}, {"password", "bob-password"}})["ok"],
            true);
  register_user("alice");

  auto set = [&](const std::string& name) {
    return ask("set_security_question",
               {{"userName", name}, {"question", "Mine?"}, {"answer", "attacker"}}, "evil");
  };
  const json refused = set("bob");
  EXPECT_EQ(refused["code"], 0) << refused.dump();
  EXPECT_EQ(set("root"), refused) << "an operator, though registered here";
  EXPECT_EQ(set("nobody"), refused) << "one answer whatever the reason";
  auto reset =
      ask("verify_security_answer",
          {{"userName", "bob"}, {"answer", "attacker"}, {"newPassword", "taken-over"}}, "evil");
  EXPECT_EQ(reset["code"], 0);
  auto login = modern->request("login", {{"name", "bob"}, {"password", "bob-password"}});
  EXPECT_EQ(login["ok"], true) << "bob keeps his account: " << login.dump();
  for (const std::string stream : {"user/bob", "user/root"}) {
    auto events = journal_->read_stream(stream, 1);
    ASSERT_TRUE(events.is_ok());
    for (const auto& e : *events) EXPECT_FALSE(e.has_user_security_question_set()) << stream;
  }

  // The seed's own flow still works for a user registered here, once.
  EXPECT_EQ(set("alice"), json({{"action", "set_question"}, {"code", 1}}));
  EXPECT_EQ(set("alice"), refused);
}

TEST_F(LegacyChatTest, AnswersDoNotTellWhetherAUserExists) {
  start();
  register_user("alice");
  register_user("carol");
  ASSERT_EQ(
      ask("set_security_question", {{"userName", "carol"}, {"question", "Pet?"}, {"answer", "rex"}},
          "carolsec")["code"],
      1);
  auto asked = [&](const std::string& name) {
    return ask("request_security_question", {{"userName", name}}, "sec");
  };
  EXPECT_EQ(asked("alice"), asked("nobody")) << "no question and no user read alike";
  auto verify = [&](const std::string& name) {
    return ask("verify_security_answer",
               {{"userName", name}, {"answer", "cat"}, {"newPassword", "new-pass-1"}}, "sec");
  };
  const json wrong = verify("carol");
  EXPECT_EQ(wrong["code"], 0);
  EXPECT_EQ(verify("alice"), wrong) << "no question reads like a wrong answer";
  EXPECT_EQ(verify("nobody"), wrong) << "no user reads like a wrong answer";
  EXPECT_EQ(ask("login", {{"userName", "nobody"}, {"userPwd", "pass-word-1"}}, "l"),
            ask("login", {{"userName", "alice"}, {"userPwd", "wrong-pass"}}, "l"));
}

TEST_F(LegacyChatTest, ChatsendChatallAndLike) {
  legacy_options_.chatall_max_messages = 120;
  start();
  register_user("alice");
  register_user("bob");
  const std::string text = "it's \"quoted\" \\ 中文 😀\nline two\x01";
  auto sent = ask("chatsend", {{"userName", "alice"}, {"message", text}}, "alicechatsend");
  EXPECT_EQ(sent, json({{"code", 1}, {"message", "消息发送成功"}}));
  sent = ask("chatsend", {{"userName", "bob"}, {"message", 1234}}, "bobchatsend");
  EXPECT_EQ(sent["code"], 1);
  sent = ask("chatsend", {{"userName", "mallory"}, {"message", "hi"}}, "mchatsend");
  EXPECT_EQ(sent, json({{"code", 0}, {"message", "消息发送失败,找不到用户"}}));
  sent = ask("chatsend", {{"userName", "alice"}, {"message", std::string(5000, 'x')}}, "a");
  EXPECT_EQ(sent["code"], 0);  // too long

  auto all =
      ask_raw("chatall", "{'userName': 'alice', 'returnTopic': 'alicechatall'}", "alicechatall");
  ASSERT_TRUE(all.is_array()) << all.dump();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["id"], 1);
  EXPECT_EQ(all[0]["message"], text);
  EXPECT_EQ(all[0]["senderName"], "alice");
  EXPECT_EQ(all[1]["message"], "1234");
  EXPECT_EQ(all[1]["senderName"], "bob");
  auto alice_number = chat_->user_number("alice");
  ASSERT_TRUE(alice_number.is_ok());
  EXPECT_EQ(all[0]["senderId"], *alice_number);
  EXPECT_NE(all[0]["senderId"], all[1]["senderId"]);
  // str(datetime): "YYYY-MM-DD HH:MM:SS.ffffff"
  const std::string time = all[0]["time"];
  ASSERT_EQ(time.size(), 26u) << time;
  EXPECT_EQ(time[10], ' ');
  EXPECT_EQ(time[19], '.');
  EXPECT_EQ(all[0].size(), 5u);  // exactly the seed's keys

  auto liked = ask_raw("like", "{'message_id': 1, 'returnTopic': 'likes'}", "likes");
  EXPECT_EQ(liked, json({{"code", 1}, {"like_count", 1}}));
  liked = ask("like", {{"message_id", "1"}}, "likes");
  EXPECT_EQ(liked, json({{"code", 1}, {"like_count", 2}}));
  liked = ask("like", {{"message_id", 99}}, "likes");
  EXPECT_EQ(liked, json({{"code", 0}, {"message", "点赞失败"}}));
  liked = ask("like", {{"message_id", "abc"}}, "likes");
  EXPECT_EQ(liked["code"], 0);

  // The seed's Like client sends no returnTopic: the like counts, nothing is answered.
  const auto replies = legacy_->counters().replies.load();
  ASSERT_TRUE(c_->publish("like", "{'message_id': 1}"));
  EXPECT_TRUE(eventually([&] { return legacy_->counters().unanswered.load() == 1; }));
  EXPECT_EQ(legacy_->counters().replies.load(), replies);
  auto page = mqtt_test::call<chat::HistoryView>(
      [&](auto done) { chat_->history(chat::Identity{}, "lobby", 0, 10, done); });
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_EQ(page->messages[1].like_count, 3u);

  // chatall pages through the history, keeps the newest chatall_max_messages, oldest first.
  for (int i = 0; i < 130; ++i) {
    chat::Identity bob;
    bob.user = "bob";
    auto posted = mqtt_test::call<chat::MessageView>(
        [&](auto done) { chat_->post(bob, "lobby", "m" + std::to_string(i), "", done); });
    ASSERT_TRUE(posted.is_ok()) << posted.status().to_string();
  }
  all = ask("chatall", {{"userName", "alice"}}, "alicechatall");
  ASSERT_EQ(all.size(), 120u);
  EXPECT_EQ(all[0]["id"], 13);
  EXPECT_EQ(all[119]["id"], 132);
  EXPECT_EQ(all[119]["message"], "m129");
}

TEST_F(LegacyChatTest, SecurityQuestionFlow) {
  start();
  register_user("alice");
  auto r = ask("request_security_question", {{"userName", "alice"}}, "alicesecurity");
  EXPECT_EQ(r["action"], "request_question");
  EXPECT_EQ(r["code"], 0);
  EXPECT_EQ(r["question"], nullptr);

  r = ask(
      "set_security_question",
      {{"action", "set_question"}, {"userName", "alice"}, {"question", "Pet?"}, {"answer", "Rex"}},
      "alicesecurity");
  EXPECT_EQ(r, json({{"action", "set_question"}, {"code", 1}}));
  // Without sessions, only a first question may be set.
  r = ask("set_security_question", {{"userName", "alice"}, {"question", "Other?"}, {"answer", "x"}},
          "alicesecurity");
  EXPECT_EQ(r["action"], "set_question");
  EXPECT_EQ(r["code"], 0);

  r = ask("request_security_question", {{"userName", "alice"}}, "alicesecurity");
  EXPECT_EQ(r, json({{"action", "request_question"}, {"code", 1}, {"question", "Pet?"}}));

  r = ask("verify_security_answer",
          {{"userName", "alice"}, {"answer", "Tom"}, {"newPassword", "new-pass-1"}},
          "alicesecurity");
  EXPECT_EQ(r["action"], "verify_security_answer");
  EXPECT_EQ(r["code"], 0);
  // The seed's client sends newPassword, its server read new_password: both work.
  r = ask("verify_security_answer",
          {{"userName", "alice"}, {"answer", "rex"}, {"newPassword", "new-pass-1"}},
          "alicesecurity");
  EXPECT_EQ(r, json({{"action", "verify_security_answer"}, {"code", 1}}));
  EXPECT_EQ(ask("login", {{"userName", "alice"}, {"userPwd", "new-pass-1"}}, "al")["code"], 1);
  r = ask("verify_security_answer",
          {{"userName", "alice"}, {"answer", "rex"}, {"new_password", "new-pass-2"}},
          "alicesecurity");
  EXPECT_EQ(r["code"], 1);
  EXPECT_EQ(ask("login", {{"userName", "alice"}, {"userPwd", "new-pass-2"}}, "al")["code"], 1);
  r = ask("verify_security_answer", {{"userName", "alice"}, {"answer", "rex"}}, "alicesecurity");
  EXPECT_EQ(r["code"], 0);
  EXPECT_GE(rejected(LegacyRejection::kBadField), 1u);
}

TEST_F(LegacyChatTest, HostilePayloadsAreDroppedUnevaluated) {
  legacy_options_.max_payload_bytes = 4096;
  start();
  auto spy = std::make_unique<TestClient>(broker_->url(), "spy");
  ASSERT_TRUE(spy->connect());
  ASSERT_TRUE(spy->subscribe("#"));
  const auto marker = dir_ / "pwned";
  const std::vector<std::string> hostile = {
      "__import__('os').system('touch " + marker.string() + "')",
      "{'userName': __import__('os').system('touch " + marker.string() + "'), 'returnTopic': 'x'}",
      "{'userName': 'a', 'returnTopic': 'x'} or exec('1')",
      "{'userName': 'a' 'returnTopic': 'x'}",
      "{'userName': 'a",
      "[1, 2, 3]",
      "'just a string'",
      "",
      "\xff\xfe",
      std::string(200, '[') + std::string(200, ']'),
      "{'a': " + std::string(20, '[') + std::string(20, ']') + ", 'returnTopic': 'x'}",
      "{'message_id': 1" + std::string(5000, ' ') + ", 'returnTopic': 'x'}",
      "{'message_id': 99999999999999999999999999, 'returnTopic': 'x'}"};
  for (const auto& payload : hostile) ASSERT_TRUE(c_->publish("like", payload));
  EXPECT_TRUE(eventually([&] { return legacy_->counters().dropped.load() == hostile.size(); }));
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(legacy_->counters().replies.load(), 0u);
  EXPECT_GE(rejected(LegacyRejection::kTooLarge), 3u);
  EXPECT_GE(rejected(LegacyRejection::kBadPayload), 8u);
  // Nothing but the requests went through the broker.
  register_user("alice");
  for (const auto& m : spy->messages_on("x")) ADD_FAILURE() << "replied on x: " << m.payload;
  auto lines = log_lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("names are not allowed: '__import__'"), std::string::npos) << lines[0];
}

TEST_F(LegacyChatTest, BadReturnTopicsDropTheRequest) {
  legacy_options_.reserved_topics = {"hand_shake"};
  start();
  auto spy = std::make_unique<TestClient>(broker_->url(), "spy");
  ASSERT_TRUE(spy->connect());
  ASSERT_TRUE(spy->subscribe("#"));
  const std::vector<json> refused = {
      "#",          "+",         "alice/#",     "a/+/b",    "$SYS/x",
      "",           "gatehouse", "gatehouse/x", "register", "chatall",
      "hand_shake", "a//b",      "/a",          42,         std::string(300, 'a')};
  for (const auto& topic : refused) {
    json request = {{"userName", "mallory"}, {"userPwd", "pass-word-1"}, {"returnTopic", topic}};
    ASSERT_TRUE(c_->publish("register", codec::to_py_literal(request)));
  }
  EXPECT_TRUE(eventually([&] {
    return rejected(LegacyRejection::kBadReturnTopic) == refused.size() &&
           legacy_->counters().dropped.load() == refused.size();
  }));
  // Dropped means not carried out either.
  auto r = ask("login", {{"userName", "mallory"}, {"userPwd", "pass-word-1"}}, "ml");
  EXPECT_EQ(r["code"], 0);
  for (const auto& m : spy->messages_on("gatehouse/x")) ADD_FAILURE() << m.payload;
  for (const auto& m : spy->messages_on("register")) {
    EXPECT_NE(m.payload.find("userPwd"), std::string::npos) << "a reply looped into register";
  }
  EXPECT_EQ(legacy_->counters().received_of(LegacyTopic::kRegister), refused.size());
}

TEST_F(LegacyChatTest, RetainedRequestsAreDropped) {
  auto early = std::make_unique<TestClient>(broker_->url(), "early");
  ASSERT_TRUE(early->connect());
  ASSERT_TRUE(early->publish(
      "register", "{'userName': 'alice', 'userPwd': 'pass-word-1', 'returnTopic': 'ar'}", true));
  start();  // the broker hands the retained request to our new subscription
  EXPECT_TRUE(eventually([&] { return rejected(LegacyRejection::kRetained) == 1; }));
  EXPECT_EQ(ask("login", {{"userName", "alice"}, {"userPwd", "pass-word-1"}}, "al")["code"], 0);
}

TEST_F(LegacyChatTest, MetricsNameEveryTopicAndReason) {
  start();
  register_user("alice");
  auto metrics = legacy_->metrics();
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : metrics)
      if (n == name) return v;
    return -1.0;
  };
  EXPECT_EQ(value("gatehouse_mqtt_legacy_chat_received_total{topic=\"register\"}"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_legacy_chat_received_total{topic=\"chatall\"}"), 0);
  EXPECT_EQ(value("gatehouse_mqtt_legacy_chat_rejected_total{reason=\"bad_return_topic\"}"), 0);
  EXPECT_EQ(value("gatehouse_mqtt_legacy_chat_replies_total"), 1);
  EXPECT_EQ(value("gatehouse_mqtt_legacy_chat_dropped_total"), 0);
}

TEST(LegacyTimeTest, LooksLikeStrOfADatetime) {
  EXPECT_EQ(LegacyChat::legacy_time(1'700'000'000'123), "2023-11-14 22:13:20.123000");
  EXPECT_EQ(LegacyChat::topics().size(), 8u);
}

}  // namespace
}  // namespace gh::mqtt_adapter
