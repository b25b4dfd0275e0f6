// Limits password guessing before any hash is spent (OWASP Authentication Cheat Sheet:
// throttle per source and per account, exponential back-off instead of a lock that anyone
// could trigger). Every attempt to prove a secret (login, password reset, password change)
// asks admit() first; a refusal costs no hash, writes no event and says when to retry.
//
// Four limits, each a token bucket or a back-off, checked together (an attempt refused by
// one takes nothing from the others):
// - per source: an HTTP peer address, an MQTT requester's inbox client id, a legacy
//   returnTopic. A flood from one source is refused at once and leaves the others alone.
// - shared: one bucket for every attempt over MQTT and the legacy topics together, since
//   their sources (client ids, topics) are free to choose. HTTP is outside it.
// - per account: whatever the source, so a slow distributed guesser is bounded too.
// - back-off per (account, source): once `backoff_after` failures in a row came from one
//   source for one account, that source must wait backoff_first_ms before it may try that
//   account again, twice as long after each further failure, up to backoff_max_ms. A
//   success from that source forgets them. The right password from another source is not
//   delayed: nobody can lock the owner out.
//
// State is in memory only (a restart forgets it): sources are network facts, not facts
// about the user, and keeping addresses out of the append-only log keeps it free of
// personal data. Each table holds at most max_keys entries; idle ones are swept first.
//
// Thread-safety: every method is safe from any thread (one mutex; each call is O(1) except
// a sweep when a table is full). Time is an argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gh::chat {

struct ThrottleOptions {
  double source_per_minute = 30;   // attempts per source, sustained
  double source_burst = 10;        // attempts per source at once
  double shared_per_minute = 600;  // all MQTT and legacy attempts together, sustained
  double shared_burst = 60;
  double account_per_minute = 60;  // attempts per account from all sources, sustained
  double account_burst = 20;
  uint32_t backoff_after = 3;               // failures in a row that start the back-off
  int64_t backoff_first_ms = 1000;          // the first delay; doubles with each failure
  int64_t backoff_max_ms = 15 * 60 * 1000;  // the longest delay
  size_t max_keys = 100000;                 // entries per table

  // Limits no test reaches by accident (for tests of other things).
  static ThrottleOptions unlimited();
};

// One attempt to prove a secret.
struct Attempt {
  std::string_view account;  // the user name
  std::string_view source;   // "<channel>:<address, client id or topic>"
  bool shared = false;       // counts against the shared bucket (MQTT, legacy)
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleOptions options);

  // 0: go ahead (one token is taken from each bucket); otherwise the attempt is refused,
  // nothing is taken, and the result is how many ms to wait (at least 1).
  int64_t admit(const Attempt& attempt, int64_t now_ms);
  // The secret was wrong (or the user unknown): one more failure for (account, source).
  void failed(std::string_view account, std::string_view source, int64_t now_ms);
  // The secret was right: the failures of (account, source) are forgotten.
  void succeeded(std::string_view account, std::string_view source);

  uint64_t refused() const;  // attempts admit() refused

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
  };
  struct Backoff {
    uint32_t failures = 0;  // in a row
    int64_t until_ms = 0;   // no attempt before this
    int64_t last_failure_ms = 0;
  };
  using Buckets = std::unordered_map<std::string, Bucket>;

  // ms until `bucket` (of `key` in `table`) holds one token at `now_ms`, refilled; 0 now.
  static int64_t wait_for(Buckets& table, const std::string& key, double per_minute, double burst,
                          int64_t now_ms);
  static void take(Buckets& table, const std::string& key);
  void make_room(Buckets& table, double per_minute, double burst, int64_t now_ms);
  void make_room_backoffs(int64_t now_ms);

  const ThrottleOptions options_;
  mutable std::mutex mutex_;
  Buckets sources_;
  Buckets accounts_;
  Bucket shared_;
  bool shared_started_ = false;
  std::unordered_map<std::string, Backoff> backoffs_;  // account + '\n' + source
  uint64_t refused_ = 0;
};

}  // namespace gh::chat
