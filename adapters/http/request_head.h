// Whether the head of an HTTP/1.1 request (request line, header lines, blank line) has
// fully arrived, within limits on its size and on its number of header lines. httplib 0.11
// bounds each line (8 KiB) but not their number, so a client could send header lines
// forever; the connection gate checks every head with this before a worker reads it.
// Lines end at '\n' as httplib reads them; the head ends at the first line after the request
// line that is exactly "\r\n". Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace gh::http {

struct HeadLimits {
  size_t max_bytes = 16 * 1024;  // request line + header lines + blank line
  size_t max_headers = 100;      // header lines
};

enum class HeadScan {
  kIncomplete,      // more bytes are needed; none of the limits is exceeded yet
  kComplete,        // the head has arrived within both limits
  kTooLarge,        // the head is (or would be) longer than max_bytes
  kTooManyHeaders,  // more than max_headers header lines
};

// Scans `bytes`, the start of a request as received so far (it may go on past the head).
HeadScan scan_request_head(std::string_view bytes, const HeadLimits& limits);

}  // namespace gh::http
