// Fuzz target: the legacy chat's Python-literal payloads (adapters/codec/py_literal.h).
// Promises: never a crash; errors are kInvalidArgument or kTooLarge; a legacy payload that
// parses is a dict; what to_py_literal() writes parses back to the same value (so a seed
// client's eval() of our answer sees what we meant).
#include "adapters/codec/py_literal.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using gh::Code;

// Floats print with enough digits to round-trip, but NaN never equals itself: only compare
// values without them.
bool has_nan(const nlohmann::json& v) {
  if (v.is_number_float()) return v.get<double>() != v.get<double>();
  if (v.is_structured())
    for (const auto& item : v)
      if (has_nan(item)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = gh::fuzz::as_text(data, size);
  gh::codec::PyLiteralLimits limits{.max_bytes = 4096, .max_depth = 16};

  auto literal = gh::codec::parse_py_literal(text, limits);
  gh::fuzz::require_code(literal.status(), {Code::kInvalidArgument, Code::kTooLarge},
                         "parse_py_literal");
  if (literal && !has_nan(*literal)) {
    const auto written = gh::codec::to_py_literal(*literal);
    auto again = gh::codec::parse_py_literal(written, {.max_bytes = 1 << 20, .max_depth = 16});
    gh::fuzz::require(again.is_ok(), "to_py_literal output parses");
    gh::fuzz::require(again.is_ok() && *again == *literal, "to_py_literal round-trips");
  }

  auto payload = gh::codec::parse_legacy_payload(text, limits);
  gh::fuzz::require_code(payload.status(), {Code::kInvalidArgument, Code::kTooLarge},
                         "parse_legacy_payload");
  gh::fuzz::require(!payload || payload->is_object(), "a legacy payload is a dict");
  return 0;
}
