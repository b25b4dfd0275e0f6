#include "events/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace gh::log {
namespace {

struct Settings {
  std::mutex mu;
  Format format = Format::kText;
  std::function<void(const std::string&)> sink;
};

Settings& settings() {
  static Settings s;
  return s;
}

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

std::string iso_time(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buffer;
}

void json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Text values are quoted when they would not read back as one word; a line stays one line.
void text_value(std::string& out, std::string_view value) {
  bool plain = !value.empty();
  for (unsigned char c : value)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) plain = false;
  if (plain) {
    out += value;
  } else {
    json_string(out, value);
  }
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warning") return Level::kWarning;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "error";
}

std::string format_line(Format format, int64_t unix_ms, Level level, std::string_view component,
                        std::string_view message, const std::vector<Field>& fields) {
  std::string out;
  if (format == Format::kJson) {
    out += "{\"time\":\"" + iso_time(unix_ms) + "\",\"level\":\"";
    out += level_name(level);
    out += "\",\"component\":";
    json_string(out, component);
    out += ",\"msg\":";
    json_string(out, message);
    for (const auto& [key, value] : fields) {
      out += ',';
      json_string(out, key);
      out += ':';
      json_string(out, value);
    }
    out += '}';
    return out;
  }
  out += iso_time(unix_ms);
  out += ' ';
  out += level_name(level);
  out += ' ';
  out += component;
  out += ": ";
  for (char c : message) out += (c == '\n' || c == '\r') ? ' ' : c;
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += key;
    out += '=';
    text_value(out, value);
  }
  return out;
}

void configure(Level min, Format format, std::function<void(const std::string&)> sink) {
  auto& s = settings();
  std::lock_guard lock(s.mu);
  s.format = format;
  s.sink = std::move(sink);
  min_level.store(static_cast<int>(min));
}

bool enabled(Level level) { return static_cast<int>(level) >= min_level.load(); }

void write(Level level, std::string_view component, std::string_view message,
           const std::vector<Field>& fields) {
  if (!enabled(level)) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto& s = settings();
  std::lock_guard lock(s.mu);
  auto line = format_line(s.format, now, level, component, message, fields);
  if (s.sink) {
    s.sink(line);
    return;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace gh::log
