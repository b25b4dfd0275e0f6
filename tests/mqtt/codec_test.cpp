// Pure codec units: the JSON envelope, safe parsing, picture recognition and naming, the
// device JSON shapes; and the MQTT adapter's pure helpers (broker URL, topic filters).
#include <gtest/gtest.h>

#include <string>

#include "adapters/codec/device_json.h"
#include "adapters/codec/image_type.h"
#include "adapters/codec/iso_time.h"
#include "adapters/codec/json_reply.h"
#include "adapters/codec/picture_id.h"
#include "adapters/mqtt/broker_url.h"
#include "adapters/mqtt/topic_filter.h"

namespace gh {
namespace {

using nlohmann::json;

TEST(JsonReply, OkMergesFields) {
  EXPECT_EQ(codec::ok_reply(), json::parse(R"({"ok":true})"));
  EXPECT_EQ(codec::ok_reply({{"id", "d1"}, {"n", 2}}),
            json::parse(R"({"ok":true,"id":"d1","n":2})"));
  EXPECT_EQ(codec::ok_reply(json(nullptr)), json::parse(R"({"ok":true})"));
  EXPECT_EQ(codec::ok_reply(json::array({1})), json::parse(R"({"ok":true,"value":[1]})"));
  // A field cannot turn an ok reply into something else.
  EXPECT_EQ(codec::ok_reply({{"ok", false}})["ok"], true);
}

TEST(JsonReply, ErrorUsesCodeNames) {
  EXPECT_EQ(codec::error_reply(invalid_argument("bad id")),
            json::parse(R"({"ok":false,"error":{"code":"invalid_argument","message":"bad id"}})"));
  EXPECT_EQ(codec::error_reply(failed_precondition("x"))["error"]["code"], "failed_precondition");
  EXPECT_EQ(codec::error_reply(too_large("x"))["error"]["code"], "too_large");
}

TEST(JsonReply, ToWireReplacesInvalidUtf8) {
  json j = {{"m", std::string("a\xff")}};
  EXPECT_EQ(codec::to_wire(j), "{\"m\":\"a\xEF\xBF\xBD\"}");
}

TEST(ParseJson, AcceptsValidJson) {
  auto r = codec::parse_json(R"({"a":[1,2,{"b":"c"}]})");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ((*r)["a"][2]["b"], "c");
}

TEST(ParseJson, RejectsMalformedWithoutThrowing) {
  for (std::string_view bad : {"", "{", "{\"a\":}", "[1,]", "nul", "{} {}", "\"\xff\""}) {
    auto r = codec::parse_json(bad);
    EXPECT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ParseJson, EnforcesSizeLimit) {
  std::string text = "\"" + std::string(100, 'x') + "\"";
  EXPECT_TRUE(codec::parse_json(text, text.size()).is_ok());
  EXPECT_EQ(codec::parse_json(text, text.size() - 1).status().code(), Code::kTooLarge);
}

TEST(ParseJson, EnforcesDepthLimit) {
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_TRUE(codec::parse_json(nested(8), 1 << 20, 8).is_ok());
  EXPECT_EQ(codec::parse_json(nested(9), 1 << 20, 8).status().code(), Code::kTooLarge);
  // A hostile, deep document is refused before it is built.
  EXPECT_EQ(codec::parse_json(nested(100000), 1 << 20, 32).status().code(), Code::kTooLarge);
  // Brackets inside strings do not count.
  EXPECT_TRUE(codec::parse_json(R"({"a":"[[[[[[[[[[\"[[["})", 1 << 20, 2).is_ok());
}

TEST(ImageType, DetectsByContent) {
  EXPECT_EQ(codec::detect_image_type(std::string("\xFF\xD8\xFF\xE0rest", 8)), "image/jpeg");
  EXPECT_EQ(codec::detect_image_type(std::string("\x89PNG\r\n\x1A\n\0\0", 10)), "image/png");
  EXPECT_FALSE(codec::detect_image_type(""));
  EXPECT_FALSE(codec::detect_image_type(std::string("\xFF\xD8", 2)));
  EXPECT_FALSE(codec::detect_image_type("GIF89a"));
  EXPECT_FALSE(codec::detect_image_type(std::string("\x89PNG\r\n\x1A", 7)));
}

TEST(PictureId, IsStableHex) {
  auto a = codec::picture_id("abc");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(codec::is_valid_picture_id(a));
  EXPECT_EQ(a, codec::picture_id("abc"));
  EXPECT_NE(a, codec::picture_id("abd"));
  EXPECT_FALSE(codec::is_valid_picture_id("ABC"));
  EXPECT_FALSE(codec::is_valid_picture_id(std::string(32, 'g')));
}

TEST(IsoTime, FormatsUtcMilliseconds) {
  EXPECT_EQ(codec::iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(codec::iso8601_ms(1795425863123), "2026-11-23T09:24:23.123Z");
  EXPECT_TRUE(codec::iso8601_or_null(0).is_null());
}

device::CommandRecord sample_command() {
  device::CommandRecord c;
  c.id = "cmd-1";
  c.action = events::UNLOCK;
  c.status = device::CommandStatus::kSent;
  c.requested_by.set_kind(events::Cause::API_TOKEN);
  c.requested_by.set_name("ops");
  c.requested_by.set_channel("http");
  c.requested_at_ms = 1000;
  c.sent_at_ms = 2000;
  c.timeout_ms = 10000;
  return c;
}

TEST(DeviceJson, CommandShape) {
  json j = codec::to_json(sample_command());
  EXPECT_EQ(j["command_id"], "cmd-1");
  EXPECT_EQ(j["action"], "UNLOCK");
  EXPECT_EQ(j["status"], "sent");
  EXPECT_EQ(j["requested_by"],
            json::parse(R"({"kind":"api_token","name":"ops","channel":"http"})"));
  EXPECT_EQ(j["requested_at"], "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(j["sent_at"], "1970-01-01T00:00:02.000Z");
  EXPECT_TRUE(j["finished_at"].is_null());
  EXPECT_EQ(j["timeout_ms"], 10000);
  EXPECT_TRUE(j["reason"].is_null());

  auto failed = sample_command();
  failed.status = device::CommandStatus::kFailed;
  failed.reason = "jammed";
  EXPECT_EQ(codec::to_json(failed)["status"], "failed");
  EXPECT_EQ(codec::to_json(failed)["reason"], "jammed");
}

TEST(DeviceJson, StatusNamesAreLowerCase) {
  using S = device::CommandStatus;
  auto name = [](S s) {
    auto c = sample_command();
    c.status = s;
    return codec::to_json(c)["status"].get<std::string>();
  };
  EXPECT_EQ(name(S::kRequested), "requested");
  EXPECT_EQ(name(S::kConfirmed), "confirmed");
  EXPECT_EQ(name(S::kTimedOut), "timed_out");
}

TEST(DeviceJson, StateShape) {
  device::State s;
  s.id = "door1";
  s.registered = true;
  s.type = "lock";
  s.name = "Front";
  s.firmware = "1.2";
  s.online = true;
  s.last_seen_ms = 1795425863123;
  s.desired = events::LOCKED;
  s.reported = events::UNLOCKED;
  s.version = 7;
  s.strangers_seen = 1;
  json j = codec::to_json(s);
  for (auto key :
       {"id", "registered", "provisioned", "type", "name", "firmware", "online", "last_seen",
        "desired", "reported", "version", "pending", "strangers_seen", "last_stranger"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["id"], "door1");
  EXPECT_EQ(j["last_seen"], "2026-11-23T09:24:23.123Z");
  EXPECT_EQ(j["desired"], "LOCKED");
  EXPECT_EQ(j["reported"], "UNLOCKED");
  EXPECT_EQ(j["version"], 7);
  EXPECT_TRUE(j["pending"].is_null());
  EXPECT_TRUE(j["last_stranger"].is_null());

  s.reported = events::LOCK_STATE_UNKNOWN;
  s.pending = sample_command();
  s.last_stranger = device::Stranger{"p1", "a1", "image/png", 10, 5000};
  j = codec::to_json(s);
  EXPECT_EQ(j["reported"], "UNKNOWN");
  EXPECT_EQ(j["pending"]["command_id"], "cmd-1");
  EXPECT_EQ(j["last_stranger"],
            json::parse(R"({"picture_id":"p1","alert_id":"a1","content_type":"image/png",
                            "size_bytes":10,"seen_at":"1970-01-01T00:00:05.000Z"})"));
}

TEST(DeviceJson, AuditEntryFlattensCommand) {
  device::AuditEntry e;
  e.command = sample_command();
  e.requested_version = 3;
  json j = codec::to_json(e);
  EXPECT_EQ(j["kind"], "command");
  EXPECT_EQ(j["command_id"], "cmd-1");
  EXPECT_EQ(j["requested_version"], 3);
}

TEST(DeviceJson, UnexpectedReportInStatusAndAudit) {
  device::State s;
  s.id = "d1";
  EXPECT_TRUE(codec::to_json(s)["unexpected"].is_null());
  s.unexpected = device::UnexpectedReport{events::UNLOCKED, events::LOCKED, 5000, 7};
  json expected = json::parse(
      R"({"reported":"UNLOCKED","desired":"LOCKED","at":"1970-01-01T00:00:05.000Z","version":7})");
  EXPECT_EQ(codec::to_json(s)["unexpected"], expected);
  device::AuditEntry e;
  e.kind = device::AuditKind::kUnexpected;
  e.unexpected = *s.unexpected;
  expected["kind"] = "unexpected";
  EXPECT_EQ(codec::to_json(e), expected);
}

TEST(BrokerUrl, Parses) {
  auto a = mqtt_adapter::parse_broker_url("tcp://127.0.0.1:1884");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 1884);
  EXPECT_EQ(mqtt_adapter::parse_broker_url("mqtt://broker")->port, 1883);
  EXPECT_EQ(mqtt_adapter::parse_broker_url("[::1]:99")->host, "::1");
  EXPECT_EQ(mqtt_adapter::broker_url(*mqtt_adapter::parse_broker_url("[::1]:99")),
            "tcp://[::1]:99");
  for (auto bad : {"ssl://h:1", "tcp://:1", "tcp://h:0", "tcp://h:70000", "tcp://h:x"}) {
    EXPECT_FALSE(mqtt_adapter::parse_broker_url(bad).is_ok()) << bad;
  }
}

// mqtt.broker on NATS: the cluster's listeners, in the order given, each in paho's form.
TEST(BrokerUrl, ParsesAList) {
  auto urls = mqtt_adapter::parse_broker_urls("tcp://n1:4001,mqtt://n2,n3:4003");
  ASSERT_TRUE(urls.is_ok()) << urls.status().to_string();
  EXPECT_EQ(*urls, (std::vector<std::string>{"tcp://n1:4001", "tcp://n2:1883", "tcp://n3:4003"}));
  EXPECT_EQ(mqtt_adapter::parse_broker_urls("tcp://one:1")->size(), 1u);
  for (auto bad : {"", ",tcp://h:1", "tcp://h:1,", "tcp://h:1,,tcp://g:2", "tcp://h:1,ssl://g:2"})
    EXPECT_FALSE(mqtt_adapter::parse_broker_urls(bad).is_ok()) << bad;
}

TEST(TopicFilter, Matches) {
  using mqtt_adapter::topic_matches;
  EXPECT_TRUE(topic_matches("g/devices/+/hello", "g/devices/d1/hello"));
  EXPECT_FALSE(topic_matches("g/devices/+/hello", "g/devices/d1/x/hello"));
  EXPECT_FALSE(topic_matches("g/devices/+/hello", "g/devices/d1/state"));
  EXPECT_TRUE(topic_matches("g/#", "g"));
  EXPECT_TRUE(topic_matches("g/#", "g/a/b"));
  EXPECT_TRUE(topic_matches("+/+", "/a"));
  EXPECT_FALSE(topic_matches("#", "$SYS/broker"));
}

}  // namespace
}  // namespace gh
