#include "tools/ctl/snapshot_writer.h"

#include "actors/device/device_model.h"
#include "actors/device/device_snapshot.h"

namespace gh::ctl {

Result<SnapshotRun> snapshot_streams(const Journal& journal, SnapshotStore& store,
                                     const std::vector<std::string>& streams, int64_t now_ms,
                                     std::ostream* progress) {
  SnapshotRun run;
  for (const auto& stream : streams) {
    if (!stream.starts_with("device/")) {
      run.skipped.push_back(stream);
      continue;
    }
    // A full replay rather than snapshot + tail: this is the operator's way to replace a
    // doubtful snapshot, so it must not build on one.
    auto events = journal.read_stream(stream, 1);
    if (!events) return events.status();
    if (events->empty()) {
      run.skipped.push_back(stream);
      continue;
    }
    auto state = device::replay(std::string_view(stream).substr(7), *events);
    GH_RETURN_IF_ERROR(store.write(device::to_snapshot(state, now_ms)));
    ++run.written;
    if (progress && run.written % 1000 == 0)
      *progress << "snapshot: " << run.written << " streams written\n" << std::flush;
  }
  return run;
}

}  // namespace gh::ctl
