// gatehouse's log: one line per event with time, level and component, as text for people or
// JSON for machines (`log.format`), filtered by level (`log.level`). The lowest layer holds it
// so that every layer writes the same lines. Lines never carry secrets: callers pass names
// (a token's name, a user name), never tokens, passwords or query strings.
//
//   2026-12-02T23:59:01.123Z info http: request method=POST path=/devices/door1/lock status=202
//   {"time":"2026-12-02T23:59:01.123Z","level":"info","component":"http","msg":"request",...}
//
// Thread-safety: configure() before other threads log; write() from any thread (one lock per
// line, so lines never interleave).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gh::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class Format { kText, kJson };

// A named value of a line: `key=value` in text, a string member in JSON.
using Field = std::pair<std::string_view, std::string>;

// "debug", "info", "warning", "error"; nullopt for anything else.
std::optional<Level> parse_level(std::string_view name);
// "text", "json"; nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);
std::string_view level_name(Level level);

// One line, without its newline. Pure: `unix_ms` is the time of the event.
std::string format_line(Format format, int64_t unix_ms, Level level, std::string_view component,
                        std::string_view message, const std::vector<Field>& fields);

// Lines below `min` are dropped; lines go to `sink` (default: stderr, flushed per line).
void configure(Level min, Format format,
               std::function<void(const std::string& line)> sink = nullptr);
bool enabled(Level level);

// Writes one line stamped with the current time, if `level` is enabled.
void write(Level level, std::string_view component, std::string_view message,
           const std::vector<Field>& fields = {});

inline void info(std::string_view component, std::string_view message,
                 const std::vector<Field>& fields = {}) {
  write(Level::kInfo, component, message, fields);
}
inline void warning(std::string_view component, std::string_view message,
                    const std::vector<Field>& fields = {}) {
  write(Level::kWarning, component, message, fields);
}
inline void error(std::string_view component, std::string_view message,
                  const std::vector<Field>& fields = {}) {
  write(Level::kError, component, message, fields);
}

}  // namespace gh::log
