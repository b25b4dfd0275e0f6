// RevocationPush: keeps gatehouse's account JWT at NATS carrying every door revocation the log
// asks for (docs/cluster.md, "Revocation on NATS"). Its thread, woken by changed() (a door's
// credential was revoked or rotated, or the door removed, once durable) and at start, makes
// one nats_client::update_account() (actors/system/nats_account_update.h) with wanted(): the
// account JWT NATS holds, re-signed with the revocations it lacks and pushed to NATS' `full`
// resolver, which passes it to the other NATS nodes and closes the revoked users' connections.
// Any node may push: each one's wanted() is folded from the shared log, and a push merges what
// NATS holds, so pushes of several nodes converge (one that lost a race finds its entries
// missing at its next round and pushes again).
// A failed round (NATS down, refused, timed out) is counted and logged and tried again after
// `retry`, doubling up to `max_retry`, until it lands; nothing waits for it (changed() never
// blocks: an HTTP answer does not wait for NATS). A round runs every `recheck` anyway.
// Thread-safe; the destructor stops the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/system/nats_connection.h"

namespace gh::nats_client {

struct RevocationPushOptions {
  std::vector<std::string> urls;                               // NATS client URLs, tried in order
  Credentials system_user;                                     // a user of NATS' system account
  nkeys::KeyPair signing_key{nkeys::Kind::kOperator, {}, {}};  // an operator signing key
  std::string account;                                         // gatehouse's account (A...)
  std::chrono::milliseconds timeout{2000};                     // per connection and request
  std::chrono::milliseconds retry{250};
  std::chrono::milliseconds max_retry{30000};
  // A round this often anyway: a NATS node that lost the pushed JWT (restored from a backup,
  // a new node) gets it again.
  std::chrono::milliseconds recheck{60000};
  // NATS user public key -> revocation time (Unix seconds): what the log asks for now.
  std::function<std::map<std::string, int64_t>()> wanted;
  std::function<int64_t()> now_s;
};

class RevocationPush {
 public:
  explicit RevocationPush(RevocationPushOptions options);
  ~RevocationPush();
  RevocationPush(const RevocationPush&) = delete;
  RevocationPush& operator=(const RevocationPush&) = delete;

  // Starts the thread, which makes a first round at once.
  void start();
  // Something wanted() returns changed: a round soon. Never blocks.
  void changed();
  // One round on the caller's thread (the thread's body; for tests and gatehousectl): true
  // when it pushed, false when NATS held all of it already.
  Result<bool> round();

  // gatehouse_nats_revocation_pushes_total, _failures_total, _pending (1 while a change has
  // not landed).
  std::vector<std::pair<std::string, double>> metrics() const;

 private:
  void run();
  Result<NatsConnection*> connection();

  RevocationPushOptions options_;
  std::unique_ptr<NatsConnection> connection_;  // the thread's (or round()'s caller's)
  std::mutex mu_;
  std::condition_variable wake_;
  bool dirty_ = true;
  bool stop_ = false;
  std::atomic<uint64_t> pushes_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<bool> pending_{true};
  std::thread thread_;
};

}  // namespace gh::nats_client
