// Where replies may go (reply_topic.h): the chat's reply_to, the legacy returnTopic, and the
// rate-limited log of refusals. Pure.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/mqtt/reply_topic.h"

namespace gh::mqtt_adapter {
namespace {

TEST(ReplyTopicTest, ReplyToMustBeAClientInbox) {
  for (std::string_view good : {"gatehouse/inbox/c1", "gatehouse/inbox/c1/replies",
                                "gatehouse/inbox/paho-42/a/b/c", "gatehouse/inbox/A.b_c-9/x"}) {
    EXPECT_TRUE(validate_reply_to(good, "gatehouse").is_ok()) << good;
  }
  for (std::string_view bad :
       {"", "gatehouse/inbox", "gatehouse/inbox/", "gatehouse/inbox//x", "gatehouse/inbox/c1/",
        "gatehouse/inbox/+/x", "gatehouse/inbox/c1/#", "gatehouse/inbox/c1/+/x",
        "gatehouse/inbox/c 1/x", "gatehouse/inbox/caf\xC3\xA9/x", "gatehouse/chat/login",
        "gatehouse/rooms/lobby/events", "gatehouse/devices/d1/command", "other/inbox/c1/x",
        "$SYS/broker", "$share/g/gatehouse/inbox/c1", "/gatehouse/inbox/c1",
        "gatehouse/inbox/c1\xFF", "gatehousex/inbox/c1/x"}) {
    auto s = validate_reply_to(bad, "gatehouse");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
  }
  std::string client(65, 'c');
  EXPECT_FALSE(validate_reply_to("gatehouse/inbox/" + client + "/x", "gatehouse").is_ok());
  std::string long_tail = "gatehouse/inbox/c1/" + std::string(300, 'x');
  EXPECT_FALSE(validate_reply_to(long_tail, "gatehouse").is_ok());
  EXPECT_TRUE(validate_reply_to(long_tail, "gatehouse", 400).is_ok());
  EXPECT_FALSE(validate_reply_to(std::string("gatehouse/inbox/c1/a\0b", 23), "gatehouse").is_ok());
  // A prefix with levels of its own.
  EXPECT_TRUE(validate_reply_to("site/a/inbox/c1/r", "site/a").is_ok());
  EXPECT_FALSE(validate_reply_to("site/inbox/c1/r", "site/a").is_ok());
}

TEST(ReplyTopicTest, RefusalsNameTheRule) {
  EXPECT_NE(validate_reply_to("gatehouse/inbox/c1/#", "gatehouse").message().find("wildcard"),
            std::string::npos);
  EXPECT_NE(validate_reply_to("$SYS/x", "gatehouse").message().find("'$' topic"),
            std::string::npos);
  EXPECT_NE(validate_reply_to("a//b", "gatehouse").message().find("empty level"),
            std::string::npos);
  EXPECT_NE(validate_reply_to("x/y", "gatehouse").message().find("gatehouse/inbox/"),
            std::string::npos);
}

TEST(ReplyTopicTest, InboxErrorTopicOnlyForAValidClient) {
  EXPECT_EQ(inbox_error_topic("gatehouse/inbox/c1/#", "gatehouse"), "gatehouse/inbox/c1/errors");
  EXPECT_EQ(inbox_error_topic("gatehouse/inbox/c1/a//b", "gatehouse"), "gatehouse/inbox/c1/errors");
  EXPECT_EQ(inbox_error_topic("gatehouse/inbox/+/x", "gatehouse"), "");
  EXPECT_EQ(inbox_error_topic("gatehouse/inbox/#", "gatehouse"), "");
  EXPECT_EQ(inbox_error_topic("gatehouse/chat/login", "gatehouse"), "");
  EXPECT_EQ(inbox_error_topic("$SYS/gatehouse/inbox/c1/x", "gatehouse"), "");
}

TEST(ReplyTopicTest, LegacyReturnTopic) {
  std::vector<std::string> reserved = {"register", "login", "chatall", "hand_shake"};
  for (std::string_view good : {"aliceregister", "alicechatall", "bob/replies", "中文"}) {
    EXPECT_TRUE(validate_return_topic(good, "gatehouse", reserved).is_ok()) << good;
  }
  for (std::string_view bad : {"", "#", "+", "alice/#", "a/+/b", "$SYS/broker/load", "$share/x/y",
                               "gatehouse", "gatehouse/inbox/c1/x", "gatehouse/devices/d1/command",
                               "register", "login", "chatall", "hand_shake", "/x", "x/", "a//b"}) {
    EXPECT_EQ(validate_return_topic(bad, "gatehouse", reserved).code(), Code::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(validate_return_topic("gatehousex", "gatehouse", reserved).is_ok());
  EXPECT_FALSE(validate_return_topic(std::string(257, 'a'), "gatehouse", reserved).is_ok());
}

TEST(ReplyTopicTest, LogIsRateLimited) {
  std::vector<std::string> lines;
  RateLimitedLog log([&](const std::string& line) { lines.push_back(line); },
                     std::chrono::hours(1));
  for (int i = 0; i < 100; ++i) log.log("refused " + std::to_string(i));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "refused 0");
  EXPECT_EQ(log.written(), 1u);
  EXPECT_EQ(log.suppressed(), 99u);

  std::vector<std::string> all;
  RateLimitedLog every([&](const std::string& line) { all.push_back(line); },
                       std::chrono::milliseconds(0));
  every.log("a");
  every.log("b");
  EXPECT_EQ(all.size(), 2u);
}

}  // namespace
}  // namespace gh::mqtt_adapter
