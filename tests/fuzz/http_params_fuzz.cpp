// Fuzz target: what HTTP requests carry in their head: query parameters (params.h), the
// Idempotency-Key header (an id, events/stream_name.h), the Content-Type check, and the head
// scan of the connection gate (request_head.h). Input: value \0 raw request bytes.
// Promises: never a crash; parse errors are kInvalidArgument; parsed values are in range.
#include "adapters/http/params.h"
#include "adapters/http/request_head.h"
#include "events/stream_name.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gh::Code;
  namespace h = gh::http;
  const auto f = gh::fuzz::fields(gh::fuzz::as_text(data, size), 2);
  const auto value = f[0];

  auto u = h::parse_u64(value, "after");
  gh::fuzz::require_code(u.status(), {Code::kInvalidArgument}, "parse_u64");
  if (u)
    gh::fuzz::require(
        !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos,
        "parse_u64 takes digits only");
  auto limit = h::parse_limit(value, 50, 200);
  gh::fuzz::require_code(limit.status(), {Code::kInvalidArgument}, "parse_limit");
  if (limit) gh::fuzz::require(*limit >= 1 && *limit <= 200, "limit in 1..max");
  auto time = h::parse_time_ms(value);
  gh::fuzz::require_code(time.status(), {Code::kInvalidArgument}, "parse_time_ms");
  if (time) gh::fuzz::require(*time >= 0, "no time before 1970");
  auto wait = h::parse_wait(value, std::chrono::seconds(30));
  gh::fuzz::require_code(wait.status(), {Code::kInvalidArgument}, "parse_wait");
  if (wait) gh::fuzz::require(wait->count() >= 0 && wait->count() <= 30, "wait in 0..max");
  (void)h::is_json_media_type(value);

  auto key = gh::validate_id(value, "Idempotency-Key");
  gh::fuzz::require_code(key, {Code::kInvalidArgument}, "Idempotency-Key");
  if (key.is_ok())
    gh::fuzz::require(value.size() >= 1 && value.size() <= gh::kMaxIdLength,
                      "Idempotency-Key length");

  const h::HeadLimits limits{.max_bytes = 2048, .max_headers = 16};
  const auto head = f[1];
  auto scan = h::scan_request_head(head, limits);
  if (scan == h::HeadScan::kComplete)
    gh::fuzz::require(head.find("\r\n") != std::string_view::npos, "a complete head has a line");
  if (head.size() <= 16 && scan == h::HeadScan::kTooLarge)
    gh::fuzz::require(false, "a short head is never too large");
  return 0;
}
