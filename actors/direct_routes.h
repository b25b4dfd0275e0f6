// DirectRoutes: the callers' way to a directory's entities without the directory's hop. The
// directory (actors/directory.h) runs detached, on a thread of its own, so every call routed
// through it costs a thread wake-up and a forward; once an entity's actor is live and the
// directory holds nothing for it, a call can go straight to the actor.
//
// The contract, which keeps the directory's promises (order per id, nothing sent to an actor
// after its stop):
// - send() goes to the actor directly only when the directory has published it live and
//   has no Route of that id still queued (one sent by send() and not yet processed);
//   otherwise it sends a Route through the directory, as before. A call sent directly can
//   therefore never overtake one of the same id still in the directory.
// - The directory publishes an actor (routed()) only after it has forwarded a Route to it,
//   and takes it back (withdraw()) before it sends the actor stop_atom or as soon as the
//   actor is down. Direct sends happen under the same lock, so each is in the actor's
//   mailbox before its stop_atom.
// - An actor that ends on its own (a failed append) may get direct calls until the
//   directory has seen it down: CAF drops them and their answer_once() guard answers
//   kUnavailable, as for calls the directory had forwarded to it.
// - Direct calls bypass the directory's last-use bookkeeping; it asks took_use() before it
//   passivates an entity for being idle or least recently used.
//
// Every Route for a directory with DirectRoutes must be sent through send().
// Thread-safety: all members are safe from any thread.
#pragma once

#include <caf/all.hpp>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gh {

class DirectRoutes {
 public:
  // Sends `payload` for entity `id`: to its live actor, or as a Route through `directory`.
  void send(const caf::actor& directory, const std::string& id, caf::message payload);
  // Sends the directory evict_atom for `id`; calls sent after this go through the directory
  // too, so none can reach the evicted actor ahead of the eviction.
  void evict(const caf::actor& directory, const std::string& id);

  // ---- the directory's side ----
  // A Route (or an evict() of this class) for `id` was processed; `live` is the actor it was
  // forwarded to (null when it was held back, dropped or an eviction): from now on calls may
  // go to it directly.
  void routed(const std::string& id, const caf::actor* live);
  // Calls for `id` go through the directory again (before stop_atom, or after a down).
  void withdraw(const std::string& id);
  // Whether a call went directly to `id`'s actor since the last ask; clears the mark.
  bool took_use(const std::string& id);

  size_t known() const;  // entries held (live actors published or Routes queued), for tests

 private:
  struct Known {
    caf::actor actor;         // published by the directory; null: use the directory
    size_t in_directory = 0;  // Routes sent and not yet processed by the directory
    bool used = false;        // a direct call since took_use()
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Known> known_;
};

}  // namespace gh
