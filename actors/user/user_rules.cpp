#include "actors/user/user_rules.h"

#include <cstdint>

#include "events/stream_name.h"

namespace gh::user {
namespace {

// isspace() depends on the locale; answers must normalise the same on every machine.
bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

size_t count_code_points(std::string_view utf8) {
  size_t n = 0;
  for (char c : utf8)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool only_spaces(std::string_view text) {
  for (char c : text)
    if (!is_ascii_space(c)) return false;
  return true;
}

}  // namespace

Status validate_user_name(std::string_view name) {
  if (!is_valid_id(name) || !is_ascii_alnum(name.front()))
    return invalid_argument(
        "user name must be 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or "
        "digit");
  return Status::ok();
}

Status validate_password(std::string_view password) {
  if (password.size() > kMaxPasswordBytes)
    return too_large("password must be at most " + std::to_string(kMaxPasswordBytes) + " bytes");
  if (!is_valid_utf8(password)) return invalid_argument("password must be UTF-8 text");
  if (count_code_points(password) < kMinPasswordChars)
    return invalid_argument("password must be at least " + std::to_string(kMinPasswordChars) +
                            " characters");
  return Status::ok();
}

Status validate_question(std::string_view question) {
  if (question.size() > kMaxQuestionBytes)
    return too_large("security question must be at most " + std::to_string(kMaxQuestionBytes) +
                     " bytes");
  if (!is_valid_utf8(question)) return invalid_argument("security question must be UTF-8 text");
  if (only_spaces(question)) return invalid_argument("security question must not be empty");
  return Status::ok();
}

std::string normalise_answer(std::string_view answer) {
  std::string out;
  out.reserve(answer.size());
  bool pending_space = false;
  for (char c : answer) {
    if (is_ascii_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

}  // namespace gh::user
