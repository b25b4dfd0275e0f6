#include "actors/system/nats_protocol.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace gh::nats_protocol {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

// The words of `line`, split at spaces and tabs.
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    const size_t start = at;
    while (at < line.size() && line[at] != ' ' && line[at] != '\t') ++at;
    if (at > start) out.push_back(line.substr(start, at - start));
  }
  return out;
}

std::optional<size_t> count_of(std::string_view text) {
  size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The text of `-ERR 'message'` without its quotes.
std::string error_text(std::string_view rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'')
    rest = rest.substr(1, rest.size() - 2);
  return std::string(rest);
}

// A MSG frame, once its payload and CRLF are in `buffer` after the control line (`line_end`
// is where the line's CRLF starts).
Result<std::optional<Frame>> take_msg(std::string& buffer, std::string_view line, size_t line_end,
                                      size_t max_payload) {
  const auto words = words_of(line);
  if (words.size() != 4 && words.size() != 5)
    return invalid_argument("a NATS MSG line without subject, sid and byte count");
  const auto bytes = count_of(words.back());
  if (!bytes) return invalid_argument("a NATS MSG whose byte count is not a number");
  if (*bytes > max_payload)
    return invalid_argument("a NATS MSG of " + std::to_string(*bytes) + " bytes, over the " +
                            std::to_string(max_payload) + " accepted");
  const size_t payload_at = line_end + 2;
  if (buffer.size() < payload_at + *bytes + 2) return std::optional<Frame>();
  if (buffer.compare(payload_at + *bytes, 2, "\r\n") != 0)
    return invalid_argument("a NATS MSG whose payload is not followed by CRLF");
  Frame frame;
  frame.op = Op::kMsg;
  frame.subject = std::string(words[1]);
  frame.sid = std::string(words[2]);
  if (words.size() == 5) frame.reply = std::string(words[3]);
  frame.body = buffer.substr(payload_at, *bytes);
  buffer.erase(0, payload_at + *bytes + 2);
  return std::optional<Frame>(std::move(frame));
}

}  // namespace

Result<std::optional<Frame>> take_frame(std::string& buffer, size_t max_payload) {
  const size_t line_end = buffer.find("\r\n");
  if (line_end == std::string::npos) {
    if (buffer.size() > kMaxControlLine)
      return invalid_argument("a NATS control line longer than " + std::to_string(kMaxControlLine) +
                              " bytes");
    return std::optional<Frame>();
  }
  if (line_end > kMaxControlLine)
    return invalid_argument("a NATS control line longer than " + std::to_string(kMaxControlLine) +
                            " bytes");
  const std::string line = buffer.substr(0, line_end);
  const size_t space = line.find_first_of(" \t");
  const std::string op = upper(line.substr(0, space));
  const std::string_view rest =
      space == std::string::npos ? std::string_view() : std::string_view(line).substr(space + 1);
  if (op == "MSG") return take_msg(buffer, line, line_end, max_payload);
  Frame frame;
  if (op == "INFO") {
    frame.op = Op::kInfo;
    frame.body = std::string(rest);
  } else if (op == "PING") {
    frame.op = Op::kPing;
  } else if (op == "PONG") {
    frame.op = Op::kPong;
  } else if (op == "+OK") {
    frame.op = Op::kOk;
  } else if (op == "-ERR") {
    frame.op = Op::kErr;
    frame.body = error_text(rest);
  } else {
    return invalid_argument("an unknown NATS operation '" + op.substr(0, 16) + "'");
  }
  buffer.erase(0, line_end + 2);
  return std::optional<Frame>(std::move(frame));
}

Result<nlohmann::json> parse_info(std::string_view body) {
  auto info = nlohmann::json::parse(body, nullptr, false);
  if (info.is_discarded() || !info.is_object())
    return invalid_argument("a NATS INFO that is not a JSON object");
  return info;
}

std::string connect_line(const nlohmann::json& options) {
  return "CONNECT " + options.dump() + "\r\n";
}

std::string sub_line(std::string_view subject, std::string_view sid) {
  return "SUB " + std::string(subject) + " " + std::string(sid) + "\r\n";
}

std::string pub_lines(std::string_view subject, std::string_view reply, std::string_view payload) {
  std::string out = "PUB " + std::string(subject);
  if (!reply.empty()) out += " " + std::string(reply);
  out += " " + std::to_string(payload.size()) + "\r\n";
  out += payload;
  out += "\r\n";
  return out;
}

}  // namespace gh::nats_protocol
