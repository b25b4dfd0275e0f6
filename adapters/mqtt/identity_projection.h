// The identities the broker must know, as a projection of the event log: folded from the
// streams that hold them at start (load_identities) and from each event once it is durable
// (the journal's observer), with the entities' own pure `apply` (user sessions from user/NAME
// streams, API tokens from system/tokens, door credentials from system/door-credentials,
// provisioning keys from system/provisioning-keys). Each fold says what changed, for BrokerSync to
// pass on.
//
// Thread-compatible: the owner serialises calls (BrokerSync's source and the journal's writer
// thread share one lock in the App).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "actors/system/door_credential_model.h"
#include "actors/system/provisioning_key_model.h"
#include "actors/system/token_model.h"
#include "actors/user/user_model.h"
#include "adapters/mqtt/broker_sync.h"
#include "events/event.pb.h"
#include "events/journal.h"

namespace gh::mqtt_adapter {

// One change of the broker's table: set (or replace) an identity, or remove it.
struct IdentityChange {
  std::string kind;  // "door", "token", "key", "session"
  std::string name;
  std::string sha256;  // raw; for a session removal, empty means all of the user's
  int64_t expires_at_ms = INT64_MAX;
  bool remove = false;
};

class IdentityProjection {
 public:
  // Tokens configured outside the log (auth.tokens), as (name, sha256 raw).
  explicit IdentityProjection(std::vector<std::pair<std::string, std::string>> fixed_tokens = {});

  // Folds one stored event; returns the changes it makes (often none).
  std::vector<IdentityChange> apply(const events::Envelope& event);

  // Everything the broker should accept at `now_ms` (expired sessions left out).
  BrokerIdentities all(int64_t now_ms) const;

 private:
  std::vector<std::pair<std::string, std::string>> fixed_tokens_;
  tokens::State tokens_;
  door_credentials::State doors_;
  provisioning_keys::State keys_;
  std::map<std::string, user::State> users_;  // only users with sessions are kept
};

// Folds into `projection` the streams that hold identities: system/tokens,
// system/door-credentials, system/provisioning-keys and every user/ stream (not the devices'
// and rooms' events, by far the bulk of the log). The journal's errors (kDataLoss naming the
// stream) are returned.
Status load_identities(const Journal& journal, IdentityProjection& projection);

}  // namespace gh::mqtt_adapter
