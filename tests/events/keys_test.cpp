#include "events/keys.h"

#include <gtest/gtest.h>

namespace gh::keys {
namespace {

TEST(KeysTest, Be64IsBigEndianAndRoundTrips) {
  EXPECT_EQ(be64(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  for (uint64_t v : std::vector<uint64_t>{0, 1, 255, 256, 0xffffffff, UINT64_MAX})
    EXPECT_EQ(read_be64(be64(v)), v);
  EXPECT_EQ(read_be64("short"), std::nullopt);
  // Big-endian keeps numeric order in RocksDB's bytewise order.
  EXPECT_LT(be64(255), be64(256));
  EXPECT_LT(be64(1), be64(UINT64_MAX));
}

TEST(KeysTest, VersionedKeysParseBackAndSortByStreamThenVersion) {
  auto key = versioned("device/d1", 7);
  EXPECT_EQ(key, std::string("device/d1\0", 10) + be64(7));
  auto parsed = parse_versioned(key);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->stream, "device/d1");
  EXPECT_EQ(parsed->version, 7u);
  EXPECT_TRUE(key.starts_with(stream_prefix("device/d1")));
  EXPECT_LT(versioned("device/a", 2), versioned("device/a", 10));
  // Every key of "device/a" sorts before any key of "device/a.b": '\0' < '.'.
  EXPECT_LT(versioned("device/a", UINT64_MAX), versioned("device/a.b", 0));
  EXPECT_FALSE(versioned("device/a.b", 1).starts_with(stream_prefix("device/a")));
}

TEST(KeysTest, MalformedVersionedKeysAreRejected) {
  EXPECT_EQ(parse_versioned(""), std::nullopt);
  EXPECT_EQ(parse_versioned(be64(1)), std::nullopt);
  EXPECT_EQ(parse_versioned(std::string("\0", 1) + be64(1)), std::nullopt);  // empty stream
  EXPECT_EQ(parse_versioned("device/d1x" + be64(1)), std::nullopt);          // no separator
}

TEST(KeysTest, CommandKeysArePerStream) {
  EXPECT_EQ(command("device/d1", "c1"), std::string("device/d1\0c1", 12));
  EXPECT_NE(command("device/d1", "c1"), command("device/d2", "c1"));
}

}  // namespace
}  // namespace gh::keys
