// Follows the shared log by position (cluster mode, docs/cluster.md "What each node keeps in
// memory"): from a starting position it reads every newer event of the subscribed streams
// (Journal::read_all_with_prefix with the subscribers' common prefix, which PostgreSQL
// filters by an index) and hands those whose stream starts with a subscribed prefix to the
// subscribers, each event once, in position order. On PostgreSQL positions are gapless and
// committed in order (events/pg_journal.h), so reading "after the last position seen" never skips
// an event that commits later. Other nodes' writes reach this node's memory this way; its own
// writes are delivered too (subscribers skip what they already hold, by version).
//
// A failed read (the database unreachable) leaves the position at the last event delivered;
// the next poll continues from there.
//
// Thread-safety: subscribe() before poll() or start(); poll() may be called from any thread
// and is serialised with the follower's own thread; subscribers are called on the thread that
// polls, one event at a time, and must not call poll().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "events/journal.h"

namespace gh {

struct LogFollowerOptions {
  std::chrono::milliseconds interval{500};  // between two polls of start()'s thread
};

class LogFollower {
 public:
  using Subscriber = std::function<void(const Envelope&)>;

  // Follows `journal` (which must outlive the follower) from the event after
  // `after_position`: take journal.last_position() before reading the state that the
  // subscribers will keep up to date, so that nothing written meanwhile is missed.
  LogFollower(const Journal& journal, uint64_t after_position, LogFollowerOptions options = {});
  ~LogFollower();  // stop()
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Events of streams starting with `prefix` go to `subscriber`.
  void subscribe(std::string prefix, Subscriber subscriber);

  // Reads what was written since the last event delivered and delivers it. The journal's
  // error when a read fails (what was read before it is delivered).
  Status poll();

  // poll() every options.interval on a thread of its own until stop(); a failure is logged
  // (once until the next success) and retried at the next interval.
  void start();
  void stop();

  // The position of the last event read (delivered or of no subscriber's interest).
  uint64_t position() const;

 private:
  void run();
  // The longest prefix every subscriber's prefix starts with ("" when none).
  std::string common_prefix() const;

  const Journal& journal_;
  const LogFollowerOptions options_;
  std::vector<std::pair<std::string, Subscriber>> subscribers_;
  mutable std::mutex poll_mu_;  // one poll at a time; guards position_
  uint64_t position_;
  std::mutex stop_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gh
