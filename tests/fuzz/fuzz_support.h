// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cpp): splitting one input into
// several fields, and a check that stops the process when a promise is broken, so that both
// libFuzzer and the corpus replay in CTest report it. Header-only; no sanitizer needed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace gh::fuzz {

// The input as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// `text` split at every NUL byte into exactly `n` fields (missing ones empty, the last one
// keeps any further NULs), so a seed file is written as fields joined by "\0".
inline std::vector<std::string_view> fields(std::string_view text, size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    auto nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.push_back(text);
  out.resize(n);
  return out;
}

// Aborts with `what` unless `ok`: a broken promise is a finding like a crash.
inline void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz: promise broken: %s\n", what);
  std::abort();
}

// Aborts unless `status` is ok or has one of `allowed` codes: bad input gets a named error of
// the documented kinds, never another.
inline void require_code(const Status& status, std::initializer_list<Code> allowed,
                         const char* what) {
  if (status.is_ok()) return;
  for (auto code : allowed)
    if (status.code() == code) return;
  std::fprintf(stderr, "fuzz: %s: unexpected error %s\n", what, status.to_string().c_str());
  std::abort();
}

}  // namespace gh::fuzz
