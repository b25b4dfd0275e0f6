#include "actors/system/nats_nkey.h"

#include <sodium.h>

#include <array>
#include <cstdlib>

namespace gh::nkeys {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void init_sodium() {
  // A key from an uninitialised libsodium could be weak: never go on without it.
  if (sodium_init() < 0) std::abort();
}

std::string with_crc(std::string data) {
  const uint16_t crc = crc16(data);
  data.push_back(static_cast<char>(crc & 0xff));
  data.push_back(static_cast<char>(crc >> 8));
  return data;
}

// The payload of `text` (prefix bytes and key) once its CRC is checked.
Result<std::string> checked_payload(std::string_view text, size_t expected_bytes) {
  auto raw = base32_decode(text);
  if (!raw) return raw.status();
  if (raw->size() != expected_bytes)
    return invalid_argument("an nkey of " + std::to_string(text.size()) +
                            " characters: not the length of one");
  const std::string payload = raw->substr(0, raw->size() - 2);
  const auto lo = static_cast<uint8_t>((*raw)[raw->size() - 2]);
  const auto hi = static_cast<uint8_t>((*raw)[raw->size() - 1]);
  if (crc16(payload) != static_cast<uint16_t>(lo | (hi << 8)))
    return invalid_argument("an nkey whose CRC does not match: mistyped or cut");
  return payload;
}

Result<Kind> kind_of_prefix(uint8_t prefix) {
  switch (prefix) {
    case static_cast<uint8_t>(Kind::kOperator):
      return Kind::kOperator;
    case static_cast<uint8_t>(Kind::kAccount):
      return Kind::kAccount;
    case static_cast<uint8_t>(Kind::kUser):
      return Kind::kUser;
    default:
      return invalid_argument("an nkey of a kind gatehouse does not use (not O, A or U)");
  }
}

}  // namespace

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kOperator:
      return "operator";
    case Kind::kAccount:
      return "account";
    case Kind::kUser:
      return "user";
  }
  return "unknown";
}

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (char ch : data) {
    crc ^= static_cast<uint16_t>(static_cast<uint8_t>(ch) << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

std::string base32_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : data) {
    buffer = (buffer << 8) | static_cast<uint8_t>(ch);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> base32_decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    const auto at = kAlphabet.find(ch);
    if (at == std::string_view::npos)
      return invalid_argument("an nkey holds a character outside base32 (A-Z, 2-7)");
    buffer = (buffer << 5) | static_cast<uint32_t>(at);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string KeyPair::public_text() const {
  return base32_encode(with_crc(static_cast<char>(kind) + public_key));
}

std::string KeyPair::seed_text() const {
  const auto prefix = static_cast<uint8_t>(kind);
  std::string head;
  head.push_back(static_cast<char>(kSeedPrefix | (prefix >> 5)));
  head.push_back(static_cast<char>((prefix & 31) << 3));
  return base32_encode(with_crc(head + seed));
}

std::string KeyPair::sign(std::string_view message) const {
  init_sodium();
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret{};
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> pub{};
  crypto_sign_seed_keypair(pub.data(), secret.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret.data());
  sodium_memzero(secret.data(), secret.size());
  return signature;
}

KeyPair key_from_seed(Kind kind, std::string_view seed32) {
  init_sodium();
  KeyPair key;
  key.kind = kind;
  key.seed = std::string(seed32);
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret{};
  key.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()), secret.data(),
                           reinterpret_cast<const unsigned char*>(seed32.data()));
  sodium_memzero(secret.data(), secret.size());
  return key;
}

KeyPair new_key(Kind kind) {
  init_sodium();
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  return key_from_seed(kind, seed);
}

Result<KeyPair> parse_seed(std::string_view text) {
  auto payload = checked_payload(text, 2 + crypto_sign_SEEDBYTES + 2);
  if (!payload) return payload.status();
  const auto b0 = static_cast<uint8_t>((*payload)[0]);
  const auto b1 = static_cast<uint8_t>((*payload)[1]);
  if ((b0 & 0xf8) != kSeedPrefix) return invalid_argument("not an nkey seed (it must start S)");
  auto kind = kind_of_prefix(static_cast<uint8_t>(((b0 & 7) << 5) | (b1 >> 3)));
  if (!kind) return kind.status();
  return key_from_seed(*kind, std::string_view(*payload).substr(2));
}

Result<std::string> parse_public_key(std::string_view text, Kind kind) {
  auto payload = checked_payload(text, 1 + crypto_sign_PUBLICKEYBYTES + 2);
  if (!payload) return payload.status();
  if (static_cast<uint8_t>((*payload)[0]) != static_cast<uint8_t>(kind))
    return invalid_argument("not an " + std::string(kind_name(kind)) + " public nkey");
  return payload->substr(1);
}

bool verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  init_sodium();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES)
    return false;
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

}  // namespace gh::nkeys
