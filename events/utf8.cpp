#include "events/utf8.h"

namespace gh {

bool decode_utf8(std::string_view text, size_t& i, uint32_t& code_point) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    code_point = lead;
    ++i;
    return true;
  }
  size_t length;
  uint32_t least;  // the smallest code point of this length: below it, overlong
  uint32_t cp;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, least = 0x80, cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, least = 0x800, cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, least = 0x10000, cp = lead & 0x07;
  } else {
    return false;
  }
  if (i + length > text.size()) return false;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  code_point = cp;
  i += length;
  return true;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  uint32_t code_point;
  while (i < text.size()) {
    if (!decode_utf8(text, i, code_point)) return false;
  }
  return true;
}

}  // namespace gh
