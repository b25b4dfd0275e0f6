// Signed picture URLs: the alert a device raises carries a link that opens the stranger's
// picture without a bearer token, for a limited time.
//
// The signature is HMAC-SHA256 (libsodium crypto_auth_hmacsha256) with a 32-byte server key
// over "<picture_id>|<expires_unix>", in lowercase hex; the path is
// "/pictures/<picture_id>?expires=<expires_unix>&sig=<hex>". Verification is constant-time.
// A new key (for example a random one at each start) invalidates every URL signed before.
//
// Thread-safety: immutable after construction; every method may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::http {

class UrlSigner {
 public:
  static constexpr size_t kKeyBytes = 32;

  // A signer with `key`; kInvalidArgument unless it is exactly 32 bytes.
  static Result<UrlSigner> create(std::string_view key);
  // A signer with a fresh random key (URLs do not survive a restart).
  static UrlSigner with_random_key();

  // Lowercase hex HMAC of "<picture_id>|<expires_unix>".
  std::string signature(std::string_view picture_id, int64_t expires_unix) const;
  // "/pictures/<picture_id>?expires=<expires_unix>&sig=<hex>"; `picture_id` must be a valid
  // id (it is not escaped).
  std::string sign_path(std::string_view picture_id, int64_t expires_unix) const;

  // ok when `sig` is the signature of (picture_id, expires) and `now_unix` <= expires.
  // kInvalidArgument when `expires` is not a decimal number or `sig` not 64 hex digits;
  // kPermissionDenied when the signature does not match or the URL has expired.
  Status verify(std::string_view picture_id, std::string_view expires, std::string_view sig,
                int64_t now_unix) const;

 private:
  explicit UrlSigner(std::string key) : key_(std::move(key)) {}
  std::string message(std::string_view picture_id, int64_t expires_unix) const;

  std::string key_;
};

}  // namespace gh::http
