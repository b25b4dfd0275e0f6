#include "adapters/http/connection_limits.h"

#include <algorithm>

namespace gh::http {

ConnectionLimits::ConnectionLimits(size_t max_total, size_t max_per_source)
    : max_total_(std::max<size_t>(1, max_total)),
      max_per_source_(std::max<size_t>(1, max_per_source)) {}

ConnectionLimits::Admit ConnectionLimits::acquire(const std::string& source) {
  std::lock_guard lock(mutex_);
  if (open_ >= max_total_) return Admit::kTotalFull;
  size_t& mine = per_source_[source];
  if (mine >= max_per_source_) return Admit::kSourceFull;
  ++mine;
  ++open_;
  return Admit::kOk;
}

void ConnectionLimits::release(const std::string& source) {
  std::lock_guard lock(mutex_);
  auto it = per_source_.find(source);
  if (it == per_source_.end() || it->second == 0) return;
  // Erased at zero: the map holds only sources with open connections.
  if (--it->second == 0) per_source_.erase(it);
  --open_;
}

size_t ConnectionLimits::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace gh::http
