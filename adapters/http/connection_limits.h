// How many client connections the HTTP server holds, in total and per source address, so
// that one client (or a few) cannot take every connection, thread and descriptor: a slot is
// taken when a connection is accepted and given back when it closes.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gh::http {

class ConnectionLimits {
 public:
  enum class Admit { kOk, kSourceFull, kTotalFull };

  // `max_total` and `max_per_source` >= 1.
  ConnectionLimits(size_t max_total, size_t max_per_source);

  // Takes a slot for a connection from `source` (a numeric address), or says which limit
  // refuses it (the total is checked first).
  Admit acquire(const std::string& source);
  // Gives back a slot taken by acquire(source).
  void release(const std::string& source);
  // Connections holding a slot now.
  size_t open() const;

 private:
  const size_t max_total_;
  const size_t max_per_source_;
  mutable std::mutex mutex_;
  size_t open_ = 0;
  std::unordered_map<std::string, size_t> per_source_;
};

}  // namespace gh::http
