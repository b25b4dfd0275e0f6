// How device state is rebuilt and cached: snapshot + tail from the journal, and snapshot
// writes. Both functions block (RocksDB I/O); DeviceSystem runs them on its blocking pool.
// Thread-safety: the returned functions are safe from any thread.
#pragma once

#include <functional>
#include <string>

#include "actors/device/device_model.h"
#include "events/journal.h"
#include "snapshots/snapshot_store.h"

namespace gh::device {

struct DeviceStorage {
  // The state of device `id`; kDataLoss (naming stream and version) when it cannot be
  // rebuilt, in which case the device is refused rather than served wrong.
  std::function<Result<State>(const std::string& id)> load;
  std::function<void(const State& state)> save_snapshot;
};

// Rebuilds by replaying the whole stream; writes no snapshots.
DeviceStorage replay_only_storage(const Journal& journal);

// Latest usable snapshot + tail (corrupt snapshots fall back to older ones or a full
// replay); snapshots written to `store`. `clock` gives unix ms for the snapshot's stamp.
DeviceStorage snapshot_storage(const Journal& journal, SnapshotStore& store,
                               std::function<int64_t()> clock);

// Registered device ids after `after` (exclusive), ascending, at most `limit`: every device/
// stream whose last event is not a DeviceRemoved (a removed door keeps its log but leaves the
// listings; registering it again puts it back). One read of the last event per stream.
Result<std::vector<std::string>> listed_devices(const Journal& journal, const std::string& after,
                                                size_t limit);

}  // namespace gh::device
