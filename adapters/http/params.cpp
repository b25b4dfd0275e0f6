#include "adapters/http/params.h"

#include <cctype>
#include <charconv>
#include <string>

namespace gh::http {
namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Reads exactly `width` digits at `pos`; false when they are not all digits.
bool fixed_digits(std::string_view text, size_t pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

Result<uint64_t> parse_u64(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  // from_chars also accepts nothing but digits here, but rejects overflow for us.
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!all_digits(text) || error != std::errc() || end != text.data() + text.size()) {
    return invalid_argument(std::string(what) + " must be a non-negative integer");
  }
  return value;
}

Result<size_t> parse_limit(std::string_view text, size_t fallback, size_t max) {
  if (text.empty()) return std::min(fallback, max);
  auto value = parse_u64(text, "limit");
  if (!value) return value.status();
  if (*value == 0) return invalid_argument("limit must be at least 1");
  return static_cast<size_t>(std::min<uint64_t>(*value, max));
}

Result<int64_t> parse_time_ms(std::string_view text) {
  const Status bad =
      invalid_argument("time must be Unix milliseconds or ISO-8601 like 2026-11-23T09:04:23.123Z");
  if (all_digits(text)) {
    auto ms = parse_u64(text, "time");
    if (!ms || *ms > static_cast<uint64_t>(INT64_MAX)) return bad;
    return static_cast<int64_t>(*ms);
  }
  // YYYY-MM-DDTHH:MM:SS
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !fixed_digits(text, 0, 4, year) || text[4] != '-' ||
      !fixed_digits(text, 5, 2, month) || text[7] != '-' || !fixed_digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !fixed_digits(text, 11, 2, hour) ||
      text[13] != ':' || !fixed_digits(text, 14, 2, minute) || text[16] != ':' ||
      !fixed_digits(text, 17, 2, second)) {
    return bad;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (text[pos] - '0');
      ++pos;
    }
    size_t digits = pos - start;
    if (digits == 0 || digits > 9) return bad;
    for (size_t i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    int zone_hours = 0, zone_minutes = 0;
    if (!fixed_digits(text, pos + 1, 2, zone_hours) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !fixed_digits(text, pos + 4, 2, zone_minutes) || zone_hours > 23 ||
        zone_minutes > 59) {
      return bad;
    }
    offset_minutes = sign * (zone_hours * 60 + zone_minutes);
    pos += 6;
  } else {
    return bad;  // a time without a zone would be read in an unknown one
  }
  if (pos != text.size()) return bad;

  using namespace std::chrono;
  year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                      std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return bad;
  int64_t days = sys_days(date).time_since_epoch().count();
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  if (seconds < 0) return bad;
  return seconds * 1000 + millis;
}

Result<std::chrono::seconds> parse_wait(std::string_view text, std::chrono::seconds max) {
  auto value = parse_u64(text, "wait");
  if (!value) return value.status();
  if (*value > static_cast<uint64_t>(max.count())) {
    return invalid_argument("wait must be at most " + std::to_string(max.count()) + " seconds");
  }
  return std::chrono::seconds(static_cast<int64_t>(*value));
}

bool is_json_media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
    content_type.remove_suffix(1);
  }
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
    content_type.remove_prefix(1);
  }
  constexpr std::string_view kJson = "application/json";
  if (content_type.size() != kJson.size()) return false;
  for (size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(content_type[i])) != kJson[i]) return false;
  }
  return true;
}

}  // namespace gh::http
