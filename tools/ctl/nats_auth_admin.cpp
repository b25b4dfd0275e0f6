#include "tools/ctl/nats_auth_admin.h"

#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"
#include "actors/system/nats_operator_setup.h"
#include "events/rendezvous.h"
#include "events/stream_name.h"

namespace gh::ctl {
namespace fs = std::filesystem;
namespace {

// Writes `text` to `path` created with `mode` (never readable by others first).
Status write_file(const fs::path& path, const std::string& text, mode_t mode) {
  const mode_t old = umask(0077);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  umask(old);
  file << text;
  file.close();
  if (!file) return Status(Code::kInternal, "cannot write " + path.string());
  if (chmod(path.c_str(), mode) != 0)
    return Status(Code::kInternal, "cannot set the mode of " + path.string());
  return Status::ok();
}

bool valid_prefix(const std::string& prefix) {
  if (prefix.empty() || prefix.size() > 64 || prefix.front() == '/' || prefix.back() == '/')
    return false;
  for (char c : prefix)
    if (c == '#' || c == '+' || c == '$' || c == '.' || c == ' ' || c == '*' || c == '>' ||
        static_cast<unsigned char>(c) < 0x20)
      return false;
  return true;
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kInternal, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<nkeys::KeyPair> read_seed(const fs::path& path, nkeys::Kind kind) {
  auto text = read_file(path);
  if (!text) return text.status();
  while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) text->pop_back();
  auto key = nkeys::parse_seed(*text);
  if (!key || key->kind != kind)
    return invalid_argument(path.string() + " does not hold a NATS " +
                            std::string(nkeys::kind_name(kind)) + " seed");
  return key;
}

}  // namespace

Status revoke_nats_doors(const std::string& dir, const std::vector<std::string>& device_ids,
                         int64_t now_s, std::ostream& out) {
  if (device_ids.empty()) return invalid_argument("give the ids of the doors to revoke");
  for (const auto& id : device_ids)
    if (!is_valid_id(id)) return invalid_argument("'" + id + "' is not a device id");
  auto account = read_seed(fs::path(dir) / "account.seed", nkeys::Kind::kAccount);
  if (!account) return account.status();
  auto operator_key = read_seed(fs::path(dir) / "operator.seed", nkeys::Kind::kOperator);
  if (!operator_key) return operator_key.status();
  const fs::path conf_path = fs::path(dir) / "nats-auth.conf";
  auto conf = read_file(conf_path);
  if (!conf) return conf.status();
  // The account's line, as server_config() writes it: `  ACCOUNT: "JWT"`.
  const std::string head = "  " + account->public_text() + ": \"";
  const auto at = conf->find(head);
  const auto end = at == std::string::npos ? at : conf->find('"', at + head.size());
  if (end == std::string::npos)
    return invalid_argument(conf_path.string() + " has no JWT of the account in account.seed");
  const std::string old_jwt = conf->substr(at + head.size(), end - at - head.size());
  auto claims = nats_jwt::decode(old_jwt);
  if (!claims) return claims.status();
  if ((*claims)["iss"] != operator_key->public_text())
    return invalid_argument("the account JWT is not signed by the key in operator.seed");
  auto& revocations = (*claims)["nats"]["revocations"];
  for (const auto& id : device_ids) {
    const auto user = nats_identities::door_user_key(*account, id).public_text();
    revocations[user] = now_s;
    out << "revoked " << id << " (NATS user " << user << ") at " << now_s << "\n";
  }
  const std::string new_jwt = nats_jwt::encode(*operator_key, std::move(*claims), now_s);
  std::string text = conf->substr(0, at + head.size()) + new_jwt + conf->substr(end);
  GH_RETURN_IF_ERROR(write_file(conf_path, text, 0644));
  out << "wrote " << conf_path.string() << ": reload every nats-server (SIGHUP)\n";
  return Status::ok();
}

Status create_nats_auth(const NatsAuthOptions& options, int64_t now_s, std::ostream& out) {
  if (options.prefixes.empty()) return invalid_argument("give at least one --prefix");
  for (const auto& prefix : options.prefixes)
    if (!valid_prefix(prefix))
      return invalid_argument("--prefix '" + prefix +
                              "': an MQTT topic prefix without '.', spaces, wildcards or $");
  if (!shards::valid_group_count(options.groups))
    return invalid_argument("--session-groups must be a power of two from 1 to 1024");
  std::error_code ec;
  const fs::path dir(options.dir);
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return invalid_argument(options.dir + " is not empty: give a new or empty directory");
  fs::create_directories(dir, ec);
  if (ec) return Status(Code::kInternal, "cannot create " + options.dir + ": " + ec.message());
  chmod(dir.c_str(), 0700);

  const auto keys = nats_setup::new_keys();
  const auto operator_path = fs::absolute(dir / "operator.jwt");
  const std::string account =
      nats_setup::account_jwt(keys, options.prefixes, options.groups, {}, now_s);
  const std::string system = nats_setup::system_account_jwt(keys, now_s);
  GH_RETURN_IF_ERROR(write_file(operator_path, nats_setup::operator_jwt(keys, now_s), 0644));
  GH_RETURN_IF_ERROR(
      write_file(dir / "nats-auth.conf",
                 nats_setup::server_config(keys, operator_path.string(), account, system), 0644));
  GH_RETURN_IF_ERROR(write_file(dir / "account.seed", keys.account.seed_text() + "\n", 0600));
  GH_RETURN_IF_ERROR(write_file(dir / "operator.seed", keys.operator_key.seed_text() + "\n", 0600));
  GH_RETURN_IF_ERROR(
      write_file(dir / "system-account.seed", keys.system_account.seed_text() + "\n", 0600));
  GH_RETURN_IF_ERROR(
      write_file(dir / "tools.jwt", nats_identities::node_jwt(keys.account, "tools", now_s), 0600));
  out << "operator " << keys.operator_key.public_text() << "\n"
      << "account " << keys.account.public_text() << "\n"
      << "system account " << keys.system_account.public_text() << "\n"
      << "wrote " << options.dir << ": include nats-auth.conf in every nats-server's "
      << "configuration; give gatehouse --cluster.nats-account-seed-file=" << options.dir
      << "/account.seed\n";
  return Status::ok();
}

}  // namespace gh::ctl
