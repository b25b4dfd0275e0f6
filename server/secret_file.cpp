#include "server/secret_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace gh::server {
namespace {

std::string hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

std::string trimmed(std::string text) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && space(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  return text.substr(start);
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return hex(digest, sizeof digest);
}

Result<std::string> read_or_create_secret(const std::filesystem::path& path) {
  // O_EXCL: of two starts racing, one creates and the other reads the same secret.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    unsigned char bytes[16];
    randombytes_buf(bytes, sizeof bytes);
    const std::string secret = hex(bytes, sizeof bytes);
    const std::string line = secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return internal_error("cannot write " + path.string() + ": " + std::strerror(errno));
    return secret;
  }
  if (errno != EEXIST) {
    return internal_error("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  std::ifstream in(path);
  if (!in) return internal_error("cannot read " + path.string());
  std::string secret = trimmed(std::string(std::istreambuf_iterator<char>(in), {}));
  if (secret.empty()) return invalid_argument(path.string() + " is empty");
  return secret;
}

}  // namespace gh::server
