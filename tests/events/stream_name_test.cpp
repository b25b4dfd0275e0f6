#include "events/stream_name.h"

#include <gtest/gtest.h>

namespace gh {
namespace {

TEST(StreamNameTest, IdsAreOneToSixtyFourSafeCharacters) {
  EXPECT_TRUE(is_valid_id("d1"));
  EXPECT_TRUE(is_valid_id("Front-Door_2.v1"));
  EXPECT_TRUE(is_valid_id(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_id(std::string(65, 'a')));
  EXPECT_FALSE(is_valid_id(""));
  for (const char* bad : {"a b", "a/b", "ä", "a+b", "a#", "$SYS", "a*"})
    EXPECT_FALSE(is_valid_id(bad)) << bad;
  EXPECT_FALSE(is_valid_id(std::string("a\0b", 3)));
}

TEST(StreamNameTest, ValidateIdNamesWhatIsWrong) {
  EXPECT_TRUE(validate_id("d1", "device id").is_ok());
  auto status = validate_id("no spaces", "device id");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("device id"), std::string::npos);
}

TEST(StreamNameTest, StreamsAreAKnownKindAndAValidId) {
  EXPECT_EQ(device_stream("d1"), "device/d1");
  for (const char* good : {"device/d1", "user/alice", "room/general", "system/tokens"})
    EXPECT_TRUE(is_valid_stream(good)) << good;
  for (const char* bad :
       {"device/", "device", "/d1", "car/d1", "device/a/b", "Device/d1", "device/a b", ""})
    EXPECT_FALSE(is_valid_stream(bad)) << bad;
}

}  // namespace
}  // namespace gh
