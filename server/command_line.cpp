#include "server/command_line.h"

#include <algorithm>
#include <caf/config_value.hpp>
#include <caf/settings.hpp>
#include <filesystem>
#include <map>

namespace gh::server {
namespace {

std::string str(caf::string_view view) { return std::string(view.begin(), view.end()); }

std::string value_text(const caf::config_option& option) {
  auto value = option.get();
  if (!value) return "";
  return caf::to_string(*value);
}

// "--http.port", or "--legacy" for the global category.
std::string cli_name(const caf::config_option& option) {
  std::string name = "--";
  if (option.category() != "global") {
    name.append(option.category().begin(), option.category().end());
    name += '.';
  }
  name.append(option.long_name().begin(), option.long_name().end());
  return name;
}

bool is_known_category(const Config& config, const std::string& category) {
  return std::any_of(config.options().begin(), config.options().end(),
                     [&](const caf::config_option& o) { return o.category() == category; });
}

// Walks a section of `content`; `category` is its dotted path ("" at the top).
std::string unknown_in(const Config& config, const caf::settings& section,
                       const std::string& category) {
  for (const auto& [key, value] : section) {
    const std::string name(key.begin(), key.end());
    if (auto nested = caf::get_if<caf::settings>(&value)) {
      const std::string path = category.empty() ? name : category + "." + name;
      if (!is_known_category(config, path)) return "unknown section [" + path + "]";
      auto inner = unknown_in(config, *nested, path);
      if (!inner.empty()) return inner;
      continue;
    }
    const std::string in = category.empty() ? "global" : category;
    if (config.options().qualified_name_lookup(in, name) == nullptr) {
      if (category.empty()) return "unknown option " + name;
      return "unknown option " + name + " in [" + category + "]";
    }
  }
  return "";
}

// The first "--name[=value]" argument that names no option; "" when all do. CAF refuses them
// too, but without saying which.
std::string unknown_argument(const Config& config, const std::vector<std::string>& args) {
  for (const auto& arg : args) {
    if (arg.rfind("--", 0) != 0) {
      if (arg == "-h" || arg == "-?") continue;
      return "unexpected argument '" + arg + "' (options look like --http.port=8081)";
    }
    auto name =
        arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
    if (config.options().cli_long_name_lookup(name) == nullptr) return "unknown option --" + name;
  }
  return "";
}

bool has(const std::vector<std::string>& args, std::initializer_list<std::string_view> names) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
    return std::find(names.begin(), names.end(), arg) != names.end();
  });
}

// --config-file=PATH names a file that must exist; without it, caf-application.ini is read
// when present.
std::string missing_config_file(const std::vector<std::string>& args) {
  for (const auto& arg : args)
    if (arg.rfind("--config-file=", 0) == 0) {
      auto path = arg.substr(14);
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec))
        return "config file " + path + " does not exist (--config-file)";
    }
  return "";
}

}  // namespace

std::string version_text() { return std::string("gatehouse ") + GH_VERSION; }

std::string help_text(const Config& config) {
  std::vector<std::pair<std::string, std::string>> rows;
  size_t width = 0;
  for (const auto* option : config.own_options()) {
    auto left = cli_name(*option) + "=" + value_text(*option);
    width = std::max(width, left.size());
    rows.emplace_back(std::move(left), str(option->description()));
  }
  width = std::min<size_t>(width, 44);
  std::string out =
      version_text() +
      ": doors and chat over MQTT and HTTP, on an event log.\n\n"
      "usage: gatehouse [--OPTION=VALUE ...]\n\n"
      "  --help                 this list: gatehouse's options with their defaults\n"
      "  --long-help            also CAF's own options (scheduler, logger, ...)\n"
      "  --version              print the version\n"
      "  --dump-config          print every effective value, as a config file\n"
      "  --config-file=PATH     read options from PATH (default: "
      "caf-application.ini in the working directory, if present)\n\n"
      "options (on the command line, or in the config file as [section] key=value):\n";
  for (const auto& [left, description] : rows) {
    out += "  " + left;
    out += std::string(left.size() < width ? width - left.size() : 0, ' ');
    out += "  " + description + "\n";
  }
  return out;
}

std::string dump_text(const Config& config) {
  std::string out = "; " + version_text() + ": every effective value (usable as a config file)\n";
  std::vector<std::string> order;
  std::map<std::string, std::vector<const caf::config_option*>> by_category;
  for (const auto* option : config.own_options()) {
    std::string category(option->category().begin(), option->category().end());
    auto [it, added] = by_category.try_emplace(category);
    if (added) order.push_back(category);
    it->second.push_back(option);
  }
  // Global options go first: a key after a [section] header belongs to that section.
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& c) { return c == "global"; });
  for (const auto& category : order) {
    if (category != "global") out += "[" + category + "]\n";
    for (const auto* option : by_category[category])
      out += str(option->long_name()) + "=" + value_text(*option) + "\n";
  }
  // CAF's own options that the command line or the config file set.
  std::string caf_part;
  for (const auto& [key, value] : config.content) {
    auto section = caf::get_if<caf::settings>(&value);
    if (!section || by_category.count(std::string(key.begin(), key.end())) != 0) continue;
    caf_part += "[" + std::string(key.begin(), key.end()) + "]\n";
    for (const auto& [name, inner] : *section)
      caf_part += std::string(name.begin(), name.end()) + "=" + caf::to_string(inner) + "\n";
  }
  if (!caf_part.empty()) out += "; CAF's own options that were set (--long-help)\n" + caf_part;
  return out;
}

std::string unknown_setting(const Config& config) { return unknown_in(config, config.content, ""); }

CommandLine parse_command_line(Config& config, const std::vector<std::string>& args) {
  CommandLine result;
  if (has(args, {"--help", "-h", "-?"})) {
    result.out = help_text(config);
    return result;
  }
  if (has(args, {"--version"})) {
    result.out = version_text() + "\n";
    return result;
  }
  const bool dump = has(args, {"--dump-config"});
  std::vector<std::string> rest;
  for (const auto& arg : args)
    if (arg != "--dump-config") rest.push_back(arg);
  auto refuse = [&result](int code, const std::string& why) {
    result.exit_code = code;
    result.err = "gatehouse: " + why + " (gatehouse --help lists the options)\n";
    return result;
  };
  if (auto unknown = unknown_argument(config, rest); !unknown.empty()) return refuse(2, unknown);
  if (auto missing = missing_config_file(rest); !missing.empty()) return refuse(2, missing);
  if (auto err = config.parse(caf::actor_system_config::string_list(rest.begin(), rest.end())); err)
    return refuse(2, config.render(err));
  if (config.cli_helptext_printed) return result;  // --long-help: CAF printed it
  if (auto unknown = unknown_setting(config); !unknown.empty())
    return refuse(2, unknown + " (config file " + config.config_file_path + ")");
  if (dump) {
    if (auto status = validate(config); !status.is_ok()) return refuse(1, status.message());
    result.out = dump_text(config);
    return result;
  }
  result.run = true;
  return result;
}

}  // namespace gh::server
