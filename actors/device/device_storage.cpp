#include "actors/device/device_storage.h"

#include "actors/device/device_snapshot.h"
#include "events/log.h"
#include "events/stream_name.h"
#include "snapshots/recover.h"

namespace gh::device {

Result<std::vector<std::string>> listed_devices(const Journal& journal, const std::string& after,
                                                size_t limit) {
  std::vector<std::string> ids;
  Status failure = Status::ok();
  auto status = journal.list_streams("device/", [&](const std::string& stream, uint64_t version) {
    auto id = stream.substr(7);
    if (!after.empty() && id <= after) return true;
    auto last = journal.read_stream(stream, version, 1);
    if (!last) {
      failure = last.status();
      return false;
    }
    if (!last->empty() && last->back().has_device_removed()) return true;
    ids.push_back(std::move(id));
    return ids.size() < limit;
  });
  if (!failure.is_ok()) return failure;
  if (!status.is_ok()) return status;
  return ids;
}

DeviceStorage replay_only_storage(const Journal& journal) {
  DeviceStorage storage;
  storage.load = [&journal](const std::string& id) -> Result<State> {
    auto events = journal.read_stream(device_stream(id), 1);
    if (!events) return events.status();
    return replay(id, *events);
  };
  storage.save_snapshot = [](const State&) {};
  return storage;
}

DeviceStorage snapshot_storage(const Journal& journal, SnapshotStore& store,
                               std::function<int64_t()> clock) {
  DeviceStorage storage;
  storage.load = [&journal, &store](const std::string& id) -> Result<State> {
    auto recovered = recover<State>(
        journal, store, device_stream(id),
        [&id](const snapshots::Snapshot& s) -> std::optional<State> {
          auto state = from_snapshot(s);
          if (state && state->id != id) return std::nullopt;
          return state;
        },
        [](State& state, const Envelope& e) { apply(state, e); },
        [&id] {
          State state;
          state.id = id;
          return state;
        });
    if (!recovered) return recovered.status();
    // A skipped snapshot is a cache miss, not an error, but it can be the first sign of
    // damage ("beyond the log's last version": events were lost). Operators must see it.
    for (const auto& why : recovered->skipped)
      log::warning("devices", "snapshot skipped", {{"stream", device_stream(id)}, {"why", why}});
    return std::move(recovered->state);
  };
  storage.save_snapshot = [&store, clock = std::move(clock)](const State& state) {
    // A failed snapshot only makes the next recovery longer: snapshots are a cache.
    (void)store.write(to_snapshot(state, clock()));
  };
  return storage;
}

}  // namespace gh::device
