// The messages between gatehouse and its Lua sandbox process (sandbox_process.h,
// sandbox_helper_main.cpp), over one AF_UNIX stream socket. A frame is a little-endian u32
// length and that many bytes: a list of fields, each a u32 length and its bytes. The first
// field names the message:
//
//   gatehouse -> helper   "run"   source topic payload limits...   run handle(msg)
//                         "check" source limits...                  check at install
//                         "device" found [id registered online reported desired name type]
//                                                                   answer to gh.device
//   helper -> gatehouse   "device" id                               gh.device(id) asks
//                         "result" outcome reply error instructions peak n (kind target
//                                  payload)*n                       the end of a run
//                         "checked" code message                    the end of a check
//
// Pure: encoding and decoding only, no I/O. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/actions/lua_sandbox.h"
#include "events/status.h"

namespace gh::actions::wire {

inline constexpr size_t kMaxFrameBytes = 64u << 20;  // far above any legitimate message

// Builds one frame.
class FrameWriter {
 public:
  FrameWriter& add(std::string_view field);
  FrameWriter& add(uint64_t number);  // as decimal text
  // The frame with its length prefix.
  std::string finish() const;

 private:
  std::string body_;
};

// Reads the fields of one frame body (without its length prefix), in order.
class FrameReader {
 public:
  explicit FrameReader(std::string_view body) : rest_(body) {}
  // The next field; nullopt when the frame has no more or is malformed.
  std::optional<std::string_view> text();
  std::optional<uint64_t> number();

 private:
  std::string_view rest_;
};

// The length a frame's prefix announces, when `prefix` has at least 4 bytes.
uint32_t frame_length(std::string_view prefix);

// Requests (gatehouse -> helper).
std::string encode_run(const std::string& source, const Message& message,
                       const SandboxLimits& limits);
std::string encode_check(const std::string& source, const SandboxLimits& limits);
std::string encode_device_answer(const std::optional<DeviceView>& device);

// What the helper received.
struct Request {
  bool check = false;  // "check" rather than "run"
  std::string source;
  Message message;
  SandboxLimits limits;
};
// kInvalidArgument for anything but a well-formed "run" or "check".
Result<Request> decode_request(std::string_view body);
// nullopt for a device that is not there; kInvalidArgument when malformed.
Result<std::optional<DeviceView>> decode_device_answer(std::string_view body);

// Replies (helper -> gatehouse).
std::string encode_device_query(const std::string& id);
std::string encode_result(const RunResult& result);
std::string encode_checked(const Status& status);

// One reply as gatehouse reads it: exactly one of the three is set.
struct Reply {
  std::optional<std::string> device_query;  // gh.device(id) asks
  std::optional<RunResult> result;
  std::optional<Status> checked;
};
// kInvalidArgument when malformed (a helper that lies is treated as a failed call).
Result<Reply> decode_reply(std::string_view body);

}  // namespace gh::actions::wire
