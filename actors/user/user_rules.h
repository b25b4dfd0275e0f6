// Input rules for users, checked before anything is hashed or stored: user names, password
// length, security-answer normalisation, UTF-8 text. Pure functions of their arguments;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/status.h"
#include "events/utf8.h"

namespace gh::user {

inline constexpr size_t kMinPasswordChars = 8;
// Argon2id hashes any length, but an unbounded password is free work for an attacker.
inline constexpr size_t kMaxPasswordBytes = 1024;
inline constexpr size_t kMaxQuestionBytes = 256;
inline constexpr size_t kMaxAnswerBytes = 256;

// events/utf8.h's is_valid_utf8: protobuf refuses to parse a `string` field that is not
// well-formed UTF-8, so every text that ends up in an event is checked with it first.
using ::gh::is_valid_utf8;

// ok for a name of the stream-id alphabet ([A-Za-z0-9._-]{1,64}, events/stream_name.h) that
// starts with a letter or a digit; kInvalidArgument otherwise. The stricter first character
// keeps names like "." or "-x" out of topics and command lines.
Status validate_user_name(std::string_view name);

// ok for a password of at least kMinPasswordChars characters (UTF-8 code points) and at most
// kMaxPasswordBytes bytes; kInvalidArgument (too short, not UTF-8) or kTooLarge otherwise.
Status validate_password(std::string_view password);

// ok for a security question of 1..kMaxQuestionBytes bytes of UTF-8 that is not only
// spaces; kInvalidArgument or kTooLarge otherwise.
Status validate_question(std::string_view question);

// The form of a security answer that is hashed and compared: ASCII whitespace trimmed at
// both ends, runs of it collapsed to one space, ASCII letters lower-cased. Other bytes are
// kept as they are, so "  Rex   the DOG " and "rex the dog" are the same answer.
std::string normalise_answer(std::string_view answer);

}  // namespace gh::user
