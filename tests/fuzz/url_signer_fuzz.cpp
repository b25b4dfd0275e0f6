// Fuzz target: verification of signed picture URLs (adapters/http/url_signer.h), the one
// route that opens without a bearer token. Input: picture_id \0 expires \0 sig.
// Promises: never a crash; errors are kInvalidArgument or kPermissionDenied; a URL verifies
// only with the signature the key makes (no forgery), and a URL it signed verifies.
#include <charconv>

#include "adapters/http/url_signer.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gh::Code;
  static const auto signer = *gh::http::UrlSigner::create(std::string(32, 'k'));
  const auto f = gh::fuzz::fields(gh::fuzz::as_text(data, size), 3);
  const auto picture_id = f[0], expires = f[1], sig = f[2];
  constexpr int64_t kNow = 1'800'000'000;

  auto status = signer.verify(picture_id, expires, sig, kNow);
  gh::fuzz::require_code(status, {Code::kInvalidArgument, Code::kPermissionDenied}, "verify");
  if (status.is_ok()) {
    int64_t at = 0;
    std::from_chars(expires.data(), expires.data() + expires.size(), at);
    gh::fuzz::require(at >= kNow, "an expired URL never verifies");
    gh::fuzz::require(signer.signature(picture_id, at) == sig, "only the key's signature verifies");
  }
  int64_t at = 0;
  auto [end, error] = std::from_chars(expires.data(), expires.data() + expires.size(), at);
  if (error == std::errc() && end == expires.data() + expires.size() && !expires.empty()) {
    auto own = signer.verify(picture_id, expires, signer.signature(picture_id, at), kNow);
    gh::fuzz::require(own.is_ok() == (at >= kNow),
                      "a URL the key signed verifies until it expires");
  }
  return 0;
}
