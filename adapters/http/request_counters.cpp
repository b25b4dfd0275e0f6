#include "adapters/http/request_counters.h"

namespace gh::http {

void RequestCounters::count(std::string_view route, std::string_view outcome) {
  // A handful of routes times a dozen outcomes: a locked map is cheaper than the request.
  std::lock_guard lock(mutex_);
  ++counts_[Key(std::string(route), std::string(outcome))];
}

std::map<RequestCounters::Key, uint64_t> RequestCounters::snapshot() const {
  std::lock_guard lock(mutex_);
  return {counts_.begin(), counts_.end()};
}

}  // namespace gh::http
