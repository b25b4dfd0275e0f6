#include "tools/ctl/admin_wire.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gh::ctl {

std::string admin_socket_path(const std::string& store_path) {
  return (std::filesystem::path(store_path) / "admin.sock").string();
}

std::string encode_frame(const Frame& frame) {
  const auto n = static_cast<uint32_t>(frame.payload.size());
  std::string out;
  out.reserve(5 + n);
  out.push_back(static_cast<char>(frame.kind));
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out += frame.payload;
  return out;
}

Status write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    // MSG_NOSIGNAL: a tool that hung up must not kill the server with SIGPIPE.
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unavailable(std::string("admin socket: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

namespace {

// Reads exactly `n` bytes: false at end of stream or on an error.
bool read_exact(int fd, char* to, size_t n, size_t* got) {
  *got = 0;
  while (*got < n) {
    ssize_t r = ::read(fd, to + *got, n - *got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    *got += static_cast<size_t>(r);
  }
  return true;
}

bool known_kind(char k) {
  switch (static_cast<FrameKind>(k)) {
    case FrameKind::kArg:
    case FrameKind::kFile:
    case FrameKind::kEnd:
    case FrameKind::kOut:
    case FrameKind::kErr:
    case FrameKind::kExit:
      return true;
  }
  return false;
}

}  // namespace

Result<std::optional<Frame>> read_frame(int fd) {
  char head[5];
  size_t got = 0;
  if (!read_exact(fd, head, sizeof head, &got)) {
    if (got == 0) return std::optional<Frame>();
    return data_loss("admin socket: truncated frame header");
  }
  if (!known_kind(head[0])) return data_loss("admin socket: unknown frame kind");
  uint32_t n = 0;
  for (int i = 1; i < 5; ++i) n = (n << 8) | static_cast<unsigned char>(head[i]);
  if (n > kMaxFrameBytes) return data_loss("admin socket: frame over the size limit");
  Frame frame;
  frame.kind = static_cast<FrameKind>(head[0]);
  frame.payload.resize(n);
  if (n > 0 && !read_exact(fd, frame.payload.data(), n, &got))
    return data_loss("admin socket: truncated frame");
  return std::optional<Frame>(std::move(frame));
}

Result<AdminRequest> read_request(int fd) {
  AdminRequest request;
  std::optional<std::string> file_name;
  for (;;) {
    auto frame = read_frame(fd);
    if (!frame) return frame.status();
    if (!*frame) return data_loss("admin socket: request ended before its end frame");
    switch ((*frame)->kind) {
      case FrameKind::kArg:
        request.args.push_back(std::move((*frame)->payload));
        break;
      case FrameKind::kFile:
        if (!file_name) {
          file_name = std::move((*frame)->payload);
        } else {
          request.files[*file_name] = std::move((*frame)->payload);
          file_name.reset();
        }
        break;
      case FrameKind::kEnd:
        if (file_name) return data_loss("admin socket: a file name without its bytes");
        return request;
      default:
        return data_loss("admin socket: unexpected frame in a request");
    }
  }
}

std::optional<int> connect_admin_socket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return std::nullopt;
  std::memcpy(address.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return fd;
}

}  // namespace gh::ctl
