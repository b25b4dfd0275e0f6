#include "actors/chat/password_hasher.h"

#include <sodium.h>

namespace gh::chat {

PasswordHasher::PasswordHasher(HasherOptions options) : options_(options) {
  if (sodium_init() < 0) {
    status_ = internal_error("libsodium failed to initialise");
    return;
  }
  if (options_.ops < crypto_pwhash_OPSLIMIT_MIN || options_.ops > crypto_pwhash_OPSLIMIT_MAX ||
      options_.mem_bytes < crypto_pwhash_MEMLIMIT_MIN ||
      options_.mem_bytes > crypto_pwhash_MEMLIMIT_MAX) {
    status_ = invalid_argument("Argon2id cost out of range: ops " + std::to_string(options_.ops) +
                               ", memory " + std::to_string(options_.mem_bytes) + " bytes");
    return;
  }
  // The dummy hash has the configured cost, so verifying against it takes as long as
  // verifying a real user's password hashed with the same configuration.
  auto dummy = hash(random_hex(16));
  if (!dummy) {
    status_ = dummy.status();
    return;
  }
  dummy_hash_ = std::move(*dummy);
  hashes_ = 0;
  if (options_.threads == 0) options_.threads = 1;
  for (size_t i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { run(); });
}

PasswordHasher::~PasswordHasher() { shutdown(); }

void PasswordHasher::shutdown() {
  if (shut_down_.exchange(true)) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

Status PasswordHasher::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (!status_.is_ok()) return status_;
    if (stopping_ || queue_.size() >= options_.queue) {
      ++refused_;
      return unavailable(stopping_ ? "gatehouse is shutting down"
                                   : "too many logins at once; retry");
    }
    queue_.push_back(std::move(job));
    depth_ = queue_.size();
  }
  wake_.notify_one();
  return Status::ok();
}

void PasswordHasher::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      depth_ = queue_.size();
    }
    job();
  }
}

Result<std::string> PasswordHasher::hash(std::string_view secret) {
  char out[crypto_pwhash_STRBYTES];
  ++hashes_;
  if (crypto_pwhash_str(out, secret.data(), secret.size(), options_.ops, options_.mem_bytes) != 0)
    return internal_error("password hashing ran out of memory");
  return std::string(out);
}

bool PasswordHasher::verify(std::string_view stored, std::string_view secret) {
  ++hashes_;
  // crypto_pwhash_str_verify reads a NUL-terminated string.
  std::string terminated(stored);
  return crypto_pwhash_str_verify(terminated.c_str(), secret.data(), secret.size()) == 0;
}

void PasswordHasher::verify_dummy(std::string_view secret) { (void)verify(dummy_hash_, secret); }

std::string sha256(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string random_hex(size_t bytes) {
  if (sodium_init() < 0) std::abort();  // cannot happen once initialised; never weak tokens
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

}  // namespace gh::chat
