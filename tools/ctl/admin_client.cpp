#include "tools/ctl/admin_client.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tools/ctl/admin_wire.h"

namespace gh::ctl {

bool runs_in_server(const std::string& verb, const std::vector<std::string>& args) {
  static const std::set<std::pair<std::string, std::string>> kWrites = {
      {"token", "create"},
      {"token", "revoke"},
      {"user", "grant"},
      {"user", "revoke"},
      {"user", "erase"},
      {"device", "add"},
      {"device", "rotate"},
      {"device", "revoke"},
      {"device", "remove"},
      {"provisioning-key", "create"},
      {"provisioning-key", "revoke"},
      {"action", "install"},
      {"action", "disable"},
      {"action", "enable"},
      {"action", "remove"}};
  if (verb == "snapshot") return true;
  if (verb == "events") {
    for (const auto& a : args)
      if (a == "--follow") return true;
    return false;
  }
  for (const auto& a : args) {
    if (a.starts_with("--")) continue;
    return kWrites.contains({verb, a});  // the first word after the verb is the subcommand
  }
  return false;
}

namespace {

// Asks for the name of the user to erase; true when it was typed.
bool confirmed(const std::string& name, std::istream& in, std::ostream& err) {
  err << "This erases user " << name
      << ": their hashes, sessions and roles go, the name can never be registered again,\n"
      << "and their messages show [erased] in every room. It cannot be undone.\n"
      << "Type the user's name to confirm: " << std::flush;
  std::string answer;
  if (!std::getline(in, answer)) answer.clear();
  while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
  return answer == name;
}

// The regular files named by `args` (scripts for action install/try), read here: the server
// never opens the operator's files.
std::string file_frames(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    std::error_code ec;
    if (a.starts_with("--") || !std::filesystem::is_regular_file(a, ec)) continue;
    std::ifstream file(a, std::ios::binary);
    std::ostringstream bytes;
    bytes << file.rdbuf();
    out += encode_frame({FrameKind::kFile, a}) + encode_frame({FrameKind::kFile, bytes.str()});
  }
  return out;
}

}  // namespace

std::optional<std::string> cluster_node_socket(const std::string& store_path) {
  std::ifstream marker(std::filesystem::path(store_path) / "BACKEND");
  constexpr std::string_view kKey = "admin-socket ";
  for (std::string line; std::getline(marker, line);)
    if (line.starts_with(kKey) && line.size() > kKey.size()) return line.substr(kKey.size());
  return std::nullopt;
}

std::string admin_socket_of_store(const std::string& store_path) {
  return cluster_node_socket(store_path).value_or(admin_socket_path(store_path));
}

std::optional<int> run_in_running_server(const std::string& socket, const std::string& verb,
                                         const std::vector<std::string>& args, std::istream& in,
                                         std::ostream& out, std::ostream& err) {
  auto fd = connect_admin_socket(socket);
  if (!fd) return std::nullopt;
  std::vector<std::string> sent = args;
  if (verb == "user" && !args.empty() && args[0] == "erase") {
    bool yes = false;
    std::string name;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--yes") yes = true;
      if (args[i] == "--as")
        ++i;
      else if (!args[i].starts_with("--") && name.empty())
        name = args[i];
    }
    if (!yes && !name.empty()) {
      if (!confirmed(name, in, err)) {
        ::close(*fd);
        err << "gatehousectl: not confirmed; nothing written\n";
        return 1;
      }
      sent.push_back("--yes");
    }
  }
  std::string request = encode_frame({FrameKind::kArg, verb});
  for (const auto& a : sent) request += encode_frame({FrameKind::kArg, a});
  if (verb == "action") request += file_frames(args);
  request += encode_frame({FrameKind::kEnd, ""});
  // A server that refuses the peer answers and hangs up before reading the request, so the
  // write may fail: its answer, already sent, says why, and is read first.
  const Status written = write_all(*fd, request);
  for (;;) {
    auto frame = read_frame(*fd);
    if (!frame || !*frame) {
      ::close(*fd);
      if (!written.is_ok()) {
        err << "gatehousectl: " << written.to_string() << "\n";
        return 1;
      }
      err << "gatehousectl: the server ended the admin connection before the verb finished"
          << (frame ? "" : ": " + frame.status().to_string()) << "\n";
      return 1;
    }
    auto& f = **frame;
    if (f.kind == FrameKind::kOut) out << f.payload << std::flush;
    if (f.kind == FrameKind::kErr) err << f.payload << std::flush;
    if (f.kind == FrameKind::kExit) {
      ::close(*fd);
      return std::atoi(f.payload.c_str());
    }
  }
}

}  // namespace gh::ctl
