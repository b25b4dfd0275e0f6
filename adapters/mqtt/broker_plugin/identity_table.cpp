#include "adapters/mqtt/broker_plugin/identity_table.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "events/stream_name.h"

namespace gh::broker {
namespace {

using nlohmann::json;

constexpr std::string_view kKeyPrefix = "pk.";

bool same_hash(std::string_view a, std::string_view b) {
  return a.size() == crypto_hash_sha256_BYTES && b.size() == crypto_hash_sha256_BYTES &&
         sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

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

std::string sha256_of(std::string_view text) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return out;
}

IdentityTable::IdentityTable(ServerCredential server, Anonymous anonymous)
    : server_(std::move(server)), anonymous_(anonymous) {}

Result<Authenticated> IdentityTable::authenticate(const char* username, const char* password,
                                                  std::string_view client_id, int64_t now_ms,
                                                  bool local) const {
  std::string_view user = username ? username : "";
  std::string_view pass = password ? password : "";
  if (username != nullptr && user == server_.username) {
    if (password == nullptr || !same_hash(sha256_of(pass), server_.sha256)) {
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
    who.secret_sha256 = sha256_of(key->second);
    if (stored == nullptr || !same_hash(who.secret_sha256, *stored)) return bad_credentials();
    if (find(live_.doors, user) != nullptr) {
      return unauthenticated("door '" + std::string(user) + "' has a credential already");
    }
    who.identity.kind = Kind::kProvisioner;
    who.identity.key = std::string(key->first);
    return who;
  }
  who.secret_sha256 = sha256_of(pass);
  if (const std::string* door = find(live_.doors, user);
      door != nullptr && same_hash(who.secret_sha256, *door)) {
    who.identity.kind = Kind::kDoor;
    return who;
  }
  if (const std::string* token = find(live_.tokens, user);
      token != nullptr && same_hash(who.secret_sha256, *token)) {
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
      return door != nullptr && same_hash(who.secret_sha256, *door);
    }
    case Kind::kToken: {
      const std::string* token = find(live_.tokens, id.name);
      return token != nullptr && same_hash(who.secret_sha256, *token);
    }
    case Kind::kProvisioner: {
      const std::string* key = find(live_.keys, id.key);
      return key != nullptr && same_hash(who.secret_sha256, *key) &&
             find(live_.doors, id.name) == nullptr;
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

Status IdentityTable::apply_to(Tables& tables, std::string_view kind, const std::string& name,
                               const std::string& sha256, int64_t expires_at_ms, bool remove) {
  if (!is_valid_id(name)) return invalid_argument("bad name '" + name + "'");
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
    return Status::ok();
  }
  auto* table = kind == "door"    ? &tables.doors
                : kind == "token" ? &tables.tokens
                : kind == "key"   ? &tables.keys
                                  : nullptr;
  if (table == nullptr) return invalid_argument("unknown kind '" + std::string(kind) + "'");
  if (remove) {
    table->erase(name);
  } else {
    (*table)[name] = sha256;
  }
  return Status::ok();
}

Status IdentityTable::apply(std::string_view text, bool* live_changed, std::string* op_out) {
  *live_changed = false;
  json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!message.is_object() || !message.contains("op") || !message["op"].is_string()) {
    return invalid_argument("a control message is a JSON object with a string op");
  }
  const auto op = message["op"].get<std::string>();
  if (op_out != nullptr) *op_out = op;
  if (op == "begin") {
    staging_.emplace();
    return Status::ok();
  }
  if (op == "commit") {
    if (!staging_) return failed_precondition("commit without begin");
    live_ = std::move(*staging_);
    staging_.reset();
    ready_ = true;
    *live_changed = true;
    return Status::ok();
  }
  auto kind_it = message.find("kind");
  if (kind_it == message.end() || !kind_it->is_string()) return invalid_argument("kind missing");
  const auto kind = kind_it->get<std::string>();
  if (op == "stage") {
    if (!staging_) return failed_precondition("stage without begin");
    auto entries = message.find("entries");
    if (entries == message.end() || !entries->is_array()) return invalid_argument("no entries");
    Tables copy = *staging_;  // all or nothing
    for (const auto& entry : *entries) {
      if (!entry.is_array() || entry.size() < 2 || !entry[0].is_string()) {
        return invalid_argument("an entry is [name, sha256(, expires_at_ms)]");
      }
      auto hash = hash_from_hex(entry[1]);
      if (!hash) return hash.status();
      int64_t expires =
          entry.size() > 2 && entry[2].is_number_integer() ? entry[2].get<int64_t>() : INT64_MAX;
      GH_RETURN_IF_ERROR(
          apply_to(copy, kind, entry[0].get<std::string>(), *hash, expires, /*remove=*/false));
    }
    *staging_ = std::move(copy);
    return Status::ok();
  }
  if (op != "set" && op != "remove") return invalid_argument("unknown op '" + op + "'");
  auto name = message.find("name");
  if (name == message.end() || !name->is_string()) return invalid_argument("name missing");
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
  if (staging_) {
    GH_RETURN_IF_ERROR(apply_to(*staging_, kind, name->get<std::string>(), hash, expires, remove));
  }
  GH_RETURN_IF_ERROR(apply_to(live_, kind, name->get<std::string>(), hash, expires, remove));
  *live_changed = true;
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
