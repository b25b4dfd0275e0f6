// Argon2id password hashing (libsodium crypto_pwhash_str / crypto_pwhash_str_verify) on its
// own threads, so that a login never costs a CAF scheduler thread or the blocking pool
// ~25 ms of CPU and 19 MiB of memory. The queue is bounded: when logins come faster than
// the threads can hash, the excess is refused at once (kUnavailable) rather than queued
// into minutes of latency and unbounded memory.
//
// A job is one function run on a hashing thread; it may call hash() and verify() below
// (each blocks for one Argon2id computation), so a job that verifies an old password and
// hashes a new one costs one queue slot.
//
// Thread-safety: submit() and the counters are safe from any thread. The destructor (or
// shutdown()) runs every queued job before it returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/status.h"

namespace gh::chat {

struct HasherOptions {
  unsigned long long ops = 2;    // Argon2id passes (crypto_pwhash OPSLIMIT)
  size_t mem_bytes = 19u << 20;  // Argon2id memory (crypto_pwhash MEMLIMIT), bytes
  size_t threads = 1;            // hashing threads
  size_t queue = 256;            // jobs waiting (not yet running) beyond which submit fails
};

class PasswordHasher {
 public:
  // Fails only when libsodium cannot initialise or the cost is outside libsodium's limits;
  // check status() after construction.
  explicit PasswordHasher(HasherOptions options);
  ~PasswordHasher();
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // ok, or why the hasher cannot work (libsodium failed, cost out of range).
  const Status& status() const { return status_; }

  // Queues `job` for a hashing thread. kUnavailable ("too many logins at once; retry") when
  // the queue is full or the hasher is shutting down; `job` is then not run.
  Status submit(std::function<void()> job);

  // Blocking primitives for jobs (and tests). hash(): the crypto_pwhash_str string of
  // `secret` at the configured cost, or kInternal when libsodium runs out of memory.
  Result<std::string> hash(std::string_view secret);
  // True when `secret` matches `stored` (any crypto_pwhash_str string, whatever its cost).
  bool verify(std::string_view stored, std::string_view secret);
  // Spends one verification against a fixed hash, so that an unknown user costs the same
  // time as a wrong password.
  void verify_dummy(std::string_view secret);

  // Runs what is queued, then joins the threads; later submits fail. Idempotent.
  void shutdown();

  uint64_t hashes() const { return hashes_.load(); }    // hash() + verify() calls done
  size_t queue_depth() const { return depth_.load(); }  // jobs waiting now
  uint64_t refused() const { return refused_.load(); }  // submits refused (queue full)

 private:
  void run();
  HasherOptions options_;
  Status status_;
  std::string dummy_hash_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<bool> shut_down_{false};
  std::atomic<uint64_t> hashes_{0};
  std::atomic<size_t> depth_{0};
  std::atomic<uint64_t> refused_{0};
};

// SHA-256 of `text` (32 raw bytes). How session tokens are stored.
std::string sha256(std::string_view text);

// `bytes` random bytes from libsodium, as lowercase hex.
std::string random_hex(size_t bytes);

}  // namespace gh::chat
