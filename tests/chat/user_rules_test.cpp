// The user input rules: names, passwords, questions, answers, UTF-8.
#include "actors/user/user_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace gh::user {
namespace {

TEST(UserRules, NamesUseTheIdAlphabetAndStartWithALetterOrDigit) {
  EXPECT_TRUE(validate_user_name("alice").is_ok());
  EXPECT_TRUE(validate_user_name("Bob_2.x-y").is_ok());
  EXPECT_TRUE(validate_user_name("7up").is_ok());
  EXPECT_TRUE(validate_user_name(std::string(64, 'a')).is_ok());
  for (std::string bad : {"", ".", "-x", "_x", "a b", "a/b", "ä", "[erased]"})
    EXPECT_EQ(validate_user_name(bad).code(), Code::kInvalidArgument) << bad;
  EXPECT_EQ(validate_user_name(std::string(65, 'a')).code(), Code::kInvalidArgument);
}

TEST(UserRules, PasswordsHaveAtLeastEightCharactersAndABound) {
  EXPECT_EQ(validate_password("1234567").code(), Code::kInvalidArgument);
  EXPECT_TRUE(validate_password("12345678").is_ok());
  // Characters, not bytes: seven two-byte letters are still too short.
  EXPECT_EQ(validate_password("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9").code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(validate_password("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9")
                  .is_ok());
  EXPECT_TRUE(validate_password(std::string(kMaxPasswordBytes, 'p')).is_ok());
  EXPECT_EQ(validate_password(std::string(kMaxPasswordBytes + 1, 'p')).code(), Code::kTooLarge);
  EXPECT_EQ(validate_password("12345678\xFF").code(), Code::kInvalidArgument);
}

TEST(UserRules, QuestionsAreNonEmptyBoundedText) {
  EXPECT_TRUE(validate_question("Name of your first pet?").is_ok());
  EXPECT_EQ(validate_question("").code(), Code::kInvalidArgument);
  EXPECT_EQ(validate_question("  \t ").code(), Code::kInvalidArgument);
  EXPECT_EQ(validate_question("\xC0\xAF").code(), Code::kInvalidArgument);
  EXPECT_EQ(validate_question(std::string(kMaxQuestionBytes + 1, 'q')).code(), Code::kTooLarge);
}

TEST(UserRules, AnswersAreTrimmedCollapsedAndLowerCased) {
  EXPECT_EQ(normalise_answer("  Rex   the\tDOG \n"), "rex the dog");
  EXPECT_EQ(normalise_answer("rex the dog"), "rex the dog");
  EXPECT_EQ(normalise_answer(""), "");
  EXPECT_EQ(normalise_answer("   "), "");
  EXPECT_EQ(normalise_answer("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89") << "only ASCII folds";
}

TEST(UserRules, Utf8IsCheckedStrictly) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));       // euro sign
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));   // an emoji
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

}  // namespace
}  // namespace gh::user
