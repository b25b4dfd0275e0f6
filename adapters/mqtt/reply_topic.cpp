#include "adapters/mqtt/reply_topic.h"

#include <cstdio>

#include "adapters/codec/py_literal.h"
#include "events/log.h"
#include "events/stream_name.h"
#include "events/utf8.h"

namespace gh::mqtt_adapter {

namespace {

// Echoing a refused topic in an error or a log line: short, and printable ASCII only so a
// log line cannot be forged with control characters.
std::string shown(std::string_view topic) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  for (char c : topic.substr(0, kMax)) {
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  if (topic.size() > kMax) out += "...";
  return out + "'";
}

bool under(std::string_view topic, std::string_view prefix) {
  return topic == prefix ||
         (topic.size() > prefix.size() && topic.starts_with(prefix) && topic[prefix.size()] == '/');
}

}  // namespace

Status check_reply_topic(std::string_view topic, size_t max_bytes) {
  if (topic.empty()) return invalid_argument("reply topic is empty");
  if (topic.size() > max_bytes) {
    return invalid_argument("reply topic is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!is_valid_utf8(topic)) return invalid_argument("reply topic is not UTF-8");
  if (topic.find('\0') != std::string_view::npos) {
    return invalid_argument("reply topic contains NUL");
  }
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return invalid_argument("reply topic " + shown(topic) + " contains a wildcard");
  }
  if (topic.front() == '$') {
    return invalid_argument("reply topic " + shown(topic) + " is a '$' topic");
  }
  if (topic.front() == '/' || topic.back() == '/' || topic.find("//") != std::string_view::npos) {
    return invalid_argument("reply topic " + shown(topic) + " has an empty level");
  }
  return Status::ok();
}

Status validate_reply_to(std::string_view topic, std::string_view prefix, size_t max_bytes) {
  GH_RETURN_IF_ERROR(check_reply_topic(topic, max_bytes));
  const std::string inbox = std::string(prefix) + "/inbox/";
  if (!topic.starts_with(inbox)) {
    return invalid_argument("reply topic " + shown(topic) + " is not under " + inbox + "{client}/");
  }
  auto rest = topic.substr(inbox.size());
  auto client = rest.substr(0, rest.find('/'));
  if (!is_valid_id(client)) {
    return invalid_argument("reply topic " + shown(topic) +
                            ": the client level must be 1-64 characters of A-Z a-z 0-9 . _ -");
  }
  return Status::ok();
}

std::string inbox_error_topic(std::string_view topic, std::string_view prefix) {
  const std::string inbox = std::string(prefix) + "/inbox/";
  if (!topic.starts_with(inbox)) return "";
  auto rest = topic.substr(inbox.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return "";  // no level below the client: nothing fixable
  auto client = rest.substr(0, slash);
  if (!is_valid_id(client)) return "";
  std::string errors = inbox + std::string(client) + "/errors";
  if (!check_reply_topic(errors).is_ok()) return "";  // an overlong prefix
  return errors;
}

Status validate_return_topic(std::string_view topic, std::string_view own_prefix,
                             const std::vector<std::string>& reserved, size_t max_bytes) {
  GH_RETURN_IF_ERROR(check_reply_topic(topic, max_bytes));
  if (!own_prefix.empty() && under(topic, own_prefix)) {
    return invalid_argument("returnTopic " + shown(topic) + " is in gatehouse's own namespace " +
                            std::string(own_prefix) + "/");
  }
  for (const auto& r : reserved) {
    if (topic == r) {
      return invalid_argument("returnTopic " + shown(topic) + " is a topic gatehouse listens on");
    }
  }
  return Status::ok();
}

RateLimitedLog::RateLimitedLog(Sink sink, std::chrono::milliseconds interval)
    : sink_(std::move(sink)), interval_(interval) {
  if (!sink_) {
    sink_ = [](const std::string& line) { log::warning("mqtt", line); };
  }
}

void RateLimitedLog::log(const std::string& line) {
  std::string text;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (ever_ && now - last_ < interval_) {
      ++pending_;
      ++suppressed_;
      return;
    }
    ever_ = true;
    last_ = now;
    text = line;
    if (pending_ > 0) text += " (" + std::to_string(pending_) + " similar lines left out)";
    pending_ = 0;
    ++written_;
  }
  try {
    sink_(text);  // outside the lock: a slow sink must not serialise the callers
  } catch (...) {
  }
}

uint64_t RateLimitedLog::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

uint64_t RateLimitedLog::suppressed() const {
  std::lock_guard lock(mu_);
  return suppressed_;
}

}  // namespace gh::mqtt_adapter
