// NATS' client protocol, the little of it gatehouse speaks (docs/cluster.md, "Revocation on
// NATS"), written from NATS' published protocol description: text control lines ending CRLF,
// MSG followed by its payload and CRLF.
//
// Frames from the server: INFO {json}, MSG <subject> <sid> [reply-to] <#bytes>, PING, PONG,
// +OK, -ERR '<message>'. Operation names are case-insensitive. HMSG (headers) never comes:
// gatehouse's CONNECT asks for no headers.
//
//   std::string buffer;                              // bytes read from the socket, appended
//   auto frame = nats_protocol::take_frame(buffer, max_payload);
//   if (!frame) ... the stream is broken: close the connection (frame.status() says why)
//   else if (*frame) ... one whole frame, removed from the front of `buffer`
//   else ... not whole yet: read more
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::nats_protocol {

// The longest control line accepted (NATS' own default max_control_line is 4 KiB).
inline constexpr size_t kMaxControlLine = 4096;

enum class Op { kInfo, kMsg, kPing, kPong, kOk, kErr };

struct Frame {
  Op op = Op::kPing;
  std::string subject;  // MSG
  std::string sid;      // MSG
  std::string reply;    // MSG: its reply-to, empty when none
  std::string body;     // MSG: the payload; INFO: the JSON; -ERR: the message, quotes removed
};

// The first whole frame of `buffer`, removed from it; nullopt (buffer unchanged) when it is not
// whole yet. kInvalidArgument for what no NATS server sends: a control line longer than
// kMaxControlLine, an unknown operation, MSG without subject, sid or a byte count, a payload
// larger than `max_payload` or not followed by CRLF.
Result<std::optional<Frame>> take_frame(std::string& buffer, size_t max_payload);

// INFO's JSON, or kInvalidArgument when it is not a JSON object.
Result<nlohmann::json> parse_info(std::string_view body);

// Client lines, CRLF-terminated.
std::string connect_line(const nlohmann::json& options);
std::string sub_line(std::string_view subject, std::string_view sid);
std::string pub_lines(std::string_view subject, std::string_view reply, std::string_view payload);
inline constexpr std::string_view kPing = "PING\r\n";
inline constexpr std::string_view kPong = "PONG\r\n";

}  // namespace gh::nats_protocol
