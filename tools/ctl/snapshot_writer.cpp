#include "tools/ctl/snapshot_writer.h"

#include "events/keys.h"
#include "tools/ctl/replay.h"

namespace gh::ctl {

Result<SnapshotRun> snapshot_streams(const Journal& journal, SnapshotStore& store,
                                     const std::vector<std::string>& streams, int64_t now_ms,
                                     std::ostream* progress) {
  SnapshotRun run;
  for (const auto& stream : streams) {
    if (model_kind(stream) == ModelKind::kNone) {
      run.skipped.push_back(stream);
      continue;
    }
    // A full replay rather than snapshot + tail: this is the operator's way to replace a
    // doubtful snapshot, so it must not build on one.
    auto replayed = replay_snapshot(journal, stream, now_ms);
    if (!replayed && replayed.status().code() == Code::kNotFound) {
      run.skipped.push_back(stream);
      continue;
    }
    if (!replayed) return replayed.status();
    GH_RETURN_IF_ERROR(store.write(replayed->snapshot));
    ++run.written;
    if (progress && run.written % 1000 == 0)
      *progress << "snapshot: " << run.written << " streams written\n" << std::flush;
  }
  return run;
}

Status replace_snapshots(const Journal& journal, SnapshotStore& store, Database& database,
                         const std::string& stream, int64_t now_ms) {
  auto replayed = replay_snapshot(journal, stream, now_ms);
  if (!replayed) return replayed.status();
  GH_RETURN_IF_ERROR(store.write(replayed->snapshot));
  auto listing = store.list(stream);
  if (!listing) return listing.status();
  rocksdb::WriteBatch batch;
  auto drop = [&](uint64_t version) {
    if (version != replayed->snapshot.version())
      batch.Delete(database.snapshots(), keys::versioned(stream, version));
  };
  for (const auto& s : listing->valid) drop(s.version());
  for (const auto& s : listing->corrupt) drop(s.version);
  if (batch.Count() == 0) return Status::ok();
  rocksdb::WriteOptions options;
  options.sync = true;
  return from_rocksdb(database.db()->Write(options, &batch), "deleting snapshots of " + stream);
}

}  // namespace gh::ctl
