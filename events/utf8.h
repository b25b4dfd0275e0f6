// UTF-8, checked once for everyone: names, message texts, reply topics and payloads are
// refused unless they are well-formed UTF-8 (Protobuf would store invalid UTF-8 in a string
// field and then refuse to read it back). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gh {

// Decodes the sequence starting at `i` into `code_point` and moves `i` past it; false, with
// `i` untouched, for an invalid one: a stray continuation byte, a cut or overlong sequence,
// a surrogate (U+D800..U+DFFF) or anything above U+10FFFF.
bool decode_utf8(std::string_view text, size_t& i, uint32_t& code_point);

// True when all of `text` is well-formed UTF-8 (the empty text is).
bool is_valid_utf8(std::string_view text);

}  // namespace gh
