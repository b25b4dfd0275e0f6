// Key layout of the RocksDB column families. Pure functions; thread-safe.
//
//   events     stream '\0' be64(version)      -> Envelope bytes
//   positions  be64(position)                 -> events key of that event
//   commands   stream '\0' command_id         -> be64(first) be64(last) be64(last_position)
//   blobs      key                            -> bytes (pictures)
//   snapshots  stream '\0' be64(version)      -> Snapshot bytes
//
// Stream names never contain '\0' (see stream_name.h), so "device/a\0" is a unique prefix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gh::keys {

std::string be64(uint64_t value);
// The value of 8 big-endian bytes at the start of `bytes`; nullopt when shorter.
std::optional<uint64_t> read_be64(std::string_view bytes);

// stream '\0' be64(version); used by the events and snapshots column families.
std::string versioned(std::string_view stream, uint64_t version);
// The prefix every versioned key of `stream` starts with: stream '\0'.
std::string stream_prefix(std::string_view stream);

struct VersionedKey {
  std::string_view stream;
  uint64_t version = 0;
};
// Splits a versioned key; nullopt when it is not one.
std::optional<VersionedKey> parse_versioned(std::string_view key);

std::string command(std::string_view stream, std::string_view command_id);

}  // namespace gh::keys
