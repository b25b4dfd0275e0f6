#include "actors/system/secret.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

namespace gh::secrets {

NewSecret new_secret() {
  if (sodium_init() < 0) std::abort();  // never hand out a secret from an unseeded generator
  unsigned char raw[kSecretBytes];
  randombytes_buf(raw, sizeof raw);
  char hex[kSecretHexChars + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  NewSecret secret;
  secret.hex.assign(hex, kSecretHexChars);
  sodium_memzero(hex, sizeof hex);
  // What a client presents is the hex text, so that is what is hashed.
  secret.sha256 = sha256_of(secret.hex);
  return secret;
}

std::string to_hex(std::string_view raw) {
  std::string out(raw.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  out.pop_back();
  return out;
}

std::string sha256_of(std::string_view text) {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return digest;
}

bool is_secret_hex(std::string_view text) {
  return text.size() == kSecretHexChars && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool equal_hashes(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace gh::secrets
