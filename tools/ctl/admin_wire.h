// The admin socket's wire: how gatehousectl hands a verb to the running server and gets its
// output back (docs/operations.md "How gatehousectl reaches a running server").
//
// The socket is `<store>/admin.sock`, made by the server with mode 0600 (only the store's
// owner can connect; the server also checks the peer's uid). Both ways it carries frames:
// one kind byte, the payload's length as 4 bytes big-endian, the payload.
//   tool -> server: kArg frames (the verb and its arguments, no --store), kFile frame pairs
//                   (a path named on the command line, then that file's bytes: the server
//                   never reads the operator's files), then kEnd.
//   server -> tool: kOut and kErr chunks as the verb prints them, then kExit with the exit
//                   status as decimal text. `events --follow` sends kOut until the tool hangs up.
// Pure functions and blocking POSIX I/O on a given descriptor. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/status.h"

namespace gh::ctl {

enum class FrameKind : char {
  kArg = 'A',
  kFile = 'F',
  kEnd = 'Z',
  kOut = 'O',
  kErr = 'E',
  kExit = 'X',
};

struct Frame {
  FrameKind kind = FrameKind::kEnd;
  std::string payload;
};

inline constexpr size_t kMaxFrameBytes = 64u << 20;  // an action's source fits many times

// The socket of the server that holds the store at `store_path`.
std::string admin_socket_path(const std::string& store_path);

// The bytes of `frame` on the wire.
std::string encode_frame(const Frame& frame);

// Writes all of `bytes` to `fd`; kUnavailable when the peer is gone.
Status write_all(int fd, const std::string& bytes);

// Reads one frame from `fd`: nullopt at a clean end of stream; kDataLoss for a truncated or
// oversized frame or an unknown kind.
Result<std::optional<Frame>> read_frame(int fd);

// A request: the arguments and the files they name, by path.
struct AdminRequest {
  std::vector<std::string> args;
  std::map<std::string, std::string> files;
};

// Reads frames up to kEnd; kDataLoss for anything else.
Result<AdminRequest> read_request(int fd);

// Connects to the socket at `path`: the descriptor, or nullopt when no server listens there
// (no socket, or a socket left by a server that is gone).
std::optional<int> connect_admin_socket(const std::string& path);

}  // namespace gh::ctl
