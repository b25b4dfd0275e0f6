// The one wall clock: milliseconds since the Unix epoch. Components take a
// std::function<int64_t()> defaulting to this, so tests inject time and nothing else reads
// the system clock on its own.
// Thread-safety: safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace gh {

inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gh
