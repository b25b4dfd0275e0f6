#include "events/stream_name.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace gh {

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status validate_id(std::string_view id, std::string_view what) {
  if (is_valid_id(id)) return Status::ok();
  return invalid_argument(std::string(what) + " must be 1-64 characters of A-Z a-z 0-9 . _ -");
}

std::string device_stream(std::string_view id) { return "device/" + std::string(id); }

bool is_valid_stream(std::string_view stream) {
  static constexpr std::array<std::string_view, 4> kKinds = {"device", "user", "room", "system"};
  auto slash = stream.find('/');
  if (slash == std::string_view::npos) return false;
  auto kind = stream.substr(0, slash);
  for (auto k : kKinds)
    if (k == kind) return is_valid_id(stream.substr(slash + 1));
  return false;
}

bool is_stream_prefix(std::string_view prefix) {
  return prefix.size() <= kMaxIdLength + std::string_view("device/").size() &&
         std::all_of(prefix.begin(), prefix.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
                  c == '-';
         });
}

}  // namespace gh
