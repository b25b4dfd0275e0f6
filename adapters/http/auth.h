// Bearer-token authentication for the HTTP adapter.
//
// ApiTokens holds name -> SHA-256(secret): secrets are never stored, only their hashes, as in
// the `system/tokens` events (ApiTokenCreated.sha256). The server loads tokens from its
// configuration and from those events and calls add()/revoke(); routes call authenticate().
// Comparison is constant-time (sodium_memcmp) and visits every token, so the time taken
// depends on the number of tokens only, never on which bytes matched.
//
// Thread-safety: every method may be called from any thread (readers share a lock).
#pragma once

#include <array>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/http/url_signer.h"
#include "events/status.h"

namespace gh::http {

inline constexpr size_t kSha256Bytes = 32;
// The realm named in `WWW-Authenticate: Bearer realm="gatehouse"` on every 401.
inline constexpr std::string_view kWwwAuthenticate = "Bearer realm=\"gatehouse\"";

// The raw 32-byte SHA-256 of `text`.
std::string sha256(std::string_view text);

// The 32 bytes encoded by 64 hex digits (configuration files carry hashes as hex);
// kInvalidArgument otherwise.
Result<std::string> sha256_from_hex(std::string_view hex);

// The secret of an `Authorization: Bearer <secret>` header value (scheme case-insensitive,
// surrounding spaces ignored); nullopt when the header is not a non-empty bearer credential.
std::optional<std::string_view> bearer_secret(std::string_view authorization);

class ApiTokens {
 public:
  // Adds token `name` whose secret hashes to `sha256` (32 raw bytes), replacing any token of
  // that name. kInvalidArgument when `name` is not a valid id or `sha256` is not 32 bytes.
  Status add(const std::string& name, std::string_view sha256);
  // Removes token `name`; true when it existed.
  bool revoke(const std::string& name);
  // The name of the token whose secret is `bearer_secret`; nullopt when none matches
  // (including the empty secret).
  std::optional<std::string> authenticate(std::string_view bearer_secret) const;
  size_t size() const;
  // Every token as (name, SHA-256 raw bytes), for the broker's identity table.
  std::vector<std::pair<std::string, std::string>> hashes() const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::array<unsigned char, kSha256Bytes>> tokens_;
};

}  // namespace gh::http
