// How many messages each client connection may publish through the broker: a token bucket per
// connection (`burst` messages at once, refilled at `per_second`), checked by the broker
// plugin on every PUBLISH a client sends (gatehouse's own connection is never limited). A
// flood from one client is dropped at the broker, before it queues up in front of gatehouse:
// under load, tens of thousands of queued messages delayed gatehouse's own keep-alive and
// acknowledgements until mosquitto disconnected it (docs/reliability.md "Exhaustion").
//
// Thread-compatible: mosquitto calls the plugin from its one main thread. Time is an argument.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gh::broker {

struct PublishLimit {
  double per_second = 0;  // sustained messages per second; 0: no limit
  double burst = 0;       // messages at once (the bucket's size)
  bool limited() const { return per_second > 0; }
};

// The largest rate and burst an option may name.
constexpr uint64_t kMaxPublishRate = 1000000;
constexpr uint64_t kMaxPublishBurst = 10000000;

// A whole number in [0, max] written in decimal digits only, or nullopt.
std::optional<uint64_t> parse_count(std::string_view text, uint64_t max);

class PublishBucket {
 public:
  // true: the message may pass (one token is taken); false: over the limit, nothing taken.
  // Always true when `limit` is not limited(). The bucket starts full at the first call.
  bool take(const PublishLimit& limit, int64_t now_ms);

 private:
  double tokens_ = 0;
  int64_t at_ms_ = 0;
  bool started_ = false;
};

}  // namespace gh::broker
