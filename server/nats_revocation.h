// cluster.broker=nats: what a node does so that NATS refuses a revoked, rotated or removed
// door's earlier JWTs without an operator (docs/cluster.md, "Revocation on NATS").
// It folds every event of system/door-credentials (this node's own once durable, others'
// through the log follower, each once, in version order: App's project()) into
// nats_revocations::State; the iat of a door's JWT is read from it; and, when configured
// (cluster.nats-url and its two files), each change wakes the push of the account JWT
// (nats_client::RevocationPush), which never blocks the caller.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/system/nats_nkey.h"
#include "actors/system/nats_revocations.h"
#include "adapters/nats/revocation_push.h"
#include "events/event.pb.h"
#include "events/journal.h"
#include "events/status.h"
#include "server/config.h"

namespace gh::server {

class NatsRevocation {
 public:
  // The push's keys from config's files (0600, checked), or nothing to push when the options
  // are not given. kInvalidArgument naming the option whose file is wrong.
  static Result<std::unique_ptr<NatsRevocation>> open(const Config& config,
                                                      const nkeys::KeyPair& account);

  // Folds system/door-credentials as the log holds it now: before any apply().
  Status replay(Journal& journal);
  // One durable event (others are ignored); wakes the push when a door's credential ended.
  void apply(const events::Envelope& event);
  // The iat of door `device_id`'s JWT (nats_revocations::jwt_issued_at).
  int64_t jwt_issued_at(const std::string& device_id, int64_t now_s) const;
  // Starts the push's thread (a first round at once: what this node's log holds).
  void start();
  bool pushes() const { return push_ != nullptr; }
  std::vector<std::pair<std::string, double>> metrics() const;

 private:
  explicit NatsRevocation(nkeys::KeyPair account) : account_(std::move(account)) {}

  nkeys::KeyPair account_;
  mutable std::mutex mu_;
  nats_revocations::State state_;
  std::map<std::string, std::string> users_;  // door id -> its NATS user (public), once revoked
  std::unique_ptr<nats_client::RevocationPush> push_;  // null: not configured
};

}  // namespace gh::server
