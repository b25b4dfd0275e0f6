#include "adapters/http/request_head.h"

namespace gh::http {

HeadScan scan_request_head(std::string_view bytes, const HeadLimits& limits) {
  size_t start = 0;
  size_t headers = 0;
  for (size_t line = 0;; ++line) {
    const size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) break;
    // The request line (line 0) never ends the head, as httplib reads it.
    if (line > 0 && end == start + 1 && bytes[start] == '\r') {
      return end + 1 <= limits.max_bytes ? HeadScan::kComplete : HeadScan::kTooLarge;
    }
    if (end + 1 > limits.max_bytes) return HeadScan::kTooLarge;
    if (line > 0 && ++headers > limits.max_headers) return HeadScan::kTooManyHeaders;
    start = end + 1;
  }
  return bytes.size() >= limits.max_bytes ? HeadScan::kTooLarge : HeadScan::kIncomplete;
}

}  // namespace gh::http
