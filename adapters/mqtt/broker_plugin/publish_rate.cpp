#include "adapters/mqtt/broker_plugin/publish_rate.h"

#include <algorithm>

namespace gh::broker {

std::optional<uint64_t> parse_count(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + uint64_t(c - '0');
    if (value > max) return std::nullopt;
  }
  return value;
}

bool PublishBucket::take(const PublishLimit& limit, int64_t now_ms) {
  if (!limit.limited()) return true;
  if (!started_) {
    started_ = true;
    tokens_ = limit.burst;
    at_ms_ = now_ms;
  }
  // A clock that went back refills nothing (the caller's clock is steady; this is a guard).
  const double elapsed_s = double(std::max<int64_t>(0, now_ms - at_ms_)) / 1000.0;
  tokens_ = std::min(limit.burst, tokens_ + elapsed_s * limit.per_second);
  at_ms_ = std::max(at_ms_, now_ms);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace gh::broker
