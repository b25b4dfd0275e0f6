#include "adapters/mqtt/broker_plugin/identity_table.h"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "actors/system/secret.h"
#include "events/stream_name.h"

namespace gh::broker {
namespace {

using nlohmann::json;

constexpr std::string_view kKeyPrefix = "pk.";

Result<std::string> hash_from_hex(const json& value) {
  if (!value.is_string()) return invalid_argument("sha256 must be a hex string");
  const auto& hex = value.get_ref<const std::string&>();
  std::string raw(crypto_hash_sha256_BYTES, '\0');
  size_t len = 0;
  if (hex.size() != 2 * raw.size() ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(raw.data()), raw.size(), hex.data(),
                     hex.size(), nullptr, &len, nullptr) != 0 ||
      len != raw.size())
    return invalid_argument("sha256 must be 64 hex characters");
  return raw;
}

// A provisioning key presented as a password: "pk.<name>.<secret>". The name may hold dots,
// the secret (hex) never does.
std::optional<std::pair<std::string_view, std::string_view>> split_key(std::string_view password) {
  if (!password.starts_with(kKeyPrefix)) return std::nullopt;
  auto rest = password.substr(kKeyPrefix.size());
  auto dot = rest.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  return std::pair{rest.substr(0, dot), rest.substr(dot + 1)};
}

const std::string* find(const std::map<std::string, std::string, std::less<>>& table,
                        std::string_view name) {
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

Status bad_credentials() { return unauthenticated("bad user name or password"); }

}  // namespace

IdentityTable::IdentityTable(ServerCredential server, Anonymous anonymous)
    : server_(std::move(server)), anonymous_(anonymous) {}

Result<Authenticated> IdentityTable::authenticate(const char* username, const char* password,
                                                  std::string_view client_id, int64_t now_ms,
                                                  bool local) const {
  std::string_view user = username ? username : "";
  std::string_view pass = password ? password : "";
  if (username != nullptr && user == server_.username) {
    if (password == nullptr || !secrets::equal_hashes(secrets::sha256_of(pass), server_.sha256)) {
      return bad_credentials();
    }
    Authenticated server;
    server.identity.kind = Kind::kServer;
    return server;
  }
  if (client_id == server_.client_id) {
    return unauthenticated("client id '" + std::string(client_id) + "' is reserved for gatehouse");
  }
  if (!ready_) return unavailable("gatehouse has not synchronised the broker yet");
  if (username == nullptr) {
    if (password != nullptr) return bad_credentials();
    if (anonymous_ == Anonymous::kOff) return unauthenticated("anonymous access is off");
    if (anonymous_ == Anonymous::kLocal && !local) {
      return unauthenticated("anonymous access only from this machine; give credentials");
    }
    return Authenticated{};
  }
  if (password == nullptr || !is_valid_id(user)) return bad_credentials();
  Authenticated who;
  who.identity.name = std::string(user);
  if (auto key = split_key(pass)) {
    const std::string* stored = find(live_.keys, key->first);
    who.secret_sha256 = secrets::sha256_of(key->second);
    if (stored == nullptr || !secrets::equal_hashes(who.secret_sha256, *stored))
      return bad_credentials();
    if (find(live_.doors, user) != nullptr) {
      return unauthenticated("door '" + std::string(user) + "' has a credential already");
    }
    who.identity.kind = Kind::kProvisioner;
    who.identity.key = std::string(key->first);
    return who;
  }
  who.secret_sha256 = secrets::sha256_of(pass);
  if (const std::string* door = find(live_.doors, user);
      door != nullptr && secrets::equal_hashes(who.secret_sha256, *door)) {
    who.identity.kind = Kind::kDoor;
    return who;
  }
  if (const std::string* token = find(live_.tokens, user);
      token != nullptr && secrets::equal_hashes(who.secret_sha256, *token)) {
    who.identity.kind = Kind::kToken;
    return who;
  }
  if (auto it = live_.sessions.find(user); it != live_.sessions.end()) {
    auto session = it->second.find(who.secret_sha256);
    if (session != it->second.end() && session->second > now_ms) {
      who.identity.kind = Kind::kUser;
      return who;
    }
  }
  return bad_credentials();
}

bool IdentityTable::still_valid(const Authenticated& who, int64_t now_ms) const {
  const auto& id = who.identity;
  switch (id.kind) {
    case Kind::kServer:
    case Kind::kAnonymous:
      return true;
    case Kind::kDoor: {
      const std::string* door = find(live_.doors, id.name);
      return door != nullptr && secrets::equal_hashes(who.secret_sha256, *door);
    }
    case Kind::kToken: {
      const std::string* token = find(live_.tokens, id.name);
      return token != nullptr && secrets::equal_hashes(who.secret_sha256, *token);
    }
    case Kind::kProvisioner: {
      // Not ended when its door gets a credential: gatehouse records the credential (and so
      // tells this table) before it publishes the reply carrying the secret, which this
      // connection must still read. It can do nothing else (its topics are its own), and a
      // new provisioning connection for that door is refused by authenticate().
      const std::string* key = find(live_.keys, id.key);
      return key != nullptr && secrets::equal_hashes(who.secret_sha256, *key);
    }
    case Kind::kUser: {
      auto it = live_.sessions.find(id.name);
      if (it == live_.sessions.end()) return false;
      auto session = it->second.find(who.secret_sha256);
      return session != it->second.end() && session->second > now_ms;
    }
  }
  return false;
}

void IdentityTable::apply_to(Tables& tables, std::string_view kind, const std::string& name,
                             const std::string& sha256, int64_t expires_at_ms, bool remove) {
  if (kind == "session") {
    auto& sessions = tables.sessions[name];
    if (!remove) {
      sessions[sha256] = expires_at_ms;
    } else if (sha256.empty()) {
      sessions.clear();
    } else {
      sessions.erase(sha256);
    }
    if (sessions.empty()) tables.sessions.erase(name);
    return;
  }
  auto& table = kind == "door" ? tables.doors : kind == "token" ? tables.tokens : tables.keys;
  if (remove) {
    table.erase(name);
  } else {
    table[name] = sha256;
  }
}

Status IdentityTable::apply(std::string_view text, Applied* applied) {
  *applied = Applied{};
  json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!message.is_object() || !message.contains("op") || !message["op"].is_string()) {
    return invalid_argument("a control message is a JSON object with a string op");
  }
  const auto op = message["op"].get<std::string>();
  applied->op = op;
  if (op == "begin") {
    staging_.emplace();
    return Status::ok();
  }
  if (op == "commit") {
    if (!staging_) return failed_precondition("commit without begin");
    live_ = std::move(*staging_);
    staging_.reset();
    ready_ = true;
    applied->changed = true;
    applied->ends = Applied::Ends::kAll;
    return Status::ok();
  }
  auto kind_it = message.find("kind");
  if (kind_it == message.end() || !kind_it->is_string()) return invalid_argument("kind missing");
  const auto kind = kind_it->get<std::string>();
  if (kind != "door" && kind != "token" && kind != "key" && kind != "session") {
    return invalid_argument("unknown kind '" + kind + "'");
  }
  if (op == "stage") {
    if (!staging_) return failed_precondition("stage without begin");
    auto entries = message.find("entries");
    if (entries == message.end() || !entries->is_array()) return invalid_argument("no entries");
    // All or nothing: every entry is checked before the first goes in (no copy of a staging
    // table that a large sync grows message by message).
    struct Entry {
      std::string name, sha256;
      int64_t expires_at_ms;
    };
    std::vector<Entry> parsed;
    parsed.reserve(entries->size());
    for (const auto& entry : *entries) {
      if (!entry.is_array() || entry.size() < 2 || !entry[0].is_string()) {
        return invalid_argument("an entry is [name, sha256(, expires_at_ms)]");
      }
      auto name = entry[0].get<std::string>();
      if (!is_valid_id(name)) return invalid_argument("bad name '" + name + "'");
      auto hash = hash_from_hex(entry[1]);
      if (!hash) return hash.status();
      int64_t expires =
          entry.size() > 2 && entry[2].is_number_integer() ? entry[2].get<int64_t>() : INT64_MAX;
      parsed.push_back({std::move(name), std::move(*hash), expires});
    }
    for (const auto& e : parsed)
      apply_to(*staging_, kind, e.name, e.sha256, e.expires_at_ms, false);
    return Status::ok();
  }
  if (op != "set" && op != "remove") return invalid_argument("unknown op '" + op + "'");
  auto name_it = message.find("name");
  if (name_it == message.end() || !name_it->is_string()) return invalid_argument("name missing");
  const auto name = name_it->get<std::string>();
  if (!is_valid_id(name)) return invalid_argument("bad name '" + name + "'");
  std::string hash;
  if (auto h = message.find("sha256"); h != message.end()) {
    auto parsed = hash_from_hex(*h);
    if (!parsed) return parsed.status();
    hash = std::move(*parsed);
  } else if (op == "set") {
    return invalid_argument("set needs sha256");
  }
  int64_t expires = INT64_MAX;
  if (auto e = message.find("expires_at_ms"); e != message.end() && e->is_number_integer()) {
    expires = e->get<int64_t>();
  }
  const bool remove = op == "remove";
  // A change during a full sync lands in both: the sync's snapshot may predate it.
  if (staging_) apply_to(*staging_, kind, name, hash, expires, remove);
  apply_to(live_, kind, name, hash, expires, remove);
  applied->changed = true;
  if (kind == "key") {
    applied->ends = Applied::Ends::kAll;  // provisioners go by their door's name, not the key's
  } else if (!(kind == "session" && !remove)) {
    applied->ends = Applied::Ends::kName;  // a new session ends nobody's connection
    applied->name = name;
  }
  return Status::ok();
}

size_t IdentityTable::size(std::string_view kind) const {
  if (kind == "door") return live_.doors.size();
  if (kind == "token") return live_.tokens.size();
  if (kind == "key") return live_.keys.size();
  if (kind == "session") {
    size_t n = 0;
    for (const auto& [user, sessions] : live_.sessions) n += sessions.size();
    return n;
  }
  return 0;
}

}  // namespace gh::broker
