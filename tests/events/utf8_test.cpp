#include "events/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace gh {
namespace {

TEST(Utf8Test, AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));      // euro sign
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // an emoji
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));
  for (const char* bad : {
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong '/'
           "\xED\xA0\x80",      // a surrogate
           "\xF4\x90\x80\x80",  // above U+10FFFF
           "\xE2\x82",          // cut short
           "\x80",              // a lone continuation byte
           "\xF8\x88\x80\x80",  // a five-byte lead
           "ok\xFF",            // a byte UTF-8 never uses, after good text
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
}

TEST(Utf8Test, DecodesOneCodePointAndStaysPutOnABadOne) {
  const std::string text = "a\xE2\x82\xAC\xC0\xAF";
  size_t i = 0;
  uint32_t cp = 0;
  ASSERT_TRUE(decode_utf8(text, i, cp));
  EXPECT_EQ(cp, uint32_t('a'));
  EXPECT_EQ(i, 1u);
  ASSERT_TRUE(decode_utf8(text, i, cp));
  EXPECT_EQ(cp, 0x20ACu);
  EXPECT_EQ(i, 4u);
  EXPECT_FALSE(decode_utf8(text, i, cp));
  EXPECT_EQ(i, 4u);
  EXPECT_EQ(cp, 0x20ACu);
}

}  // namespace
}  // namespace gh
