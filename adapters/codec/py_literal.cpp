#include "adapters/codec/py_literal.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <system_error>

#include "adapters/codec/json_reply.h"
#include "events/utf8.h"

namespace gh::codec {

using nlohmann::json;

namespace {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Recursive descent over the literal grammar. The recursion is bounded by max_depth and the
// input by max_bytes (checked by the caller), so a hostile payload costs at most a bounded
// stack and time linear in its size.
class Parser {
 public:
  Parser(std::string_view text, size_t max_depth) : text_(text), max_depth_(max_depth) {}

  Result<json> parse() {
    json value;
    skip_space();
    GH_RETURN_IF_ERROR(parse_value(value, 0));
    skip_space();
    if (pos_ < text_.size()) return error("unexpected text after the value");
    return value;
  }

 private:
  Status error(const std::string& what) const { return error_at(what, pos_); }
  Status error_at(const std::string& what, size_t at) const {
    return invalid_argument("python literal: " + what + " at offset " + std::to_string(at));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  // Inside brackets Python joins lines, so newlines are plain space here. A backslash line
  // continuation or a comment is not literal syntax that str() ever writes: refused.
  void skip_space() {
    while (!at_end()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  Status enter(size_t depth) const {
    if (depth + 1 > max_depth_) {
      return too_large("python literal nests deeper than " + std::to_string(max_depth_) +
                       " levels");
    }
    return Status::ok();
  }

  Status parse_value(json& out, size_t depth) {
    skip_space();
    if (at_end()) return error("unexpected end of input, expected a value");
    const char c = text_[pos_];
    if (c == '{') return parse_dict(out, depth);
    if (c == '[') return parse_list(out, depth);
    if (c == '(') return parse_tuple(out, depth);
    if (c == '\'' || c == '"') return parse_string(out, /*raw=*/false);
    if (is_digit(c) || c == '-' || c == '+' || (c == '.' && is_digit(peek(1)))) {
      return parse_number(out);
    }
    if (is_name_start(c)) return parse_name(out);
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      return error("unexpected character");
    }
    return error(std::string("unexpected character '") + c + "'");
  }

  Status parse_dict(json& out, size_t depth) {
    GH_RETURN_IF_ERROR(enter(depth));
    ++pos_;  // '{'
    out = json::object();
    while (true) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        return Status::ok();
      }
      const size_t key_at = pos_;
      json key;
      GH_RETURN_IF_ERROR(parse_value(key, depth + 1));
      if (!key.is_string()) return error_at("dict keys must be strings", key_at);
      skip_space();
      if (peek() != ':') {
        return error(peek() == ',' || peek() == '}' ? "expected ':' after a dict key (sets are "
                                                      "not supported)"
                                                    : "expected ':' after a dict key");
      }
      ++pos_;
      json value;
      GH_RETURN_IF_ERROR(parse_value(value, depth + 1));
      // As in Python, a repeated key keeps the last value.
      out[key.get<std::string>()] = std::move(value);
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        return at_end() ? error("unterminated dict") : error("expected ',' or '}' in a dict");
      }
    }
  }

  Status parse_list(json& out, size_t depth) {
    GH_RETURN_IF_ERROR(enter(depth));
    ++pos_;  // '['
    out = json::array();
    while (true) {
      skip_space();
      if (peek() == ']') {
        ++pos_;
        return Status::ok();
      }
      json value;
      GH_RETURN_IF_ERROR(parse_value(value, depth + 1));
      out.push_back(std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ']') {
        return at_end() ? error("unterminated list") : error("expected ',' or ']' in a list");
      }
    }
  }

  // "()" and "(a,)" / "(a, b)" are tuples (JSON arrays); "(a)" is just `a` in parentheses.
  Status parse_tuple(json& out, size_t depth) {
    GH_RETURN_IF_ERROR(enter(depth));
    ++pos_;  // '('
    skip_space();
    if (peek() == ')') {
      ++pos_;
      out = json::array();
      return Status::ok();
    }
    json first;
    GH_RETURN_IF_ERROR(parse_value(first, depth + 1));
    skip_space();
    if (peek() == ')') {
      ++pos_;
      out = std::move(first);
      return Status::ok();
    }
    if (peek() != ',') {
      return at_end() ? error("unterminated tuple") : error("expected ',' or ')' in a tuple");
    }
    ++pos_;
    out = json::array();
    out.push_back(std::move(first));
    while (true) {
      skip_space();
      if (peek() == ')') {
        ++pos_;
        return Status::ok();
      }
      json value;
      GH_RETURN_IF_ERROR(parse_value(value, depth + 1));
      out.push_back(std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        return at_end() ? error("unterminated tuple") : error("expected ',' or ')' in a tuple");
      }
    }
  }

  // A name: True/False/None (and JSON's spellings), or a string prefix. Anything else would
  // be a variable, a function or a module to eval(): never.
  Status parse_name(json& out) {
    const size_t start = pos_;
    while (!at_end() && is_name_char(text_[pos_])) ++pos_;
    const std::string_view name = text_.substr(start, pos_ - start);
    if (peek() == '\'' || peek() == '"') {
      if (name == "u" || name == "U") return parse_string(out, /*raw=*/false);
      if (name == "r" || name == "R") return parse_string(out, /*raw=*/true);
      return error_at("only u'' and r'' string prefixes are supported (no bytes or f-strings)",
                      start);
    }
    if (name == "True" || name == "true") {
      out = true;
    } else if (name == "False" || name == "false") {
      out = false;
    } else if (name == "None" || name == "null") {
      out = nullptr;
    } else {
      std::string shown(name.substr(0, 32));
      if (name.size() > 32) shown += "...";
      return error_at("names are not allowed: '" + shown + "'", start);
    }
    return Status::ok();
  }

  Status parse_string(json& out, bool raw) {
    const size_t start = pos_;
    const char quote = text_[pos_];
    const bool triple = peek(1) == quote && peek(2) == quote;
    pos_ += triple ? 3 : 1;
    std::string value;
    while (true) {
      if (at_end()) return error_at("unterminated string", start);
      const char c = text_[pos_];
      if (c == quote) {
        if (!triple) {
          ++pos_;
          break;
        }
        if (peek(1) == quote && peek(2) == quote) {
          pos_ += 3;
          break;
        }
        value += c;
        ++pos_;
        continue;
      }
      if ((c == '\n' || c == '\r') && !triple) {
        return error_at("unterminated string (newline in a one-line string)", start);
      }
      if (c != '\\') {
        value += c;  // the whole text was checked to be UTF-8
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= text_.size()) return error_at("unterminated string", start);
      const char e = text_[pos_ + 1];
      if (raw) {
        // In a raw string a backslash only keeps the next character from ending it.
        value += '\\';
        value += e;
        pos_ += 2;
        continue;
      }
      GH_RETURN_IF_ERROR(parse_escape(value, e));
    }
    out = std::move(value);
    return Status::ok();
  }

  // At a backslash followed by `e`.
  Status parse_escape(std::string& value, char e) {
    const size_t at = pos_;
    pos_ += 2;
    switch (e) {
      case '\n':
        return Status::ok();  // line continuation
      case '\r':
        if (peek() == '\n') ++pos_;
        return Status::ok();
      case '\\':
      case '\'':
      case '"':
        value += e;
        return Status::ok();
      case 'a':
        value += '\a';
        return Status::ok();
      case 'b':
        value += '\b';
        return Status::ok();
      case 'f':
        value += '\f';
        return Status::ok();
      case 'n':
        value += '\n';
        return Status::ok();
      case 'r':
        value += '\r';
        return Status::ok();
      case 't':
        value += '\t';
        return Status::ok();
      case 'v':
        value += '\v';
        return Status::ok();
      case 'x':
        return hex_escape(value, 2, at);
      case 'u':
        return hex_escape(value, 4, at);
      case 'U':
        return hex_escape(value, 8, at);
      case 'N':
        return error_at("\\N{...} escapes are not supported", at);
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      uint32_t cp = static_cast<uint32_t>(e - '0');
      for (int k = 0; k < 2 && peek() >= '0' && peek() <= '7'; ++k) {
        cp = cp * 8 + static_cast<uint32_t>(peek() - '0');
        ++pos_;
      }
      append_utf8(value, cp);  // at most 0o777
      return Status::ok();
    }
    // Python keeps an unknown escape as it is: the backslash and the character (which the
    // loop copies next).
    value += '\\';
    pos_ = at + 1;
    return Status::ok();
  }

  Status hex_escape(std::string& value, int digits, size_t at) {
    uint32_t cp = 0;
    for (int k = 0; k < digits; ++k) {
      int h = hex_value(peek());
      if (h < 0) return error_at("truncated \\x, \\u or \\U escape", at);
      cp = cp * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    if (cp > 0x10FFFF) return error_at("escape beyond U+10FFFF", at);
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      return error_at("surrogate escape (not a character, not UTF-8)", at);
    }
    append_utf8(value, cp);
    return Status::ok();
  }

  // Digits with Python's single underscores between them, appended to `out`; false when an
  // underscore is misplaced.
  bool digits(std::string& out, int base) {
    bool last_digit = false;
    bool any = false;
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == '_') {
        if (!last_digit) return false;
        last_digit = false;
        ++pos_;
        continue;
      }
      const int v = hex_value(c);
      if (v < 0 || v >= base) break;
      out += c;
      last_digit = any = true;
      ++pos_;
    }
    return any ? last_digit : true;  // a trailing underscore is an error
  }

  Status integer_value(json& out, std::string_view digits_text, int base, bool negative,
                       size_t start) {
    uint64_t value = 0;
    for (char c : digits_text) {
      const auto d = static_cast<uint64_t>(hex_value(c));
      if (value > (std::numeric_limits<uint64_t>::max() - d) / static_cast<uint64_t>(base)) {
        return error_at("integer out of range (more than 64 bits)", start);
      }
      value = value * static_cast<uint64_t>(base) + d;
    }
    if (negative) {
      constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
      if (value > kMinMagnitude) return error_at("integer out of range (more than 64 bits)", start);
      out = value == kMinMagnitude ? std::numeric_limits<int64_t>::min()
                                   : -static_cast<int64_t>(value);
    } else if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      out = static_cast<int64_t>(value);
    } else {
      out = value;
    }
    return Status::ok();
  }

  Status parse_number(json& out) {
    const size_t start = pos_;
    bool negative = false;
    if (peek() == '-' || peek() == '+') {
      negative = peek() == '-';
      ++pos_;
      if (!is_digit(peek()) && !(peek() == '.' && is_digit(peek(1)))) {
        return error_at("expected a number after the sign", start);
      }
    }
    // 0x.., 0o.., 0b..
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X' || peek(1) == 'o' || peek(1) == 'O' ||
                          peek(1) == 'b' || peek(1) == 'B')) {
      const char kind = static_cast<char>(peek(1) | 0x20);
      const int base = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
      pos_ += 2;
      if (peek() == '_') ++pos_;  // 0x_ff is valid Python
      std::string body;
      if (!digits(body, base) || body.empty()) return error_at("invalid integer", start);
      if (is_name_char(peek())) return error_at("invalid integer", start);
      return integer_value(out, body, base, negative, start);
    }
    std::string mantissa;
    if (!digits(mantissa, 10)) return error_at("misplaced '_' in a number", start);
    bool is_float = false;
    std::string fraction, exponent;
    if (peek() == '.') {
      is_float = true;
      ++pos_;
      if (peek() == '_' || !digits(fraction, 10))
        return error_at("misplaced '_' in a number", start);
    }
    if (peek() == 'e' || peek() == 'E') {
      is_float = true;
      ++pos_;
      if (peek() == '-' || peek() == '+') exponent += text_[pos_++];
      std::string exp_digits;
      if (!digits(exp_digits, 10) || exp_digits.empty()) return error_at("invalid exponent", start);
      exponent += exp_digits;
    }
    if (peek() == 'j' || peek() == 'J') return error_at("complex numbers are not supported", start);
    if (is_name_char(peek()) || peek() == '.') return error_at("invalid number", start);
    if (!is_float) {
      if (mantissa.size() > 1 && mantissa.find_first_not_of('0') != std::string::npos &&
          mantissa[0] == '0') {
        return error_at("leading zeros in a decimal integer are not allowed", start);
      }
      return integer_value(out, mantissa, 10, negative, start);
    }
    std::string text = (negative ? "-" : "") + (mantissa.empty() ? "0" : mantissa) + "." +
                       (fraction.empty() ? "0" : fraction);
    if (!exponent.empty()) text += "e" + exponent;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
      // Python rounds a tiny literal to zero and a huge one to inf, which JSON cannot hold.
      if (!exponent.empty() && exponent[0] == '-') {
        value = negative ? -0.0 : 0.0;
      } else {
        return error_at("float out of range", start);
      }
    } else if (ec != std::errc() || end != text.data() + text.size()) {
      return error_at("invalid number", start);
    }
    if (!std::isfinite(value)) return error_at("float out of range", start);
    out = value;
    return Status::ok();
  }

  std::string_view text_;
  size_t max_depth_;
  size_t pos_ = 0;
};

void write_string(const std::string& s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto hex = [&](uint32_t cp, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
  };
  out += '\'';
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    if (!decode_utf8(s, i, cp)) {
      cp = 0xFFFD;
      ++i;
    }
    switch (cp) {
      case '\\':
        out += "\\\\";
        continue;
      case '\'':
        out += "\\'";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    if (cp >= 0x20 && cp < 0x7F) {
      out += static_cast<char>(cp);
    } else if (cp <= 0xFF) {
      out += "\\x";
      hex(cp, 2);
    } else if (cp <= 0xFFFF) {
      out += "\\u";
      hex(cp, 4);
    } else {
      out += "\\U";
      hex(cp, 8);
    }
  }
  out += '\'';
}

void write_value(const json& value, std::string& out) {
  switch (value.type()) {
    case json::value_t::null:
      out += "None";
      return;
    case json::value_t::boolean:
      out += value.get<bool>() ? "True" : "False";
      return;
    case json::value_t::number_integer:
      out += std::to_string(value.get<int64_t>());
      return;
    case json::value_t::number_unsigned:
      out += std::to_string(value.get<uint64_t>());
      return;
    case json::value_t::number_float: {
      const double d = value.get<double>();
      if (!std::isfinite(d)) {
        out += "None";
        return;
      }
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
      if (ec != std::errc()) {
        out += "None";
        return;
      }
      std::string_view text(buf, static_cast<size_t>(end - buf));
      out += text;
      // "2" would be an int to Python: keep it a float.
      if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
      return;
    }
    case json::value_t::string:
      write_string(value.get_ref<const std::string&>(), out);
      return;
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ", ";
        first = false;
        write_value(item, out);
      }
      out += ']';
      return;
    }
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ", ";
        first = false;
        write_string(key, out);
        out += ": ";
        write_value(item, out);
      }
      out += '}';
      return;
    }
    default:
      out += "None";  // binary, discarded: nothing Python should see
      return;
  }
}

}  // namespace

Result<json> parse_py_literal(std::string_view text, PyLiteralLimits limits) {
  if (text.size() > limits.max_bytes) {
    return too_large("python literal of " + std::to_string(text.size()) +
                     " bytes exceeds the limit of " + std::to_string(limits.max_bytes));
  }
  if (!is_valid_utf8(text)) return invalid_argument("python literal: not UTF-8");
  try {
    return Parser(text, limits.max_depth).parse();
  } catch (const std::exception& e) {
    // Only allocation can throw here; it must not escape either.
    return internal_error(std::string("python literal: ") + e.what());
  }
}

Result<json> parse_legacy_payload(std::string_view text, PyLiteralLimits limits) {
  if (text.size() > limits.max_bytes) {
    return too_large("payload of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                     std::to_string(limits.max_bytes));
  }
  // Any JSON failure falls through: JSON's quick depth check counts brackets inside
  // single-quoted strings too, and the literal parser counts them right (deep JSON is deep
  // for it as well).
  auto parsed = parse_json(text, limits.max_bytes, limits.max_depth);
  if (!parsed) parsed = parse_py_literal(text, limits);
  if (!parsed) return parsed.status();
  if (!parsed->is_object()) {
    return invalid_argument("the payload must be a dict, like {'userName': 'alice', ...}");
  }
  return parsed;
}

std::string to_py_literal(const json& value) {
  std::string out;
  try {
    write_value(value, out);
  } catch (const std::exception&) {
    return "None";  // allocation only
  }
  return out;
}

}  // namespace gh::codec
