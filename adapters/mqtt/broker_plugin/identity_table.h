// The credentials the broker plugin checks at CONNECT, as gatehouse pushed them over
// `$CONTROL/gatehouse/v1`: doors (device id -> SHA-256 of its secret), API tokens, provisioning
// keys and chat sessions; plus gatehouse's own credential from the plugin's options. Nothing
// here is a source of truth: gatehouse rebuilds the table from its event log after every
// (re)connect ("begin", "stage"..., "commit") and sends each change once it is durable ("set",
// "remove"). Until the first commit only gatehouse itself may connect.
//
// Control messages (JSON objects; hashes are 64 lower-case hex characters):
//   {"op":"begin"}                                   start a full sync (empty staging table)
//   {"op":"stage","kind":K,"entries":[[name,sha256],...]}      K: door, token, key
//   {"op":"stage","kind":"session","entries":[[user,sha256,expires_at_ms],...]}
//   {"op":"commit"}                                  staging becomes the table; ready
//   {"op":"set","kind":K,"name":N,"sha256":H[,"expires_at_ms":T]}   add or replace one
//   {"op":"remove","kind":K,"name":N[,"sha256":H]}   remove one (a session: one or all of N's)
//
// Secrets: a door, token or session secret is hashed as SHA-256 of the password text; a
// provisioning key is presented as the password `pk.<key name>.<secret>` and its secret part is
// hashed (actors/system/secret.h, the same hashing and constant-time comparison as the rest
// of gatehouse).
//
// Thread-compatible: mosquitto calls the plugin from its one main thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/mqtt/broker_plugin/access_rules.h"
#include "events/status.h"

namespace gh::broker {

struct ServerCredential {
  std::string username = "gatehouse";
  std::string sha256;  // 32 raw bytes: SHA-256 of the server's password
  std::string client_id = "gatehouse";
};

// An authenticated connection: who, and the hash of the secret it presented (to tell when a
// rotation or revocation ends it).
struct Authenticated {
  Identity identity;
  std::string secret_sha256;
};

// Who may connect without credentials: nobody, clients on this machine (a loopback address),
// or anyone.
enum class Anonymous { kOff, kLocal, kOn };

// What one control message did: its op, whether the table authenticate() uses changed, and
// which connections it may have ended (re-checking every connection on every login would cost
// the broker's one thread dearly).
struct Applied {
  enum class Ends { kNone, kName, kAll };
  std::string op;
  bool changed = false;
  Ends ends = Ends::kNone;
  std::string name;  // kName: connections authenticated under this name
};

class IdentityTable {
 public:
  IdentityTable(ServerCredential server, Anonymous anonymous);

  // Who connects with `username`/`password` (either may be null) and `client_id` at `now_ms`,
  // from a loopback address when `local`. kUnauthenticated for unknown or wrong credentials,
  // a password without a user name, an anonymous client that Anonymous does not let in, and
  // anyone but the server taking the
  // server's user name or client id; kUnavailable for everyone but the server before the
  // first sync has been committed.
  Result<Authenticated> authenticate(const char* username, const char* password,
                                     std::string_view client_id, int64_t now_ms,
                                     bool local = true) const;

  // Applies one control message. ok, or kInvalidArgument naming what is wrong (nothing
  // changes then); `applied` says what it did.
  Status apply(std::string_view json, Applied* applied);

  // False when `who` (authenticated earlier) would no longer be accepted: its credential was
  // rotated or revoked (for a provisioner: its key). A provisioner whose door got a
  // credential meanwhile stays: it has yet to read the reply that carries it.
  bool still_valid(const Authenticated& who, int64_t now_ms) const;

  bool ready() const { return ready_; }
  const ServerCredential& server() const { return server_; }
  size_t size(std::string_view kind) const;  // entries of "door", "token", "key", "session"

 private:
  struct Tables {
    std::map<std::string, std::string, std::less<>> doors, tokens, keys;          // name -> sha256
    std::map<std::string, std::map<std::string, int64_t>, std::less<>> sessions;  // user ->
  };
  // One entry into `tables`; `kind` and `name` were checked by the caller.
  static void apply_to(Tables& tables, std::string_view kind, const std::string& name,
                       const std::string& sha256, int64_t expires_at_ms, bool remove);

  ServerCredential server_;
  Anonymous anonymous_;
  bool ready_ = false;
  Tables live_;
  std::optional<Tables> staging_;
};

}  // namespace gh::broker
