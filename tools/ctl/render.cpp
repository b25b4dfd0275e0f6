#include "tools/ctl/render.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <charconv>
#include <ctime>
#include <memory>
#include <vector>

namespace gh::ctl {
namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<int> number(std::string_view text) {
  if (!all_digits(text)) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string format_time(int64_t unix_ms) {
  // Floor division so that times before 1970 still print the right second.
  int64_t seconds = unix_ms / 1000, millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

std::optional<int64_t> parse_time(std::string_view text) {
  if (all_digits(text)) {
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }
  if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) text.remove_suffix(1);
  // YYYY-MM-DD[THH:MM[:SS[.fff]]]
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto year = number(text.substr(0, 4)), month = number(text.substr(5, 2)),
       day = number(text.substr(8, 2));
  if (!year || !month || !day || *month < 1 || *month > 12 || *day < 1 || *day > 31)
    return std::nullopt;
  int hour = 0, minute = 0, second = 0, millis = 0;
  if (text.size() > 10) {
    if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text.size() < 16 ||
        text[13] != ':')
      return std::nullopt;
    auto h = number(text.substr(11, 2)), m = number(text.substr(14, 2));
    if (!h || !m || *h > 23 || *m > 59) return std::nullopt;
    hour = *h;
    minute = *m;
    std::string_view rest = text.substr(16);
    if (!rest.empty()) {
      if (rest.size() < 3 || rest[0] != ':') return std::nullopt;
      auto s = number(rest.substr(1, 2));
      if (!s || *s > 60) return std::nullopt;
      second = *s;
      rest = rest.substr(3);
      if (!rest.empty()) {
        if (rest[0] != '.' || rest.size() < 2 || !all_digits(rest.substr(1))) return std::nullopt;
        std::string fraction(rest.substr(1, 3));
        while (fraction.size() < 3) fraction.push_back('0');
        millis = *number(fraction);
      }
    }
  }
  std::tm utc{};
  utc.tm_year = *year - 1900;
  utc.tm_mon = *month - 1;
  utc.tm_mday = *day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  return int64_t(timegm(&utc)) * 1000 + millis;
}

std::string cause_text(const events::Cause& cause) {
  if (cause.kind() == events::Cause::KIND_UNSPECIFIED && cause.name().empty() &&
      cause.channel().empty())
    return "-";
  std::string kind = cause.kind() == events::Cause::KIND_UNSPECIFIED
                         ? "unknown"
                         : lowercase(events::Cause::Kind_Name(cause.kind()));
  std::string out = kind + ":" + (cause.name().empty() ? "-" : cause.name());
  if (!cause.channel().empty()) out += "/" + cause.channel();
  return out;
}

namespace {

// Credentials' verifiers: password and answer hashes (Argon2id strings an attacker could
// try passwords against offline), and session and token SHA-256s. The log keeps them; the
// tool never shows them. By name, so a new field named like them is hidden from the start.
bool is_secret(const google::protobuf::FieldDescriptor* field) {
  const std::string& name = field->name();
  return !field->is_repeated() &&
         field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING &&
         (name.ends_with("_hash") || name.find("sha256") != std::string::npos);
}

struct Event {
  const google::protobuf::FieldDescriptor* field = nullptr;  // the oneof member; null: none
  std::unique_ptr<google::protobuf::Message> body;           // a copy, secrets cleared
  std::vector<std::string> redacted;                         // the cleared fields' names
};

Event redacted_event(const events::Envelope& envelope) {
  Event out;
  const auto* reflection = envelope.GetReflection();
  const auto* oneof = events::Envelope::descriptor()->FindOneofByName("event");
  out.field = reflection->GetOneofFieldDescriptor(envelope, oneof);
  if (out.field == nullptr) return out;
  const auto& original = reflection->GetMessage(envelope, out.field);
  out.body.reset(original.New());
  out.body->CopyFrom(original);
  const auto* descriptor = out.body->GetDescriptor();
  const auto* body_reflection = out.body->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* f = descriptor->field(i);
    if (!is_secret(f) || body_reflection->GetString(*out.body, f).empty()) continue;
    body_reflection->ClearField(out.body.get(), f);
    out.redacted.push_back(f->name());
  }
  return out;
}

}  // namespace

std::string event_line(const events::Envelope& envelope) {
  std::string line = "p" + std::to_string(envelope.position()) + " " + envelope.stream() + " v" +
                     std::to_string(envelope.version()) + " " +
                     format_time(envelope.time_unix_ms());
  if (!envelope.command_id().empty()) line += " cmd=" + envelope.command_id();
  line += " by=" + cause_text(envelope.cause());
  // The event itself: its oneof field name and its fields in Protobuf text format, UTF-8
  // text as it is (chat messages are read by people).
  auto event = redacted_event(envelope);
  if (event.field == nullptr) return line + " <no event>";
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.SetUseUtf8StringEscaping(true);
  std::string body;
  printer.PrintToString(*event.body, &body);
  while (!body.empty() && body.back() == ' ') body.pop_back();
  for (const auto& name : event.redacted)
    body += (body.empty() ? "" : " ") + name + ": " + std::string(kRedacted);
  return line + " " + event.field->name() + " {" + (body.empty() ? "" : " " + body) + " }";
}

std::string event_json(const events::Envelope& envelope) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  auto event = redacted_event(envelope);
  if (event.redacted.empty()) {
    (void)google::protobuf::util::MessageToJsonString(envelope, &out, options);
    return out;
  }
  // The envelope without its event, then the event with its secrets cleared, then the
  // cleared fields as "[redacted]" strings (a bytes field cannot hold a marker in JSON: it
  // would be printed as base64).
  events::Envelope head = envelope;
  head.GetReflection()->ClearField(&head, event.field);
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(head, &out, options);
  (void)google::protobuf::util::MessageToJsonString(*event.body, &body, options);
  body.pop_back();  // '}'
  for (const auto& name : event.redacted)
    body += (body.size() == 1 ? "\"" : ",\"") + name + "\":\"" + std::string(kRedacted) + "\"";
  out.pop_back();  // '}'
  return out + (out.size() == 1 ? "\"" : ",\"") + event.field->name() + "\":" + body + "}}";
}

}  // namespace gh::ctl
