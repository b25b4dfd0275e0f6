// NATS nkeys (docs/cluster.md, "Device identity on NATS"): ed25519 keys (libsodium's
// crypto_sign_*) in NATS' text form, written from NATS' published nkeys specification.
//
// A public key is base32 (RFC 4648 alphabet, no padding) of
//   [prefix byte][32-byte ed25519 public key][CRC-16 little-endian]
// and reads "O…" (operator), "A…" (account) or "U…" (user). A seed is base32 of
//   [kSeed | prefix >> 5][(prefix & 31) << 3][32-byte ed25519 seed][CRC-16 little-endian]
// and reads "SO…", "SA…", "SU…". The CRC is CRC-16/XMODEM (polynomial 0x1021, initial 0)
// over everything before it.
//
//   auto account = nkeys::new_key(nkeys::Kind::kAccount);
//   std::string text = account.seed_text();          // "SA…": keep it secret (0600)
//   auto again = nkeys::parse_seed(text);            // the same key, CRC and prefix checked
//   std::string signature = account.sign("message"); // 64 bytes, ed25519
//
// Pure functions and values; thread-safe. Errors: kInvalidArgument naming what is wrong with
// the text (length, alphabet, CRC, kind).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::nkeys {

// The prefix byte of each kind of key (NATS' nkeys: the letter's index in base32 << 3).
enum class Kind : uint8_t {
  kOperator = 14 << 3,  // 'O'
  kAccount = 0,         // 'A'
  kUser = 20 << 3,      // 'U'
};
inline constexpr uint8_t kSeedPrefix = 18 << 3;  // 'S'

std::string_view kind_name(Kind kind);  // "operator", "account", "user"

// CRC-16/XMODEM of `data`.
uint16_t crc16(std::string_view data);

// RFC 4648 base32 without padding; decode refuses other characters and padding.
std::string base32_encode(std::string_view data);
Result<std::string> base32_decode(std::string_view text);

// An ed25519 key pair of one kind.
struct KeyPair {
  Kind kind = Kind::kUser;
  std::string seed;        // the 32-byte ed25519 seed
  std::string public_key;  // the 32-byte ed25519 public key

  std::string public_text() const;  // "O…", "A…", "U…"
  std::string seed_text() const;    // "SO…", "SA…", "SU…"
  // The 64-byte ed25519 signature of `message`.
  std::string sign(std::string_view message) const;
};

// The key pair of a 32-byte seed (deterministic).
KeyPair key_from_seed(Kind kind, std::string_view seed32);
// A fresh key from libsodium's CSPRNG.
KeyPair new_key(Kind kind);

// The key of a seed's text ("S" + kind letter), its CRC checked.
Result<KeyPair> parse_seed(std::string_view text);
// The 32-byte public key of "O…"/"A…"/"U…" text of kind `kind`, its CRC checked.
Result<std::string> parse_public_key(std::string_view text, Kind kind);

// True when `signature` is `public_key`'s (32 bytes) ed25519 signature of `message`.
bool verify(std::string_view public_key, std::string_view message, std::string_view signature);

}  // namespace gh::nkeys
