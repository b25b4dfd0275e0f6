// Fuzz target: the payload a door describes itself with, on hello and on provisioning
// (adapters/mqtt/device_info_payload.h). Promises: never a crash; a refusal says why with an
// error of its kind; an accepted payload's fields respect the length limit.
#include "adapters/mqtt/device_info_payload.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gh::Code;
  using gh::mqtt_adapter::InfoProblem;
  constexpr size_t kMaxPayload = 4096, kMaxLength = 64;
  auto parsed = gh::mqtt_adapter::parse_device_info(gh::fuzz::as_text(data, size), "hello",
                                                    kMaxPayload, kMaxLength);
  switch (parsed.problem) {
    case InfoProblem::kNone:
      gh::fuzz::require(parsed.status.is_ok(), "no problem, no error");
      gh::fuzz::require(parsed.info.type.size() <= kMaxLength &&
                            parsed.info.name.size() <= kMaxLength &&
                            parsed.info.firmware.size() <= kMaxLength,
                        "fields within the limit");
      break;
    case InfoProblem::kTooLarge:
      gh::fuzz::require(parsed.status.code() == Code::kTooLarge, "too large is kTooLarge");
      break;
    case InfoProblem::kBadJson:
    case InfoProblem::kBadValue:
      gh::fuzz::require(parsed.status.code() == Code::kInvalidArgument, "bad is kInvalidArgument");
      break;
  }
  return 0;
}
