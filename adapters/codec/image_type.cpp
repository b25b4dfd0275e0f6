#include "adapters/codec/image_type.h"

namespace gh::codec {

std::optional<std::string_view> detect_image_type(std::string_view bytes) {
  static constexpr std::string_view kJpeg("\xFF\xD8\xFF", 3);
  static constexpr std::string_view kPng("\x89PNG\r\n\x1A\n", 8);
  if (bytes.starts_with(kJpeg)) return "image/jpeg";
  if (bytes.starts_with(kPng)) return "image/png";
  return std::nullopt;
}

}  // namespace gh::codec
