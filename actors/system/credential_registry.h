// CredentialRegistry: the live source of truth for the broker's door identities, over the
// streams "system/door-credentials" (door id -> SHA-256 of its secret) and
// "system/provisioning-keys" (key name -> SHA-256 of its secret part). It replays both at
// open(), decides with the pure models (door_credential_model.h, provisioning_key_model.h),
// appends durably, then updates its tables and tells its listeners. Not an actor: the HTTP
// routes, the MQTT provisioning handler and gatehousectl (store verbs) call it directly.
//
// Secrets are 128 random bits shown once as 32 lower-case hex characters (a provisioning key
// as "pk.<name>.<hex>"); only SHA-256 of the hex text is kept (actors/system/secret.h).
//
// Threads and blocking
// - The write methods (issue_door, revoke_door, create_provisioning_key,
//   revoke_provisioning_key) block their caller for one journal append (fsync): fine on HTTP
//   worker threads and in gatehousectl, never on paho's callback thread or a CAF scheduler
//   thread. Writes are serialised: each decides on the state left by the one before.
// - issue_door_async() queues the issue on the registry's own worker thread (at most
//   options.max_queue waiting) and returns at once; for the MQTT handler.
// - The read methods never block beyond a shared lock and are safe from any thread.
// - The destructor finishes the queued asynchronous work (answering each), then joins.
//
// Listener contract (CredentialListener)
// - Called after the change is durable in the journal, once per change, in log order, on the
//   thread that made the write (an HTTP worker, the registry's worker, gatehousectl's main
//   thread) while the registry's write lock is held: a listener must be quick, must not block
//   and must not call the registry's write methods (reads are fine).
// - sha256 is the 32 raw bytes of the new hash, or nullopt when the credential or key was
//   revoked. A rotation is reported as the door's new hash.
// - add_listener() may be called from any thread at any time: every change that becomes
//   durable after it returns is reported; every change before that is already visible to the
//   reads. So to mirror the tables (the broker plugin): add the listener, then read doors()
//   and provisioning_keys(); a change made meanwhile may show both in the read and in a call
//   (apply each as an upsert or removal, and the result is the same).
// - Listeners must outlive the registry, or stop being called: there is no remove.
//
// Several writers (cluster mode, docs/cluster.md "The system streams"): other nodes write
// the same streams. Each write is decided on the state held here and appended at its
// version; when another node wrote first (kConflict), the stream is read again from the log
// and the write decided again on it (up to kAttempts times; the last conflict is answered).
// follow() brings other nodes' events in (the log follower's subscriber), in version order,
// skipping what is held already; listeners hear of them as of this registry's own changes.
//
// Errors: kInvalidArgument (bad id or name), kNotFound (nothing to revoke), kAlreadyExists
// (a key name in use; a door that has a credential when asked for a new one only),
// kUnavailable (the async queue is full, or the registry is shutting down), kConflict (other
// writers kept writing first, kAttempts times), or the journal's failure (after which the
// registry reloads the stream from the log, the truth).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/system/door_credential_model.h"
#include "actors/system/provisioning_key_model.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::credentials {

// Called after a change is durable: nullopt = revoked. See the contract above.
struct CredentialListener {
  virtual ~CredentialListener() = default;
  virtual void on_door_credential(const std::string& id,
                                  const std::optional<std::string>& sha256) = 0;
  virtual void on_provisioning_key(const std::string& name,
                                   const std::optional<std::string>& sha256) = 0;
};

// What may be shown of a door's credential (never its hash).
struct DoorCredentialInfo {
  int64_t issued_at_ms = 0;
  events::Cause issued_by;
  uint64_t version = 0;  // of the issuing event in system/door-credentials
};

// What may be shown of a provisioning key (never its hash or secret).
struct ProvisioningKeyInfo {
  std::string name;
  int64_t created_at_ms = 0;
  events::Cause created_by;
};

struct CredentialRegistryOptions {
  size_t max_queue = 64;  // issue_door_async() calls waiting for the worker
};

using SecretCallback = std::function<void(Result<std::string>)>;

class CredentialRegistry {
 public:
  // Replays both streams from `journal` (which must outlive the registry) and starts the
  // worker. The journal's error (kDataLoss naming stream and version) when a stream cannot
  // be rebuilt.
  static Result<std::unique_ptr<CredentialRegistry>> open(Journal& journal,
                                                          CredentialRegistryOptions options = {});
  ~CredentialRegistry();
  CredentialRegistry(const CredentialRegistry&) = delete;
  CredentialRegistry& operator=(const CredentialRegistry&) = delete;

  void add_listener(CredentialListener* listener);

  // An event of system/door-credentials or system/provisioning-keys read from the shared log
  // (other streams are ignored): applied when it is the next version, skipped when held
  // already, the versions in between read from the journal first. Blocks while a write is in
  // progress; call from the log follower's thread, never from the journal's writer thread.
  void follow(const Envelope& e);

  // Writes decided again after a conflict, at most, before the conflict is answered.
  static constexpr int kAttempts = 5;

  // ---- writes (block for one durable append) ----
  // Issues door `device_id` a new secret and returns it (the only time it is shown): its
  // first, or with kNewOrRotate (the default) a rotation that replaces the old one. With
  // kNewOnly, kAlreadyExists when the door has a credential. Whether the device is
  // registered is the caller's business (the registry knows only credentials).
  Result<std::string> issue_door(
      const std::string& device_id, const events::Cause& cause,
      door_credentials::Issue mode = door_credentials::Issue::kNewOrRotate);
  // kNotFound when the door has no credential.
  Status revoke_door(const std::string& device_id, const events::Cause& cause);
  // Creates provisioning key `name` and returns its full text "pk.<name>.<hex>" (shown once).
  Result<std::string> create_provisioning_key(const std::string& name, const events::Cause& cause);
  // kNotFound when no active key has that name.
  Status revoke_provisioning_key(const std::string& name, const events::Cause& cause);

  // issue_door() on the registry's worker; `done` gets the secret or the error, once, on the
  // worker thread (or at once on the caller's thread with kUnavailable when the queue is
  // full or the registry is stopping). `done` must not block.
  void issue_door_async(const std::string& device_id, const events::Cause& cause,
                        door_credentials::Issue mode, SecretCallback done);

  // ---- reads (any thread, never block on I/O) ----
  // (device id, 32 raw bytes of SHA-256) of every door with a credential, by id.
  std::vector<std::pair<std::string, std::string>> doors() const;
  // (key name, 32 raw bytes of SHA-256 of its secret part) of every active key, by name.
  std::vector<std::pair<std::string, std::string>> provisioning_keys() const;
  bool has_door(const std::string& device_id) const;
  std::optional<DoorCredentialInfo> door(const std::string& device_id) const;
  // Every door with a credential and what may be shown of it, by id.
  std::vector<std::pair<std::string, DoorCredentialInfo>> door_list() const;
  // True when `secret` (the hex text) is door `device_id`'s current secret; constant time.
  bool door_secret_valid(const std::string& device_id, const std::string& secret) const;
  bool has_provisioning_key(const std::string& name) const;
  // Every active key, by name.
  std::vector<ProvisioningKeyInfo> provisioning_key_list() const;
  // True when key `name` is active and `secret` is its 32-hex secret part; constant time.
  bool provisioning_key_valid(const std::string& name, const std::string& secret) const;

 private:
  CredentialRegistry(Journal& journal, CredentialRegistryOptions options);
  // Appends `event` to `stream` at `expected`; the envelope as written.
  Result<Envelope> append(std::string_view stream, uint64_t expected, Envelope event,
                          const events::Cause& cause);
  // After a failed append: the log is the truth. Caller holds write_mu_.
  void reload(std::string_view stream);
  // Applies the versions of `stream` written since the one held, telling the listeners (a
  // reload when they do not follow on); false when the log cannot be read. Caller holds
  // write_mu_.
  bool catch_up(std::string_view stream);
  // The version of `stream` held (doors_ or keys_).
  uint64_t version_of(std::string_view stream) const;
  // Applies `e` if it is the next version of its stream and tells the listeners; false (and
  // nothing done) otherwise. Caller holds write_mu_.
  bool advance(const Envelope& e);
  // Appends what `decide` returns at the stream's version, deciding again after a conflict
  // (see the contract above); the envelope as written. Caller holds write_mu_.
  Result<Envelope> decide_and_append(std::string_view stream,
                                     const std::function<Result<Envelope>()>& decide,
                                     const events::Cause& cause);
  void work();

  Journal& journal_;
  const CredentialRegistryOptions options_;
  std::mutex write_mu_;  // one writer at a time; guards listeners_
  std::vector<CredentialListener*> listeners_;
  mutable std::shared_mutex state_mu_;
  door_credentials::State doors_;
  provisioning_keys::State keys_;
  std::mutex queue_mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last: started once the members above exist
};

}  // namespace gh::credentials
