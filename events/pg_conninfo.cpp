#include "events/pg_conninfo.h"

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace gh {
namespace {

using Options = std::vector<std::pair<std::string, std::string>>;

// The keywords `conninfo` sets, in libpq's order; libpq's message when it cannot parse it.
Result<Options> parse(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error ? error : "out of memory";
    if (error) PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    return invalid_argument("not a libpq connection string: " + message);
  }
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> owned(parsed, PQconninfoFree);
  Options out;
  for (auto* option = parsed; option->keyword != nullptr; ++option)
    if (option->val != nullptr) out.emplace_back(option->keyword, option->val);
  return out;
}

// A value in single quotes, as libpq's keyword form wants any value with spaces or quotes.
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

Result<std::string> pg_conninfo(const std::string& conninfo, const std::string& password) {
  if (conninfo.empty()) return invalid_argument("the PostgreSQL connection string is empty");
  auto options = parse(conninfo);
  if (!options) return options.status();
  std::string out;
  for (const auto& [keyword, value] : *options) {
    if (keyword == "password" && !password.empty())
      return invalid_argument(
          "the connection string has a password and a password file is given too: keep it in "
          "the file only");
    out += (out.empty() ? "" : " ") + keyword + "=" + quoted(value);
  }
  if (!password.empty())
    out += (out.empty() ? "" : " ") + std::string("password=") + quoted(password);
  return out;
}

std::string pg_conninfo_redacted(const std::string& conninfo) {
  auto options = parse(conninfo);
  if (!options) return "(unparsable connection string)";
  std::string out;
  for (const auto& [keyword, value] : *options)
    if (keyword != "password") out += (out.empty() ? "" : " ") + keyword + "=" + value;
  return out;
}

}  // namespace gh
