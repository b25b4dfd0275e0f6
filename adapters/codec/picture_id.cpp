#include "adapters/codec/picture_id.h"

#include <sodium.h>

namespace gh::codec {

std::string picture_id(std::string_view bytes) {
  // sodium_init only picks faster implementations; it is idempotent and thread-safe, and
  // generichash is correct even before it, so its result does not matter here.
  static const int kInit = sodium_init();
  (void)kInit;
  unsigned char hash[kPictureIdHexLength / 2];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  char hex[kPictureIdHexLength + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string(hex, kPictureIdHexLength);
}

bool is_valid_picture_id(std::string_view id) {
  if (id.size() != kPictureIdHexLength) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace gh::codec
