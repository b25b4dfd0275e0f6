#include "actors/direct_routes.h"

#include "actors/directory.h"

namespace gh {

void DirectRoutes::send(const caf::actor& directory, const std::string& id, caf::message payload) {
  // A message CAF drops (its actor already gone) is destroyed at once, and with it the
  // call's answer_once() guard, which answers the caller, who may call send() again: keep
  // a reference so that can only happen after the lock is released.
  caf::message keep = payload;
  {
    std::lock_guard lock(mutex_);
    auto& entry = known_[id];
    if (entry.actor && entry.in_directory == 0) {
      entry.used = true;
      caf::anon_send(entry.actor, std::move(payload));
    } else {
      ++entry.in_directory;
      caf::anon_send(directory, Route{id, std::move(payload)});
    }
  }
}

void DirectRoutes::evict(const caf::actor& directory, const std::string& id) {
  std::lock_guard lock(mutex_);
  // Counted like a Route: until the directory has processed it, calls go through it too.
  auto& entry = known_[id];
  entry.actor = nullptr;
  ++entry.in_directory;
  caf::anon_send(directory, evict_atom::value, id);
}

void DirectRoutes::routed(const std::string& id, const caf::actor* live) {
  std::lock_guard lock(mutex_);
  auto it = known_.find(id);
  if (it == known_.end()) return;  // a Route not sent by send(): nothing to publish
  auto& entry = it->second;
  if (entry.in_directory > 0) --entry.in_directory;
  if (live != nullptr)
    entry.actor = *live;
  else
    entry.actor = nullptr;
  if (!entry.actor && entry.in_directory == 0) known_.erase(it);
}

void DirectRoutes::withdraw(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = known_.find(id);
  if (it == known_.end()) return;
  it->second.actor = nullptr;
  if (it->second.in_directory == 0) known_.erase(it);
}

bool DirectRoutes::took_use(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = known_.find(id);
  if (it == known_.end() || !it->second.used) return false;
  it->second.used = false;
  return true;
}

size_t DirectRoutes::known() const {
  std::lock_guard lock(mutex_);
  return known_.size();
}

}  // namespace gh
