// gatehouse's command line: --help (gatehouse's own options, their defaults, one line each),
// --version, --dump-config (every effective value, as a config file), and the start-up check
// that refuses an unknown option on the command line or an unknown section or key in the
// config file, naming it. CAF's own options stay behind --long-help.
// Not thread-safe: used once by main() before anything starts.
#pragma once

#include <string>
#include <vector>

#include "server/config.h"

namespace gh::server {

// What main() does next: run the server with `config`, or print `out` (stdout) and `err`
// (stderr) and exit with `exit_code` (0: --help, --version, --dump-config; 1: a value
// validate() refuses; 2: an unknown or malformed option).
struct CommandLine {
  bool run = false;
  int exit_code = 0;
  std::string out;
  std::string err;
};

// `args` without the program name.
CommandLine parse_command_line(Config& config, const std::vector<std::string>& args);

// The text of --help for `config`'s current values (defaults when nothing was parsed).
std::string help_text(const Config& config);

// Every effective value of gatehouse's options as a config file ([section] key=value), then
// CAF's options that were set.
std::string dump_text(const Config& config);

// The first section or key of `config.content` (what the command line and the config file
// set) that names no option: "unknown section [devcies]", "unknown option prot in [http]";
// empty when all are known.
std::string unknown_setting(const Config& config);

// "gatehouse 0.11.0".
std::string version_text();

}  // namespace gh::server
