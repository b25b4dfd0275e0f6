// The log's lines: one line per event whatever the values hold (no forged lines), time,
// level and component first, JSON that parses back to the same strings.
#include "events/log.h"

#include <gtest/gtest.h>

namespace gh::log {
namespace {

constexpr int64_t kTime = 1764720850123;  // 2025-12-03T00:14:10.123Z

TEST(LogLine, TextHasTimeLevelComponentThenFields) {
  EXPECT_EQ(format_line(Format::kText, kTime, Level::kInfo, "http", "request",
                        {{"path", "/devices/door1/lock"}, {"status", "202"}}),
            "2025-12-03T00:14:10.123Z info http: request path=/devices/door1/lock status=202");
}

TEST(LogLine, TextQuotesValuesThatWouldNotReadBackAsOneWord) {
  auto line =
      format_line(Format::kText, kTime, Level::kWarning, "devices", "a\nb",
                  {{"by", "api_token admin"}, {"door", "x\n2025-12-03T00:00:00.000Z error"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a value never starts a new line: " << line;
  EXPECT_NE(line.find(R"(by="api_token admin")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"(door="x\n2025)"), std::string::npos) << line;
  EXPECT_NE(line.find("warning devices: a b"), std::string::npos) << line;
}

TEST(LogLine, JsonEscapesEveryStringAndKeepsOneLine) {
  auto line = format_line(Format::kJson, kTime, Level::kError, "mqtt", "lost \"it\"",
                          {{"cause", "a\\b\n\x01"}});
  EXPECT_EQ(line, R"({"time":"2025-12-03T00:14:10.123Z","level":"error","component":"mqtt",)"
                  R"("msg":"lost \"it\"","cause":"a\\b\n\u0001"})");
}

TEST(LogLevels, NamesAndFiltering) {
  EXPECT_EQ(parse_level("warning"), Level::kWarning);
  EXPECT_FALSE(parse_level("loud"));
  EXPECT_EQ(parse_format("json"), Format::kJson);
  EXPECT_FALSE(parse_format("xml"));
  std::vector<std::string> lines;
  configure(Level::kWarning, Format::kText, [&](const std::string& l) { lines.push_back(l); });
  info("t", "dropped");
  warning("t", "kept");
  configure(Level::kInfo, Format::kText);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" warning t: kept"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace gh::log
