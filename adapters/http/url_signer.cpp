#include "adapters/http/url_signer.h"

#include <sodium.h>

#include <charconv>

namespace gh::http {
namespace {

void init_sodium() {
  // Idempotent and thread-safe; randombytes needs it.
  [[maybe_unused]] static const int kSodium = sodium_init();
}

}  // namespace

Result<UrlSigner> UrlSigner::create(std::string_view key) {
  init_sodium();
  if (key.size() != kKeyBytes) return invalid_argument("URL signing key must be 32 bytes");
  return UrlSigner(std::string(key));
}

UrlSigner UrlSigner::with_random_key() {
  init_sodium();
  std::string key(kKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  return UrlSigner(std::move(key));
}

std::string UrlSigner::message(std::string_view picture_id, int64_t expires_unix) const {
  // The separator cannot occur in an id, so (id, expires) pairs never share a message.
  std::string text(picture_id);
  text += '|';
  text += std::to_string(expires_unix);
  return text;
}

std::string UrlSigner::signature(std::string_view picture_id, int64_t expires_unix) const {
  std::string text = message(picture_id, expires_unix);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  // The _init/_update/_final API accepts any key length; we always use 32 bytes.
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key_.data()),
                              key_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                                text.size());
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return std::string(hex, 2 * sizeof mac);
}

std::string UrlSigner::sign_path(std::string_view picture_id, int64_t expires_unix) const {
  std::string path = "/pictures/";
  path += picture_id;
  path += "?expires=" + std::to_string(expires_unix);
  path += "&sig=" + signature(picture_id, expires_unix);
  return path;
}

Status UrlSigner::verify(std::string_view picture_id, std::string_view expires,
                         std::string_view sig, int64_t now_unix) const {
  int64_t expires_unix = 0;
  auto [end, error] =
      std::from_chars(expires.data(), expires.data() + expires.size(), expires_unix);
  if (expires.empty() || error != std::errc() || end != expires.data() + expires.size()) {
    return invalid_argument("expires must be a Unix time in seconds");
  }
  unsigned char presented[crypto_auth_hmacsha256_BYTES];
  size_t written = 0;
  if (sig.size() != 2 * sizeof presented ||
      sodium_hex2bin(presented, sizeof presented, sig.data(), sig.size(), nullptr, &written,
                     nullptr) != 0 ||
      written != sizeof presented) {
    return invalid_argument("sig must be 64 hex digits");
  }
  // Check the signature before the time, so an attacker learns nothing from which error
  // comes back for a forged URL; the comparison is constant-time.
  std::string expected_hex = signature(picture_id, expires_unix);
  unsigned char expected[crypto_auth_hmacsha256_BYTES];
  if (sodium_hex2bin(expected, sizeof expected, expected_hex.data(), expected_hex.size(), nullptr,
                     &written, nullptr) != 0 ||
      sodium_memcmp(expected, presented, sizeof expected) != 0) {
    return permission_denied("bad picture URL signature");
  }
  if (now_unix > expires_unix) return permission_denied("picture URL has expired");
  return Status::ok();
}

}  // namespace gh::http
