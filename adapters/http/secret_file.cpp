#include "adapters/http/secret_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gh::http {
namespace {

constexpr mode_t kOwnerOnly = S_IRUSR | S_IWUSR;

Status io_error(const std::string& what, const std::string& path) {
  return internal_error("cannot " + what + " " + path + ": " + std::strerror(errno));
}

// The whole file when it exists with exactly `bytes` bytes; "" otherwise.
Result<std::string> read_existing(const std::string& path, size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::string();
    return io_error("open", path);
  }
  struct stat info {};
  std::string out;
  if (::fstat(fd, &info) == 0 && static_cast<size_t>(info.st_size) == bytes) {
    // A key written by an older gatehouse with the default umask: narrow it now.
    if ((info.st_mode & 077) != 0) (void)::fchmod(fd, kOwnerOnly);
    out.resize(bytes);
    size_t done = 0;
    while (done < bytes) {
      const ssize_t n = ::read(fd, out.data() + done, bytes - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    if (done != bytes) out.clear();
  }
  ::close(fd);
  return out;
}

Status write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return internal_error(std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Result<std::string> load_or_create_secret(const std::string& path, size_t bytes) {
  auto existing = read_existing(path, bytes);
  if (!existing) return existing.status();
  if (!existing->empty()) return existing;

  std::string secret(bytes, '\0');
  randombytes_buf(secret.data(), secret.size());
  unsigned char suffix[8];
  randombytes_buf(suffix, sizeof suffix);
  std::string temporary = path + ".tmp-";
  for (unsigned char c : suffix) temporary += "0123456789abcdef"[c & 0xf];
  // Created 0600 (the umask can only remove bits); fchmod makes it exactly 0600 before a
  // byte is written, should the umask have removed the owner's own bits.
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, kOwnerOnly);
  if (fd < 0) return io_error("create", temporary);
  Status written =
      ::fchmod(fd, kOwnerOnly) == 0 ? write_all(fd, secret) : io_error("chmod", temporary);
  if (written.is_ok() && ::fsync(fd) != 0) written = io_error("sync", temporary);
  ::close(fd);
  if (written.is_ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    written = io_error("rename to", path);
  }
  if (!written.is_ok()) {
    ::unlink(temporary.c_str());
    return internal_error("cannot write " + path + ": " + written.message());
  }
  // The rename is durable once the directory is synced.
  const auto slash = path.find_last_of('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return secret;
}

}  // namespace gh::http
