#include "tools/ctl/render.h"

#include <gtest/gtest.h>

namespace gh::ctl {
namespace {

TEST(RenderTest, TimesFormatAsIsoUtcWithMilliseconds) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(1763884801234), "2025-11-23T08:00:01.234Z");
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999Z");
}

TEST(RenderTest, TimesParseFromUnixMillisecondsOrIsoUtc) {
  EXPECT_EQ(parse_time("1763884801234"), 1763884801234);
  EXPECT_EQ(parse_time("2025-11-23T08:00:01.234Z"), 1763884801234);
  EXPECT_EQ(parse_time("2025-11-23T08:00:01Z"), 1763884801000);
  EXPECT_EQ(parse_time("2025-11-23T08:00:01.5"), 1763884801500);
  EXPECT_EQ(parse_time("2025-11-23T08:00"), 1763884800000);
  EXPECT_EQ(parse_time("2025-11-23"), 1763856000000);
  for (const char* bad : {"", "yesterday", "2025-13-01", "2025-11-23T25:00:00Z",
                          "2025-11-23T08:00:00+02:00", "2025-11-23T08", "12ab"})
    EXPECT_EQ(parse_time(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_time(format_time(1763884801234)), 1763884801234);
}

TEST(RenderTest, EventLinesShowEveryEnvelopeFieldAndTheEvent) {
  events::Envelope e;
  e.set_stream("device/d1");
  e.set_version(3);
  e.set_position(17);
  e.set_time_unix_ms(1763884801234);
  e.set_command_id("c1");
  e.mutable_cause()->set_kind(events::Cause::USER);
  e.mutable_cause()->set_name("alice");
  e.mutable_cause()->set_channel("http");
  e.mutable_lock_state_reported()->set_state(events::LOCKED);
  EXPECT_EQ(event_line(e),
            "p17 device/d1 v3 2025-11-23T08:00:01.234Z cmd=c1 by=user:alice/http "
            "lock_state_reported { state: LOCKED }");
  e.clear_command_id();
  e.clear_cause();
  e.mutable_device_came_online();
  EXPECT_EQ(event_line(e), "p17 device/d1 v3 2025-11-23T08:00:01.234Z by=- device_came_online { }");
  auto json = event_json(e);
  EXPECT_NE(json.find("\"stream\":\"device/d1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"device_came_online\":{}"), std::string::npos) << json;
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace gh::ctl
