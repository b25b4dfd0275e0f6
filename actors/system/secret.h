// The secrets of gatehouse's identities (API tokens, door credentials, provisioning keys):
// 128 random bits shown once as 32 lower-case hex characters, of which only SHA-256 of the
// hex text is stored; and the constant-time comparison of stored hashes. The one copy
// shared by the server and gatehousectl (no CAF).
// Thread-safety: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gh::secrets {

inline constexpr size_t kSecretBytes = 16;                   // 128 bits
inline constexpr size_t kSecretHexChars = 2 * kSecretBytes;  // what is handed out
inline constexpr size_t kHashBytes = 32;                     // SHA-256

struct NewSecret {
  std::string hex;     // 32 lower-case hex characters: give it out once, never store it
  std::string sha256;  // 32 raw bytes: SHA-256 of `hex`, what the log keeps
};

// A fresh secret from libsodium's CSPRNG (aborts if libsodium cannot initialise: a weak
// secret is never returned).
NewSecret new_secret();

// Lower-case hex of `raw` bytes (configuration and the broker's plugin carry hashes so).
std::string to_hex(std::string_view raw);

// SHA-256 of `text`, 32 raw bytes.
std::string sha256_of(std::string_view text);

// True when `text` is exactly kSecretHexChars lower-case hex characters.
bool is_secret_hex(std::string_view text);

// True when `a` and `b` are equal. Takes the same time whatever bytes differ (every byte of
// the shorter is visited; sizes are not secret).
bool equal_hashes(std::string_view a, std::string_view b);

}  // namespace gh::secrets
