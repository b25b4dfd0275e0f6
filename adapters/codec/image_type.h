// Recognizes the picture formats devices may upload, by content (magic bytes), never by a
// name or a claimed type. Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace gh::codec {

// "image/jpeg" when `bytes` start with FF D8 FF, "image/png" when they start with the PNG
// signature 89 50 4E 47 0D 0A 1A 0A; nullopt for anything else (including too short input).
std::optional<std::string_view> detect_image_type(std::string_view bytes);

}  // namespace gh::codec
