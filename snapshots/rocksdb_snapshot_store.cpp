#include "snapshots/rocksdb_snapshot_store.h"

#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>

#include "events/keys.h"

namespace gh {
namespace {

std::string describe(std::string_view stream, uint64_t version) {
  return std::string(stream) + " snapshot " + std::to_string(version);
}

}  // namespace

Status RocksdbSnapshotStore::write(const snapshots::Snapshot& snapshot) {
  GH_RETURN_IF_ERROR(snapshot_rules::check_writable(snapshot));
  if (database_->read_only())
    return failed_precondition("the store is open read-only; stop the server to write");

  // Reading the existing versions and writing must not interleave with another write of the
  // same stream, or both could keep "their" two and leave three behind.
  std::lock_guard lock(write_mutex_);
  std::vector<uint64_t> existing;
  const auto prefix = keys::stream_prefix(snapshot.stream());
  {
    // Newest first, and only the kKept newest: every write deletes all but those, so no older
    // one is left, and walking forward from the prefix would step over the tombstone of every
    // snapshot this stream ever dropped (a busy room's thousands, in the memtable until
    // compaction: measured as a tenth of the CPU of posting into one room).
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db()->NewIterator(rocksdb::ReadOptions(), database_->snapshots()));
    // (Stopping before the Prev() past the last one wanted matters as much: a Prev() steps
    // over every tombstone below until it finds a live key.)
    for (it->SeekForPrev(keys::versioned(snapshot.stream(), UINT64_MAX));
         it->Valid() && it->key().starts_with(prefix); it->Prev()) {
      // Keys of this stream are always versioned; anything else is left alone for verify.
      if (auto parsed = keys::parse_versioned(it->key().ToStringView()))
        if (parsed->stream == snapshot.stream()) existing.push_back(parsed->version);
      if (existing.size() == kKept) break;
    }
    if (!it->status().ok())
      return from_rocksdb(it->status(), "listing snapshots of " + snapshot.stream());
  }
  const auto all = snapshot_rules::kept_versions(existing, snapshot.version());
  auto kept = [&](uint64_t v) { return std::find(all.begin(), all.end(), v) != all.end(); };

  rocksdb::WriteBatch batch;
  // A snapshot older than the kept ones (a late writer) is pruned at once: not written.
  if (kept(snapshot.version()))
    batch.Put(database_->snapshots(), keys::versioned(snapshot.stream(), snapshot.version()),
              snapshot.SerializeAsString());
  for (uint64_t v : existing)
    if (!kept(v)) batch.Delete(database_->snapshots(), keys::versioned(snapshot.stream(), v));
  if (batch.Count() == 0) return Status::ok();
  // No sync: a lost snapshot costs a longer replay, never correctness.
  return from_rocksdb(database_->db()->Write(rocksdb::WriteOptions(), &batch),
                      "writing " + describe(snapshot.stream(), snapshot.version()));
}

Result<SnapshotListing> RocksdbSnapshotStore::list(const std::string& stream) const {
  SnapshotListing listing;
  const auto prefix = keys::stream_prefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(
      database_->db()->NewIterator(rocksdb::ReadOptions(), database_->snapshots()));
  // Walk backwards from the stream's highest possible key: newest first without a sort.
  for (it->SeekForPrev(keys::versioned(stream, UINT64_MAX));
       it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    auto parsed = keys::parse_versioned(it->key().ToStringView());
    if (!parsed || parsed->stream != stream) {
      listing.corrupt.push_back({stream, 0, "malformed snapshot key"});
      continue;
    }
    snapshots::Snapshot snapshot;
    if (auto corrupt = snapshot_rules::decode_stored(stream, parsed->version,
                                                     it->value().ToStringView(), snapshot))
      listing.corrupt.push_back(std::move(*corrupt));
    else
      listing.valid.push_back(std::move(snapshot));
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading snapshots of " + stream);
  return listing;
}

Status RocksdbSnapshotStore::list_streams(
    const std::string& prefix,
    const std::function<bool(const std::string&, uint64_t)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(
      database_->db()->NewIterator(rocksdb::ReadOptions(), database_->snapshots()));
  it->Seek(prefix);
  while (it->Valid()) {
    auto parsed = keys::parse_versioned(it->key().ToStringView());
    if (!parsed) return data_loss("malformed key in the snapshots family");
    std::string stream(parsed->stream);
    if (stream.compare(0, prefix.size(), prefix) != 0) break;
    it->SeekForPrev(keys::versioned(stream, UINT64_MAX));
    if (!it->Valid()) break;
    auto last = keys::parse_versioned(it->key().ToStringView());
    if (!visit(stream, last ? last->version : 0)) return Status::ok();
    // The first key after every key of `stream`: stream '\0' is followed by 8 version bytes,
    // so stream '\1' sorts after all of them and before any longer stream name.
    std::string next(stream);
    next.push_back('\1');
    it->Seek(next);
  }
  return from_rocksdb(it->status(), "listing snapshot streams");
}

}  // namespace gh
