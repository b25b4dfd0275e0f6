// The golden file format of tests/data/v<N>/: a sequence of records, each
//   be32(length) be32(crc32 of the bytes) bytes
// where bytes is one serialized Envelope (events.bin) or Snapshot (snapshot.bin), exactly as
// the journal and the snapshot store stored them. The CRC makes a flipped byte detectable
// even where Protobuf would still parse. Test-only; pure; thread-safe.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh::testing {

inline uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

inline uint32_t get_be32(const std::string& in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

inline std::string encode_records(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) {
    put_be32(out, static_cast<uint32_t>(r.size()));
    put_be32(out, crc32(r));
    out += r;
  }
  return out;
}

// The records of `file`, or kDataLoss naming the first bad record (1-based) and why.
inline Result<std::vector<std::string>> decode_records(const std::string& file) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < file.size()) {
    const std::string which = "record " + std::to_string(out.size() + 1);
    if (file.size() - at < 8) return data_loss(which + ": truncated header");
    const uint32_t length = get_be32(file, at), crc = get_be32(file, at + 4);
    if (file.size() - at - 8 < length) return data_loss(which + ": truncated body");
    std::string bytes = file.substr(at + 8, length);
    if (crc32(bytes) != crc) return data_loss(which + ": checksum mismatch");
    out.push_back(std::move(bytes));
    at += 8 + length;
  }
  return out;
}

inline Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline bool write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  return bool(out);
}

}  // namespace gh::testing
