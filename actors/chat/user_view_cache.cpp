#include "actors/chat/user_view_cache.h"

namespace gh::chat {

std::optional<UserView> UserViewCache::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = views_.find(name);
  if (it == views_.end()) return std::nullopt;
  return it->second;
}

uint64_t UserViewCache::epoch() const {
  std::lock_guard lock(mu_);
  return epoch_;
}

void UserViewCache::keep(const std::string& name, const UserView& view, uint64_t read_at_epoch) {
  std::lock_guard lock(mu_);
  // A drop since the read began may be of this user: the read may predate it.
  if (read_at_epoch != epoch_) return;
  // Bounded without bookkeeping: a full cache starts over (the posters come back at once).
  if (views_.size() >= capacity_ && !views_.count(name)) views_.clear();
  views_[name] = view;
}

void UserViewCache::drop(const std::string& name) {
  std::lock_guard lock(mu_);
  ++epoch_;
  views_.erase(name);
}

void UserViewCache::clear() {
  std::lock_guard lock(mu_);
  ++epoch_;
  views_.clear();
}

}  // namespace gh::chat
