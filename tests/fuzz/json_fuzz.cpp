// Fuzz target: the one JSON parser for outside input (adapters/codec/json_reply.h), which
// every MQTT payload and HTTP body goes through, and the writer of every answer.
// Promises: never a crash or an exception; errors are kInvalidArgument or kTooLarge; what
// to_wire() writes parses back to the same value.
#include "adapters/codec/json_reply.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gh::Code;
  const auto text = gh::fuzz::as_text(data, size);
  auto parsed = gh::codec::parse_json(text, 8192, 16);
  gh::fuzz::require_code(parsed.status(), {Code::kInvalidArgument, Code::kTooLarge}, "parse_json");
  if (!parsed) return 0;
  const auto wire = gh::codec::to_wire(*parsed);
  auto again = gh::codec::parse_json(wire, 1 << 20, 16);
  gh::fuzz::require(again.is_ok(), "to_wire output parses");
  gh::fuzz::require(again.is_ok() && *again == *parsed, "to_wire round-trips");
  // The envelope of an answer that echoes the input must serialize too.
  const auto reply = gh::codec::to_wire(gh::codec::ok_reply({{"echo", *parsed}}));
  gh::fuzz::require(!reply.empty(), "ok_reply serializes");
  return 0;
}
