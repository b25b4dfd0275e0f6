// Where gatehouse may send a reply that a request asked for. A reply topic comes from the
// requester, so it is checked before anything is published to it: otherwise one request
// could make the server publish into other clients' topics, into `$SYS`, into its own
// request topics (a loop), or into a wildcard. Also a rate-limited log for the refusals,
// which a flood of bad requests must not turn into a flood of log lines.
//
// Pure functions, thread-safe; RateLimitedLog is thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace gh::mqtt_adapter {

inline constexpr size_t kMaxReplyTopicBytes = 256;

// What every reply destination must be: 1..max_bytes of UTF-8 without NUL, no '+' or '#',
// not a '$' topic, no empty level (no leading, trailing or double '/'). kInvalidArgument
// naming the first rule broken.
Status check_reply_topic(std::string_view topic, size_t max_bytes = kMaxReplyTopicBytes);

// The chat topics' reply_to (or MQTT 5 Response Topic): check_reply_topic(), and
// PREFIX/inbox/{client} or a topic below it, where {client} is an id ([A-Za-z0-9._-]{1,64}).
// With a broker ACL such as `pattern read PREFIX/inbox/%c/#`, only that client can read
// it. kInvalidArgument otherwise.
Status validate_reply_to(std::string_view topic, std::string_view prefix,
                         size_t max_bytes = kMaxReplyTopicBytes);

// For a refused reply_to that still begins with a valid PREFIX/inbox/{client}/ (a wildcard or
// an empty level further down, an overlong tail): "PREFIX/inbox/{client}/errors", where the
// error can go to the same client. Empty when there is no such client.
std::string inbox_error_topic(std::string_view topic, std::string_view prefix);

// The legacy protocol's returnTopic: check_reply_topic(), not `own_prefix` or below it
// (gatehouse's own namespace: devices, chat, inboxes), and none of `reserved` (exact topics
// gatehouse subscribes to, such as the legacy request topics: a reply there would come
// back as a request). kInvalidArgument otherwise.
Status validate_return_topic(std::string_view topic, std::string_view own_prefix,
                             const std::vector<std::string>& reserved,
                             size_t max_bytes = kMaxReplyTopicBytes);

// Writes at most one line per `interval`; the lines in between are counted and the next
// written line says how many were left out. Interval 0 writes every line.
class RateLimitedLog {
 public:
  using Sink = std::function<void(const std::string& line)>;
  // An empty sink writes "gatehouse: <line>" to stderr.
  explicit RateLimitedLog(Sink sink = nullptr,
                          std::chrono::milliseconds interval = std::chrono::seconds(10));

  void log(const std::string& line);
  uint64_t written() const;
  uint64_t suppressed() const;  // in total

 private:
  Sink sink_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  bool ever_ = false;
  std::chrono::steady_clock::time_point last_;
  uint64_t pending_ = 0;  // suppressed since the last written line
  uint64_t written_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace gh::mqtt_adapter
