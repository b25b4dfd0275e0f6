// ApiTokens, bearer parsing and signed picture URLs: pure units, no server.
#include "adapters/http/auth.h"

#include <gtest/gtest.h>

#include "adapters/http/url_signer.h"

namespace gh::http {
namespace {

TEST(BearerSecret, AcceptsTheBearerSchemeOnly) {
  EXPECT_EQ(bearer_secret("Bearer abc").value_or(""), "abc");
  EXPECT_EQ(bearer_secret("  bearer   abc  ").value_or(""), "abc");
  EXPECT_EQ(bearer_secret("BEARER abc").value_or(""), "abc");
  EXPECT_FALSE(bearer_secret(""));
  EXPECT_FALSE(bearer_secret("Bearer"));
  EXPECT_FALSE(bearer_secret("Bearer   "));
  EXPECT_FALSE(bearer_secret("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(bearer_secret("Bearerabc"));
}

TEST(Sha256, MatchesTheKnownDigestAndHexRoundTrips) {
  // SHA-256("abc") from FIPS 180-2.
  const std::string hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  auto bytes = sha256_from_hex(hex);
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(sha256("abc"), *bytes);
  EXPECT_EQ(sha256_from_hex("abc").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(sha256_from_hex(std::string(64, 'g')).status().code(), Code::kInvalidArgument);
}

TEST(ApiTokens, AuthenticatesByHashedSecretAndForgetsRevokedTokens) {
  ApiTokens tokens;
  ASSERT_TRUE(tokens.add("ops", sha256("s3cret-ops")).is_ok());
  ASSERT_TRUE(tokens.add("ci", sha256("s3cret-ci")).is_ok());
  EXPECT_EQ(tokens.size(), 2u);
  // Every comparison goes through the constant-time path over all tokens.
  EXPECT_EQ(tokens.authenticate("s3cret-ops").value_or(""), "ops");
  EXPECT_EQ(tokens.authenticate("s3cret-ci").value_or(""), "ci");
  EXPECT_FALSE(tokens.authenticate("s3cret-op"));
  EXPECT_FALSE(tokens.authenticate("s3cret-opsX"));
  EXPECT_FALSE(tokens.authenticate(""));
  // The stored value is the hash: presenting the hash itself is not the secret.
  EXPECT_FALSE(tokens.authenticate(sha256("s3cret-ops")));

  EXPECT_TRUE(tokens.revoke("ops"));
  EXPECT_FALSE(tokens.revoke("ops"));
  EXPECT_FALSE(tokens.authenticate("s3cret-ops"));
  EXPECT_EQ(tokens.authenticate("s3cret-ci").value_or(""), "ci");
}

TEST(ApiTokens, ReplacingATokenChangesItsSecret) {
  ApiTokens tokens;
  ASSERT_TRUE(tokens.add("ops", sha256("old")).is_ok());
  ASSERT_TRUE(tokens.add("ops", sha256("new")).is_ok());
  EXPECT_FALSE(tokens.authenticate("old"));
  EXPECT_EQ(tokens.authenticate("new").value_or(""), "ops");
}

TEST(ApiTokens, RejectsBadNamesAndHashes) {
  ApiTokens tokens;
  EXPECT_EQ(tokens.add("bad name", sha256("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(tokens.add("", sha256("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(tokens.add("ops", "short").code(), Code::kInvalidArgument);
  EXPECT_EQ(tokens.size(), 0u);
}

UrlSigner test_signer(char fill = 'k') {
  auto signer = UrlSigner::create(std::string(UrlSigner::kKeyBytes, fill));
  EXPECT_TRUE(signer.is_ok());
  return *signer;
}

TEST(UrlSigner, ValidSignatureOpensUntilItExpires) {
  UrlSigner signer = test_signer();
  const std::string id = "0123456789abcdef0123456789abcdef";
  std::string sig = signer.signature(id, 1000);
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_EQ(signer.sign_path(id, 1000), "/pictures/" + id + "?expires=1000&sig=" + sig);
  EXPECT_TRUE(signer.verify(id, "1000", sig, 999).is_ok());
  EXPECT_TRUE(signer.verify(id, "1000", sig, 1000).is_ok());
  // Expired.
  EXPECT_EQ(signer.verify(id, "1000", sig, 1001).code(), Code::kPermissionDenied);
}

TEST(UrlSigner, TamperedUrlsAreRefused) {
  UrlSigner signer = test_signer();
  const std::string id = "0123456789abcdef0123456789abcdef";
  std::string sig = signer.signature(id, 1000);
  // Another picture, a later expiry, a flipped digit, another key.
  EXPECT_EQ(signer.verify("0123456789abcdef0123456789abcdee", "1000", sig, 0).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(signer.verify(id, "100000", sig, 0).code(), Code::kPermissionDenied);
  std::string flipped = sig;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  EXPECT_EQ(signer.verify(id, "1000", flipped, 0).code(), Code::kPermissionDenied);
  EXPECT_EQ(test_signer('z').verify(id, "1000", sig, 0).code(), Code::kPermissionDenied);
  // Malformed.
  EXPECT_EQ(signer.verify(id, "", sig, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(signer.verify(id, "10x", sig, 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(signer.verify(id, "1000", sig.substr(1), 0).code(), Code::kInvalidArgument);
  EXPECT_EQ(signer.verify(id, "1000", std::string(64, 'q'), 0).code(), Code::kInvalidArgument);
}

TEST(UrlSigner, KeyMustBe32Bytes) {
  EXPECT_EQ(UrlSigner::create("short").status().code(), Code::kInvalidArgument);
  UrlSigner a = UrlSigner::with_random_key();
  UrlSigner b = UrlSigner::with_random_key();
  EXPECT_NE(a.signature("p", 1), b.signature("p", 1));
}

}  // namespace
}  // namespace gh::http
