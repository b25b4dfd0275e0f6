#include "adapters/codec/json_reply.h"

#include <exception>

namespace gh::codec {

using nlohmann::json;

json ok_reply(json fields) {
  json reply = json::object();
  reply["ok"] = true;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) {
      if (key != "ok") reply[key] = std::move(value);
    }
  } else if (!fields.is_null()) {
    reply["value"] = std::move(fields);
  }
  return reply;
}

json error_reply(const Status& status) {
  return json{
      {"ok", false},
      {"error", {{"code", std::string(code_name(status.code()))}, {"message", status.message()}}}};
}

namespace {

// Depth of the deepest array/object in `text`, or max_depth + 1 as soon as it is exceeded.
// Done on the raw text so that a hostile "[[[[..." is refused before the parser allocates.
size_t nesting_depth(std::string_view text, size_t max_depth) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        if (deepest > max_depth) return deepest;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

}  // namespace

Result<json> parse_json(std::string_view text, size_t max_bytes, size_t max_depth) {
  if (text.size() > max_bytes) {
    return too_large("JSON of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                     std::to_string(max_bytes));
  }
  if (nesting_depth(text, max_depth) > max_depth) {
    return too_large("JSON nests deeper than " + std::to_string(max_depth) + " levels");
  }
  // The SAX-based parse with allow_exceptions=false reports syntax errors as a discarded
  // value; the try only guards against allocation failure, which must not escape either.
  try {
    json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false,
                             /*ignore_comments=*/false);
    if (value.is_discarded()) return invalid_argument("malformed JSON");
    return value;
  } catch (const std::exception& e) {
    return invalid_argument(std::string("malformed JSON: ") + e.what());
  }
}

std::string to_wire(const json& value) {
  try {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception&) {
    // Only allocation can fail here; an answer must still go out.
    return R"({"ok":false,"error":{"code":"internal","message":"serialization failed"}})";
  }
}

}  // namespace gh::codec
