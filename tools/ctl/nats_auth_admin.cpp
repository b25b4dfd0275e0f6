#include "tools/ctl/nats_auth_admin.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "actors/system/nats_account_update.h"
#include "actors/system/nats_connection.h"
#include "actors/system/nats_identities.h"
#include "actors/system/nats_jwt.h"
#include "actors/system/nats_operator_setup.h"
#include "actors/system/nats_system_user.h"
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

// Pushes `wanted` to the running NATS cluster at `nats_url` as DIR/system-user.creds' user.
Status push_revocations(const std::string& dir, const std::string& nats_url,
                        const nkeys::KeyPair& signing_key, const std::string& account,
                        const std::map<std::string, int64_t>& wanted, int64_t now_s,
                        std::ostream& out) {
  auto urls = nats_client::parse_urls(nats_url);
  if (!urls) return invalid_argument("--nats-url: " + urls.status().message());
  auto text = read_file(fs::path(dir) / "system-user.creds");
  if (!text) return text.status();
  auto creds = nats_system_user::parse_creds(*text);
  if (!creds) return creds.status();
  constexpr auto kTimeout = std::chrono::milliseconds(5000);
  Status last = unavailable("no NATS URL");
  for (const auto& url : *urls) {
    auto connection = nats_client::NatsConnection::open(url, {creds->jwt, creds->user}, kTimeout);
    if (!connection) {
      last = connection.status();
      continue;
    }
    auto pushed =
        nats_client::update_account(**connection, account, signing_key, wanted, now_s, kTimeout);
    if (!pushed) return pushed.status();
    out << (*pushed ? "pushed to NATS at " : "NATS already held it, at ") << url << "\n";
    return Status::ok();
  }
  return last;
}

}  // namespace

Status revoke_nats_doors(const std::string& dir, const std::vector<std::string>& device_ids,
                         int64_t now_s, std::ostream& out, const std::string& nats_url) {
  if (device_ids.empty()) return invalid_argument("give the ids of the doors to revoke");
  for (const auto& id : device_ids)
    if (!is_valid_id(id)) return invalid_argument("'" + id + "' is not a device id");
  auto account = read_seed(fs::path(dir) / "account.seed", nkeys::Kind::kAccount);
  if (!account) return account.status();
  auto signing_key = read_seed(fs::path(dir) / "operator-signing.seed", nkeys::Kind::kOperator);
  if (!signing_key) return signing_key.status();
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
  if ((*claims)["iss"] != signing_key->public_text())
    return invalid_argument("the account JWT is not signed by the key in operator-signing.seed");
  auto& revocations = (*claims)["nats"]["revocations"];
  std::map<std::string, int64_t> wanted;
  for (const auto& id : device_ids) {
    const auto user = nats_identities::door_user_key(*account, id).public_text();
    revocations[user] = now_s;
    wanted[user] = now_s;
    out << "revoked " << id << " (NATS user " << user << ") at " << now_s << "\n";
  }
  // Newer than the JWT held (NATS' resolver keeps the newer), even one pushed this second.
  const int64_t iat = std::max(now_s, claims->value("iat", int64_t{0}) + 1);
  const std::string new_jwt = nats_jwt::encode(*signing_key, std::move(*claims), iat);
  std::string text = conf->substr(0, at + head.size()) + new_jwt + conf->substr(end);
  GH_RETURN_IF_ERROR(write_file(conf_path, text, 0644));
  out << "wrote " << conf_path.string() << "\n";
  if (nats_url.empty()) return Status::ok();
  return push_revocations(dir, nats_url, *signing_key, account->public_text(), wanted, now_s, out);
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
      write_file(dir / "operator-signing.seed", keys.signing_key.seed_text() + "\n", 0600));
  GH_RETURN_IF_ERROR(
      write_file(dir / "system-user.creds",
                 nats_system_user::creds_text(
                     nats_system_user::user_jwt(keys.system_account, keys.system_user, now_s),
                     keys.system_user),
                 0600));
  GH_RETURN_IF_ERROR(
      write_file(dir / "tools.jwt", nats_identities::node_jwt(keys.account, "tools", now_s), 0600));
  out << "operator " << keys.operator_key.public_text() << "\n"
      << "account " << keys.account.public_text() << "\n"
      << "system account " << keys.system_account.public_text() << "\n"
      << "wrote " << options.dir << ": include nats-auth.conf in every nats-server's "
      << "configuration, with a resolver block of its own:\n"
      << nats_setup::resolver_config("<a directory of that node>/jwt")
      << "give gatehouse --cluster.nats-account-seed-file=" << options.dir
      << "/account.seed, and to revoke by itself --cluster.nats-operator-signing-seed-file="
      << options.dir << "/operator-signing.seed --cluster.nats-system-creds-file=" << options.dir
      << "/system-user.creds --cluster.nats-url=nats://HOST:PORT,...\n";
  return Status::ok();
}

}  // namespace gh::ctl
