#include "adapters/http/refusal_counters.h"

namespace gh::http {

std::string_view refusal_name(Refusal reason) {
  // No default: a new reason breaks the build here until it has a name.
  switch (reason) {
    case Refusal::kHeaderTooLarge:
      return "header_too_large";
    case Refusal::kTooManyHeaders:
      return "too_many_headers";
    case Refusal::kHeaderTimeout:
      return "header_timeout";
    case Refusal::kSourceConnections:
      return "source_connections";
    case Refusal::kTotalConnections:
      return "total_connections";
    case Refusal::kBodyFraming:
      return "body_framing";
    case Refusal::kUnsupportedMediaType:
      return "unsupported_media_type";
    case Refusal::kStreamsPerUser:
      return "streams_per_user";
  }
  return "unknown";
}

std::vector<std::pair<std::string_view, uint64_t>> RefusalCounters::snapshot() const {
  std::vector<std::pair<std::string_view, uint64_t>> out;
  out.reserve(kRefusalCount);
  for (size_t i = 0; i < kRefusalCount; ++i) {
    const auto reason = static_cast<Refusal>(i);
    out.emplace_back(refusal_name(reason), counts_.get(reason));
  }
  return out;
}

}  // namespace gh::http
