// Counts HTTP requests per route and outcome for /metrics: the route is its pattern
// ("POST /devices/{id}/lock"), the outcome "ok" or a Status code name ("not_found").
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace gh::http {

class RequestCounters {
 public:
  using Key = std::pair<std::string, std::string>;  // route, outcome

  void count(std::string_view route, std::string_view outcome);
  // A copy of every counter, sorted by route then outcome.
  std::map<Key, uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<Key, uint64_t, std::less<>> counts_;
};

}  // namespace gh::http
