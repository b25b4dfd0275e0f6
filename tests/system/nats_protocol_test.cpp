// NATS' client protocol as gatehouse reads it (actors/system/nats_protocol.h): whole and
// partial frames, bounds, errors. The connection itself is proven against a real nats-server
// by integration_test (NatsRevokingNode.*).
#include "actors/system/nats_protocol.h"

#include <gtest/gtest.h>

#include "actors/system/nats_connection.h"

namespace gh {
namespace {

using nats_protocol::Op;
using nats_protocol::take_frame;

TEST(NatsProtocolTest, ReadsEachFrameOfAStreamInOrder) {
  std::string buffer =
      "INFO {\"server_id\":\"x\",\"nonce\":\"abc\",\"max_payload\":1048576}\r\n"
      "PING\r\npong\r\n+OK\r\n"
      "MSG _INBOX.a.1 1 5\r\nhello\r\n"
      "msg a.b 22 reply.to 3\r\n\r\n\r\r\n"
      "-ERR 'Authorization Violation'\r\n";
  auto info = take_frame(buffer, 1024);
  ASSERT_TRUE(info.is_ok() && *info);
  EXPECT_EQ((*info)->op, Op::kInfo);
  auto parsed = nats_protocol::parse_info((*info)->body);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ((*parsed)["nonce"], "abc");
  EXPECT_EQ((**take_frame(buffer, 1024)).op, Op::kPing);
  EXPECT_EQ((**take_frame(buffer, 1024)).op, Op::kPong) << "operations are case-insensitive";
  EXPECT_EQ((**take_frame(buffer, 1024)).op, Op::kOk);
  auto msg = **take_frame(buffer, 1024);
  EXPECT_EQ(msg.op, Op::kMsg);
  EXPECT_EQ(msg.subject, "_INBOX.a.1");
  EXPECT_EQ(msg.sid, "1");
  EXPECT_EQ(msg.reply, "");
  EXPECT_EQ(msg.body, "hello");
  auto with_reply = **take_frame(buffer, 1024);
  EXPECT_EQ(with_reply.reply, "reply.to");
  EXPECT_EQ(with_reply.body, "\r\n\r") << "a payload is bytes, CRLF included";
  auto error = **take_frame(buffer, 1024);
  EXPECT_EQ(error.op, Op::kErr);
  EXPECT_EQ(error.body, "Authorization Violation");
  EXPECT_TRUE(buffer.empty());
  auto none = take_frame(buffer, 1024);
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(*none);
}

TEST(NatsProtocolTest, AFrameSplitAnywhereIsReadOnceWhole) {
  const std::string whole = "MSG s.t 7 r 11\r\nhello world\r\nPONG\r\n";
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    std::string buffer = whole.substr(0, cut);
    auto first = take_frame(buffer, 1024);
    ASSERT_TRUE(first.is_ok()) << cut;
    if (cut < whole.find("PONG")) {
      EXPECT_FALSE(*first) << "not whole at " << cut;
      EXPECT_EQ(buffer, whole.substr(0, cut)) << "nothing taken";
    }
    buffer += whole.substr(cut);
    if (!*first) first = take_frame(buffer, 1024);
    ASSERT_TRUE(first.is_ok() && *first) << cut;
    EXPECT_EQ((*first)->body, "hello world");
    auto second = take_frame(buffer, 1024);
    ASSERT_TRUE(second.is_ok() && *second) << cut;
    EXPECT_EQ((*second)->op, Op::kPong);
  }
}

TEST(NatsProtocolTest, WhatNoNatsServerSendsIsAClearError) {
  const std::pair<std::string, std::string> cases[] = {
      {"MSG a 1 2000\r\n", "over the 1024 accepted"},
      {"MSG a 1\r\n", "without subject, sid and byte count"},
      {"MSG a 1 x3\r\n", "not a number"},
      {"MSG a 1 3\r\nabcXY", "not followed by CRLF"},
      {"HELLO\r\n", "unknown NATS operation"},
      {std::string(5000, 'x'), "control line longer"},
      {"INFO " + std::string(5000, 'x') + "\r\n", "control line longer"},
  };
  for (const auto& [input, why] : cases) {
    std::string buffer = input;
    auto frame = take_frame(buffer, 1024);
    ASSERT_FALSE(frame.is_ok()) << input.substr(0, 40);
    EXPECT_NE(frame.status().message().find(why), std::string::npos) << frame.status().message();
  }
  EXPECT_FALSE(nats_protocol::parse_info("[1]").is_ok());
  EXPECT_FALSE(nats_protocol::parse_info("{").is_ok());
}

TEST(NatsProtocolTest, ClientLinesAndUrls) {
  EXPECT_EQ(nats_protocol::pub_lines("a.b", "_INBOX.x.1", "hi"), "PUB a.b _INBOX.x.1 2\r\nhi\r\n");
  EXPECT_EQ(nats_protocol::pub_lines("a.b", "", ""), "PUB a.b 0\r\n\r\n");
  EXPECT_EQ(nats_protocol::sub_line("_INBOX.x.*", "1"), "SUB _INBOX.x.* 1\r\n");
  EXPECT_EQ(nats_protocol::connect_line({{"verbose", false}}), "CONNECT {\"verbose\":false}\r\n");
  auto urls = nats_client::parse_urls("nats://127.0.0.1:4222,host:5");
  ASSERT_TRUE(urls.is_ok());
  EXPECT_EQ(urls->size(), 2u);
  auto endpoint = nats_client::parse_url("nats://127.0.0.1:4222");
  ASSERT_TRUE(endpoint.is_ok());
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, "4222");
  EXPECT_FALSE(nats_client::parse_urls("").is_ok());
  EXPECT_FALSE(nats_client::parse_urls("nats://host").is_ok());
  EXPECT_FALSE(nats_client::parse_urls("nats://a:1,nats://b:x").is_ok());
}

TEST(NatsProtocolTest, ANatsUrlNobodyListensOnIsUnavailableInBoundedTime) {
  auto opened =
      nats_client::NatsConnection::open("nats://127.0.0.1:1", {}, std::chrono::milliseconds(2000));
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), Code::kUnavailable) << opened.status().to_string();
}

}  // namespace
}  // namespace gh
