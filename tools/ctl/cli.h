// gatehousectl's command line: parses arguments, runs a verb, prints results on `out` and
// errors and progress on `err`. `main` is a thin wrapper; tests call run() directly.
// Thread-compatible.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace gh::ctl {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the verb failed, or verify found problems
inline constexpr int kExitUsage = 2;   // bad arguments

inline constexpr const char* kDefaultStore = "./var/store";

// Runs gatehousectl with `args` (without the program name), e.g. {"--store", "/x", "verify"}.
// Confirmations (user erase without --yes) are read from `in`.
int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err);

// As above with nothing to read: a confirmation is refused.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// When a server holds the store, run() hands the write verbs and `events --follow` to it
// through the store's admin socket (admin_client.h); the server calls this with the verb and
// its arguments (no --store) to run them on `live` (live_server.h), with the same output. A
// cluster node (live.database null: PostgreSQL) runs the read verbs too, so that an operator
// on its machine needs no connection string.
struct LiveServer;
int run_in_server(const std::vector<std::string>& args, const LiveServer& live, std::ostream& out,
                  std::ostream& err);

}  // namespace gh::ctl
