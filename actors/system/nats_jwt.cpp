#include "actors/system/nats_jwt.h"

#include <sodium.h>

#include "actors/system/secret.h"

namespace gh::nats_jwt {
namespace {

constexpr const char* kHeader = R"({"typ":"JWT","alg":"ed25519-nkey"})";

// The public key iss names, whatever its kind (operators sign accounts, accounts sign users).
Result<std::string> issuer_key(const std::string& iss) {
  for (auto kind : {nkeys::Kind::kOperator, nkeys::Kind::kAccount, nkeys::Kind::kUser}) {
    auto key = nkeys::parse_public_key(iss, kind);
    if (key) return key;
  }
  return invalid_argument("the JWT's iss is not a public nkey");
}

}  // namespace

std::string base64url(std::string_view data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> from_base64url(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return invalid_argument("a JWT part that is not base64url");
  out.resize(length);
  return out;
}

std::string encode(const nkeys::KeyPair& issuer, nlohmann::json claims, int64_t iat_s) {
  claims.erase("jti");
  claims["iat"] = iat_s;
  claims["iss"] = issuer.public_text();
  claims["jti"] = nkeys::base32_encode(secrets::sha256_of(claims.dump()));
  const std::string signed_part = base64url(kHeader) + "." + base64url(claims.dump());
  return signed_part + "." + base64url(issuer.sign(signed_part));
}

Result<nlohmann::json> decode(std::string_view jwt) {
  const auto first = jwt.find('.');
  const auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos)
    return invalid_argument("a JWT has three parts separated by '.'");
  auto header = from_base64url(jwt.substr(0, first));
  auto body = from_base64url(jwt.substr(first + 1, second - first - 1));
  auto signature = from_base64url(jwt.substr(second + 1));
  if (!header) return header.status();
  if (!body) return body.status();
  if (!signature) return signature.status();
  auto head = nlohmann::json::parse(*header, nullptr, false);
  if (head.is_discarded() || !head.is_object() || head.value("alg", "") != "ed25519-nkey")
    return invalid_argument("not a NATS JWT (its header's alg is not ed25519-nkey)");
  auto claims = nlohmann::json::parse(*body, nullptr, false);
  if (claims.is_discarded() || !claims.is_object() || !claims.contains("iss") ||
      !claims["iss"].is_string())
    return invalid_argument("a JWT whose claims are not a JSON object with iss");
  auto key = issuer_key(claims["iss"].get<std::string>());
  if (!key) return key.status();
  if (!nkeys::verify(*key, jwt.substr(0, second), *signature))
    return Status(Code::kUnauthenticated, "the JWT's signature is not its issuer's");
  return claims;
}

}  // namespace gh::nats_jwt
