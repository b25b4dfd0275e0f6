#include "adapters/mqtt/device_info_payload.h"

#include <cctype>
#include <string>
#include <utility>

#include "adapters/codec/json_reply.h"

namespace gh::mqtt_adapter {
namespace {

ParsedInfo refused(InfoProblem problem, Status status) {
  ParsedInfo out;
  out.problem = problem;
  out.status = std::move(status);
  return out;
}

bool blank(std::string_view text) {
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

ParsedInfo parse_device_info(std::string_view payload, std::string_view what,
                             size_t max_payload_bytes, size_t max_info_length) {
  const std::string name(what);
  if (payload.size() > max_payload_bytes) {
    return refused(InfoProblem::kTooLarge, too_large(name + " payload exceeds " +
                                                     std::to_string(max_payload_bytes) + " bytes"));
  }
  ParsedInfo out;
  if (blank(payload)) return out;
  auto parsed = codec::parse_json(payload, max_payload_bytes);
  if (!parsed) {
    return refused(
        parsed.status().code() == Code::kTooLarge ? InfoProblem::kTooLarge : InfoProblem::kBadJson,
        parsed.status());
  }
  if (!parsed->is_object())
    return refused(InfoProblem::kBadJson,
                   invalid_argument(name + " payload must be a JSON object"));
  for (auto [field, target] : {std::pair{"type", &out.info.type}, std::pair{"name", &out.info.name},
                               std::pair{"firmware", &out.info.firmware}}) {
    auto it = parsed->find(field);
    if (it == parsed->end() || it->is_null()) continue;
    if (!it->is_string()) {
      return refused(InfoProblem::kBadValue,
                     invalid_argument(name + " field '" + field + "' must be a string"));
    }
    *target = it->get<std::string>();
    if (target->size() > max_info_length) {
      return refused(InfoProblem::kBadValue,
                     invalid_argument(name + " field '" + field + "' is longer than " +
                                      std::to_string(max_info_length) + " bytes"));
    }
  }
  return out;
}

}  // namespace gh::mqtt_adapter
