#include "events/keys.h"

namespace gh::keys {

std::string be64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::optional<uint64_t> read_be64(std::string_view bytes) {
  if (bytes.size() < 8) return std::nullopt;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string stream_prefix(std::string_view stream) {
  std::string out(stream);
  out.push_back('\0');
  return out;
}

std::string versioned(std::string_view stream, uint64_t version) {
  return stream_prefix(stream) + be64(version);
}

std::optional<VersionedKey> parse_versioned(std::string_view key) {
  if (key.size() < 10 || key[key.size() - 9] != '\0') return std::nullopt;
  return VersionedKey{key.substr(0, key.size() - 9), *read_be64(key.substr(key.size() - 8))};
}

std::string command(std::string_view stream, std::string_view command_id) {
  return stream_prefix(stream) + std::string(command_id);
}

}  // namespace gh::keys
