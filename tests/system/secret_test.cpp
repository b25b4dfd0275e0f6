#include "actors/system/secret.h"

#include <gtest/gtest.h>

#include <set>

namespace gh::secrets {
namespace {

TEST(SecretTest, NewSecretsAre32HexCharactersAndStoreOnlyTheHashOfTheText) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto secret = new_secret();
    EXPECT_TRUE(is_secret_hex(secret.hex)) << secret.hex;
    EXPECT_EQ(secret.sha256.size(), kHashBytes);
    EXPECT_EQ(secret.sha256, sha256_of(secret.hex));
    seen.insert(secret.hex);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(SecretTest, Sha256OfAKnownText) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  const unsigned char expected[] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                    0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                    0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(sha256_of("abc"), std::string(reinterpret_cast<const char*>(expected), 32));
}

TEST(SecretTest, ToHexIsLowerCaseAndKeepsEveryByte) {
  EXPECT_EQ(to_hex(std::string("\x00\x0f\xab\xff", 4)), "000fabff");
  EXPECT_EQ(to_hex(""), "");
  EXPECT_EQ(to_hex(sha256_of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SecretTest, SecretHexIsExactly32LowerCaseHexCharacters) {
  EXPECT_TRUE(is_secret_hex("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(is_secret_hex("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(is_secret_hex("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(is_secret_hex("0123456789abcdef0123456789abcdef0"));
  EXPECT_FALSE(is_secret_hex("0123456789abcdef0123456789abcdeg"));
  EXPECT_FALSE(is_secret_hex(""));
}

TEST(SecretTest, EqualHashes) {
  EXPECT_TRUE(equal_hashes(std::string(32, 'a'), std::string(32, 'a')));
  EXPECT_FALSE(equal_hashes(std::string(32, 'a'), std::string(31, 'a') + "b"));
  EXPECT_FALSE(equal_hashes(std::string(32, 'a'), std::string(31, 'a')));
  EXPECT_FALSE(equal_hashes("", std::string(32, 'a')));
  EXPECT_TRUE(equal_hashes("", ""));
}

}  // namespace
}  // namespace gh::secrets
