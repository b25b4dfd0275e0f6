#include "actors/chat/login_throttle.h"

#include <algorithm>
#include <cmath>

namespace gh::chat {
namespace {

std::string pair_key(std::string_view account, std::string_view source) {
  std::string key(account);
  key += '\n';  // never in a user name
  key += source;
  return key;
}

// Tokens of a bucket last seen with `tokens` at `at_ms`, at `now_ms`.
double refilled(double tokens, int64_t at_ms, double per_minute, double burst, int64_t now_ms) {
  const double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - at_ms));
  return std::min(burst, tokens + elapsed * per_minute / 60000.0);
}

// ms until a bucket holding `tokens` has one.
int64_t ms_until_one(double tokens, double per_minute) {
  if (tokens >= 1.0) return 0;
  if (per_minute <= 0) return 60000;
  return std::max<int64_t>(1,
                           static_cast<int64_t>(std::ceil((1.0 - tokens) * 60000.0 / per_minute)));
}

}  // namespace

ThrottleOptions ThrottleOptions::unlimited() {
  ThrottleOptions o;
  o.source_per_minute = o.shared_per_minute = o.account_per_minute = 1e9;
  o.source_burst = o.shared_burst = o.account_burst = 1e9;
  o.backoff_after = 1000000000;
  return o;
}

LoginThrottle::LoginThrottle(ThrottleOptions options) : options_(options) {}

int64_t LoginThrottle::wait_for(Buckets& table, const std::string& key, double per_minute,
                                double burst, int64_t now_ms) {
  auto [it, fresh] = table.try_emplace(key, Bucket{burst, now_ms});
  Bucket& b = it->second;
  b.tokens = refilled(b.tokens, b.at_ms, per_minute, burst, now_ms);
  b.at_ms = now_ms;
  return ms_until_one(b.tokens, per_minute);
}

void LoginThrottle::take(Buckets& table, const std::string& key) { table[key].tokens -= 1.0; }

// Drops the buckets that are full again (they remember nothing); if that is not enough, all:
// a table must not grow with every address or client id an attacker makes up.
void LoginThrottle::make_room(Buckets& table, double per_minute, double burst, int64_t now_ms) {
  if (table.size() < options_.max_keys) return;
  std::erase_if(table, [&](const auto& kv) {
    return refilled(kv.second.tokens, kv.second.at_ms, per_minute, burst, now_ms) >= burst;
  });
  if (table.size() >= options_.max_keys) table.clear();
}

void LoginThrottle::make_room_backoffs(int64_t now_ms) {
  if (backoffs_.size() < options_.max_keys) return;
  std::erase_if(backoffs_, [&](const auto& kv) {
    return now_ms >= kv.second.until_ms &&
           now_ms - kv.second.last_failure_ms > options_.backoff_max_ms;
  });
  if (backoffs_.size() >= options_.max_keys) backoffs_.clear();
}

int64_t LoginThrottle::admit(const Attempt& attempt, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  int64_t wait = 0;
  const std::string pair = pair_key(attempt.account, attempt.source);
  if (auto it = backoffs_.find(pair); it != backoffs_.end() && now_ms < it->second.until_ms)
    wait = it->second.until_ms - now_ms;
  const std::string source(attempt.source);
  const std::string account(attempt.account);
  make_room(sources_, options_.source_per_minute, options_.source_burst, now_ms);
  make_room(accounts_, options_.account_per_minute, options_.account_burst, now_ms);
  wait = std::max(
      wait, wait_for(sources_, source, options_.source_per_minute, options_.source_burst, now_ms));
  if (attempt.shared) {
    if (!shared_started_) shared_ = Bucket{options_.shared_burst, now_ms};
    shared_started_ = true;
    shared_.tokens = refilled(shared_.tokens, shared_.at_ms, options_.shared_per_minute,
                              options_.shared_burst, now_ms);
    shared_.at_ms = now_ms;
    wait = std::max(wait, ms_until_one(shared_.tokens, options_.shared_per_minute));
  }
  wait = std::max(wait, wait_for(accounts_, account, options_.account_per_minute,
                                 options_.account_burst, now_ms));
  if (wait > 0) {
    ++refused_;
    return wait;
  }
  take(sources_, source);
  take(accounts_, account);
  if (attempt.shared) shared_.tokens -= 1.0;
  return 0;
}

void LoginThrottle::failed(std::string_view account, std::string_view source, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  make_room_backoffs(now_ms);
  Backoff& b = backoffs_[pair_key(account, source)];
  // A long quiet since the last failure starts the count afresh.
  if (b.failures > 0 && now_ms - b.last_failure_ms > options_.backoff_max_ms) b.failures = 0;
  b.failures++;
  b.last_failure_ms = now_ms;
  if (b.failures < options_.backoff_after) return;
  // Doubling by a loop, not a shift: no overflow however many failures came before.
  int64_t delay = options_.backoff_first_ms;
  for (uint32_t i = options_.backoff_after; i < b.failures && delay < options_.backoff_max_ms; ++i)
    delay *= 2;
  b.until_ms = now_ms + std::min(delay, options_.backoff_max_ms);
}

void LoginThrottle::succeeded(std::string_view account, std::string_view source) {
  std::lock_guard lock(mutex_);
  backoffs_.erase(pair_key(account, source));
}

uint64_t LoginThrottle::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace gh::chat
