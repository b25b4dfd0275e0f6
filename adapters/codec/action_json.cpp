#include "adapters/codec/action_json.h"

#include "adapters/codec/device_json.h"
#include "adapters/codec/iso_time.h"

namespace gh::codec {

using nlohmann::json;

namespace {

json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

}  // namespace

std::string hex_of(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char ch : bytes) {
    out.push_back(kHex[ch >> 4]);
    out.push_back(kHex[ch & 15]);
  }
  return out;
}

json to_json(const actions::Action& action, bool with_source) {
  json out{{"name", action.name},
           {"revision", action.revision},
           {"enabled", action.enabled},
           {"disabled_reason", text_or_null(action.disabled_reason)},
           {"sha256", hex_of(action.sha256)},
           {"installed_at", iso8601_or_null(action.installed_at_ms)},
           {"installed_by", to_json(action.installed_by)}};
  if (with_source) out["source"] = action.source;
  return out;
}

json to_json(const actions::Invocation& run) {
  return json{
      {"version", run.version},
      {"at", iso8601_or_null(run.time_ms)},
      {"topic", run.topic},
      {"input", run.input},  // at most actions.runs-excerpt bytes of it
      {"input_bytes", run.input_bytes},
      {"input_sha256", run.input_sha256.empty() ? json(nullptr) : json(hex_of(run.input_sha256))},
      {"output_bytes", run.output_bytes},
      {"outcome", std::string(actions::outcome_name(run.outcome))},
      {"output", run.outcome == actions::Outcome::kReplied ? json(run.output) : json(nullptr)},
      {"error", text_or_null(run.error)},
      {"instructions", run.instructions},
      {"peak_memory_bytes", run.peak_memory_bytes},
      {"effects", run.effects},
      // Past actions.runs-retain: input, output, error and effects are gone (empty).
      {"excerpts_dropped", run.excerpts_dropped}};
}

}  // namespace gh::codec
