// gatehouse-lua-sandbox: the child process of sandbox_process.h. Reads requests on fd 3,
// runs them with lua_sandbox.h's run() or check() (a fresh Lua state each), asks gh.device
// questions back over the same socket, answers, and waits for the next. Exits when gatehouse
// closes the socket or dies; gatehouse kills it when a call overruns its wall-clock limit.
//
//   gatehouse-lua-sandbox <parent pid>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

#include "actors/actions/sandbox_wire.h"

namespace {

using namespace gh::actions;

constexpr int kFd = 3;
// A backstop: Lua's own cap is far lower.
[[maybe_unused]] constexpr rlim_t kAddressSpace = rlim_t{1} << 30;

bool send_all(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(kFd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool read_exact(char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::recv(kFd, out + done, size - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// One frame's body; false at the end of the stream or on nonsense.
bool read_frame(std::string& body) {
  char prefix[4];
  if (!read_exact(prefix, 4)) return false;
  const uint32_t n = wire::frame_length(std::string_view(prefix, 4));
  if (n > wire::kMaxFrameBytes) return false;
  body.resize(n);
  return read_exact(body.data(), n);
}

// gh.device through gatehouse: nil when the question or the answer fails.
std::optional<DeviceView> ask_device(const std::string& id) {
  std::string body;
  if (!send_all(wire::encode_device_query(id)) || !read_frame(body)) std::_Exit(0);
  auto answer = wire::decode_device_answer(body);
  if (!answer) std::_Exit(2);
  return *answer;
}

}  // namespace

int main(int argc, char** argv) {
  // Dies with the gatehouse thread that started it; and if that already happened, now.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc > 1 && std::to_string(::getppid()) != argv[1]) return 0;
  std::signal(SIGPIPE, SIG_IGN);
#ifndef __SANITIZE_ADDRESS__
  // Not in the sanitizer build (GH_SANITIZE): AddressSanitizer has reserved terabytes of
  // shadow memory by now, so any limit would fail every allocation; Lua's cap still holds.
  rlimit as{kAddressSpace, kAddressSpace};
  ::setrlimit(RLIMIT_AS, &as);
#endif
  rlimit core{0, 0};
  ::setrlimit(RLIMIT_CORE, &core);
  Host host;
  host.device = ask_device;
  std::string body;
  while (read_frame(body)) {
    auto request = wire::decode_request(body);
    if (!request) return 2;
    const bool sent = request->check
                          ? send_all(wire::encode_checked(check(request->source, request->limits)))
                          : send_all(wire::encode_result(
                                run(request->source, request->message, host, request->limits)));
    if (!sent) return 0;
  }
  return 0;
}
