// Names a picture by its content: equal bytes give equal ids, so a re-sent upload is
// stored once. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gh::codec {

inline constexpr size_t kPictureIdHexLength = 32;

// 32 lower-case hex characters: BLAKE2b (libsodium crypto_generichash) with a 16-byte output.
std::string picture_id(std::string_view bytes);

// True when `id` looks like a picture_id (32 lower-case hex characters).
bool is_valid_picture_id(std::string_view id);

}  // namespace gh::codec
