#include "adapters/http/auth.h"

#include <sodium.h>

#include <cctype>
#include <mutex>

#include "events/stream_name.h"

namespace gh::http {

std::string sha256(std::string_view text) {
  // sodium_init() is idempotent and thread-safe; it picks the fastest implementation.
  [[maybe_unused]] static const int kSodium = sodium_init();
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return digest;
}

Result<std::string> sha256_from_hex(std::string_view hex) {
  if (hex.size() != 2 * kSha256Bytes) {
    return invalid_argument("a SHA-256 in hex has 64 digits");
  }
  std::string bytes(kSha256Bytes, '\0');
  size_t written = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(),
                     hex.size(), nullptr, &written, nullptr) != 0 ||
      written != kSha256Bytes) {
    return invalid_argument("a SHA-256 in hex has only the digits 0-9 a-f");
  }
  return bytes;
}

std::optional<std::string_view> bearer_secret(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!authorization.empty() && is_space(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && is_space(authorization.back())) authorization.remove_suffix(1);
  if (authorization.size() <= kScheme.size() || !is_space(authorization[kScheme.size()])) {
    return std::nullopt;
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view secret = authorization.substr(kScheme.size());
  while (!secret.empty() && is_space(secret.front())) secret.remove_prefix(1);
  if (secret.empty()) return std::nullopt;
  return secret;
}

Status ApiTokens::add(const std::string& name, std::string_view sha256) {
  GH_RETURN_IF_ERROR(validate_id(name, "token name"));
  if (sha256.size() != kSha256Bytes) return invalid_argument("token hash must be 32 bytes");
  std::array<unsigned char, kSha256Bytes> digest{};
  std::copy(sha256.begin(), sha256.end(), digest.begin());
  std::unique_lock lock(mutex_);
  tokens_[name] = digest;
  return Status::ok();
}

bool ApiTokens::revoke(const std::string& name) {
  std::unique_lock lock(mutex_);
  return tokens_.erase(name) > 0;
}

std::optional<std::string> ApiTokens::authenticate(std::string_view bearer_secret) const {
  if (bearer_secret.empty()) return std::nullopt;
  // Hashing first makes every comparison the same 32 bytes long whatever was sent, and
  // sodium_memcmp takes the same time wherever the first difference is. Every token is
  // compared, without stopping at a match, so timing reveals only how many tokens exist.
  std::string presented = sha256(bearer_secret);
  const std::string* found = nullptr;
  std::shared_lock lock(mutex_);
  for (const auto& [name, digest] : tokens_) {
    if (sodium_memcmp(digest.data(), presented.data(), kSha256Bytes) == 0) found = &name;
  }
  if (found == nullptr) return std::nullopt;
  return *found;
}

size_t ApiTokens::size() const {
  std::shared_lock lock(mutex_);
  return tokens_.size();
}

std::vector<std::pair<std::string, std::string>> ApiTokens::hashes() const {
  std::shared_lock lock(mutex_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, hash] : tokens_) {
    out.emplace_back(name, std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  }
  return out;
}

}  // namespace gh::http
