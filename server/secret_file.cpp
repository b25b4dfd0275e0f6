#include "server/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "actors/system/secret.h"

namespace gh::server {
namespace {

std::string trimmed(std::string text) {
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && space(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  return text.substr(start);
}

}  // namespace

Result<std::string> read_or_create_secret(const std::filesystem::path& path) {
  // O_EXCL: of two starts racing, one creates and the other reads the same secret.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string secret = secrets::new_secret().hex;
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

Result<std::string> read_secret(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return not_found(path.string() + " does not exist");
    return internal_error("cannot read " + path.string() + ": " + std::strerror(errno));
  }
  if ((info.st_mode & 077) != 0)
    return failed_precondition(path.string() +
                               " may be read by group or others: chmod 600 it (it holds a secret)");
  std::ifstream in(path);
  if (!in) return internal_error("cannot read " + path.string());
  std::string secret = trimmed(std::string(std::istreambuf_iterator<char>(in), {}));
  if (secret.empty()) return invalid_argument(path.string() + " is empty");
  return secret;
}

}  // namespace gh::server
