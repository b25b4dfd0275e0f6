// When to take a snapshot: every N events of a stream (N configurable, 0 = never), plus on
// demand (gatehousectl snapshot). Pure; thread-safe (immutable after construction).
#pragma once

#include <cstdint>

namespace gh {

class SnapshotPolicy {
 public:
  // `every_events` = 0 disables automatic snapshots.
  constexpr explicit SnapshotPolicy(uint64_t every_events = 100) : every_(every_events) {}

  // True when a stream now at `version`, whose newest snapshot is at `snapshot_version`
  // (0: none), has had at least N events since: an append of several events that jumps
  // over a multiple of N still triggers, and a missed snapshot is retried on the next event.
  constexpr bool due(uint64_t snapshot_version, uint64_t version) const {
    return every_ != 0 && version > snapshot_version && version - snapshot_version >= every_;
  }

  constexpr uint64_t every_events() const { return every_; }

 private:
  uint64_t every_;
};

}  // namespace gh
