#include "events/rocksdb_journal.h"

#include <rocksdb/write_batch.h>

#include <chrono>
#include <future>

#include "events/clock.h"
#include "events/journal_support.h"
#include "events/keys.h"
#include "events/record_codec.h"
#include "events/stream_name.h"

namespace gh {
namespace {

using journal_support::bucket_of;
using journal_support::describe;
using records::decode_command_record;
using records::decode_event;
using records::encode_command_record;

}  // namespace

Result<AppendResult> Journal::append_and_wait(AppendRequest request) {
  std::promise<Result<AppendResult>> promise;
  auto future = promise.get_future();
  append(std::move(request),
         [&promise](Result<AppendResult> result) { promise.set_value(std::move(result)); });
  return future.get();
}

Result<uint64_t> Journal::read_all_with_prefix(
    uint64_t from_position, const std::string& prefix,
    const std::function<bool(const Envelope&)>& visit) const {
  if (!is_stream_prefix(prefix))
    return invalid_argument("not the start of a stream name: '" + prefix + "'");
  uint64_t read_up_to = from_position == 0 ? 0 : from_position - 1;
  auto status = read_all(from_position, [&](const Envelope& e) {
    read_up_to = e.position();
    return !e.stream().starts_with(prefix) || visit(e);
  });
  if (!status.is_ok()) return status;
  return read_up_to;
}

RocksdbJournal::RocksdbJournal(Database* database, JournalOptions options)
    : database_(database), options_(std::move(options)), group_(options_) {
  if (!options_.clock) options_.clock = unix_now_ms;
  last_position_ = read_last_position();
  if (!database_->read_only()) group_.start([this](auto& batch) { return write_batch(batch); });
}

RocksdbJournal::~RocksdbJournal() { shutdown(); }

void RocksdbJournal::shutdown() { group_.shutdown(); }

void RocksdbJournal::append(AppendRequest request, AppendCallback done) {
  if (database_->read_only()) {
    done(failed_precondition("the store is open read-only; stop the server to write"));
    return;
  }
  group_.submit(std::move(request), std::move(done));
}

Result<uint64_t> RocksdbJournal::current_version(
    const std::string& stream, const std::unordered_map<std::string, uint64_t>& in_batch) {
  if (auto it = in_batch.find(stream); it != in_batch.end()) return it->second;
  if (auto it = versions_.find(stream); it != versions_.end()) return it->second;
  auto version = stream_version(stream);
  if (!version) return version;
  if (versions_.size() >= options_.version_cache_entries) versions_.clear();
  versions_.emplace(stream, *version);
  return version;
}

BatchResult RocksdbJournal::write_batch(std::vector<QueuedAppend>& batch) {
  rocksdb::WriteBatch write;
  std::unordered_map<std::string, uint64_t> in_batch;      // stream -> version after batch
  std::unordered_map<std::string, AppendResult> commands;  // in-batch command records
  BatchResult out(batch.size());
  auto& outcomes = out.outcomes;
  uint64_t position = last_position_.load();
  const int64_t now = options_.clock();
  JournalStats& local = out.local;
  // The next position must be free. If the last position could not be read at open (a
  // damaged index block reads as "empty"), writing would overwrite the index of old events:
  // refuse every append instead. One point lookup per batch, next to an fsync.
  Status position_guard;
  {
    std::string ignored;
    auto probe = database_->db()->Get(rocksdb::ReadOptions(), database_->positions(),
                                      keys::be64(position + 1), &ignored);
    if (probe.ok())
      position_guard = data_loss("position " + std::to_string(position + 1) +
                                 " is already taken: the position index is ahead of the "
                                 "journal; run gatehousectl verify");
    else if (!probe.IsNotFound())
      position_guard = from_rocksdb(probe, "checking the position index");
  }

  for (size_t i = 0; i < batch.size(); ++i) {
    auto& request = batch[i].request;
    if (!position_guard.is_ok()) {
      outcomes[i] = position_guard;
      ++local.failures;
      continue;
    }
    std::string command_key;
    if (!request.command_id.empty()) {
      command_key = keys::command(request.stream, request.command_id);
      if (auto it = commands.find(command_key); it != commands.end()) {
        outcomes[i] = it->second;
        out.repeats_in_batch[i] = true;
        ++local.duplicates;
        continue;
      }
      auto previous = find_command(request.stream, request.command_id);
      if (previous) {
        outcomes[i] = *previous;
        ++local.duplicates;
        continue;
      }
      if (previous.status().code() != Code::kNotFound) {
        outcomes[i] = previous.status();
        continue;
      }
    }
    auto version = current_version(request.stream, in_batch);
    if (!version) {
      outcomes[i] = version.status();
      continue;
    }
    if (*version != request.expected_version) {
      outcomes[i] =
          journal_support::version_conflict(request.stream, *version, request.expected_version);
      ++local.conflicts;
      continue;
    }
    AppendResult result;
    result.first_version = *version + 1;
    result.last_version = *version;
    result.last_position = position;
    const int64_t time = request.time_unix_ms != 0 ? request.time_unix_ms : now;
    for (auto& envelope : request.events) {
      journal_support::stamp(envelope, request, ++result.last_version, ++position, time,
                             /*lease_epoch=*/0);
      auto key = keys::versioned(request.stream, envelope.version());
      write.Put(database_->events(), key, envelope.SerializeAsString());
      write.Put(database_->positions(), keys::be64(envelope.position()), key);
    }
    result.last_position = position;
    out.events_written += request.events.size();
    for (const auto& blob : request.blobs) write.Put(database_->blobs(), blob.key, blob.bytes);
    for (const auto& key : request.delete_blobs) write.Delete(database_->blobs(), key);
    if (!command_key.empty()) {
      write.Put(database_->commands(), command_key, encode_command_record(result));
      AppendResult repeat = result;
      repeat.duplicate = true;
      commands.emplace(command_key, repeat);
    }
    in_batch[request.stream] = result.last_version;
    outcomes[i] = std::move(result);
  }

  if (write.Count() > 0) {
    if (auto resumed = writable(); !resumed.is_ok()) {
      out.failure = resumed;
      versions_.clear();
      return out;
    }
    rocksdb::WriteOptions sync;
    sync.sync = options_.sync;
    const auto sync_started = std::chrono::steady_clock::now();
    auto status = database_->db()->Write(sync, &write);
    const double sync_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sync_started)
            .count();
    local.sync_latency_buckets[bucket_of(kSyncLatencyBoundsMs, sync_ms)]++;
    local.sync_latency_sum_ms += sync_ms;
    if (!status.ok()) {
      // Nothing of this batch is acknowledged; forget cached versions so the next batch
      // reads the truth from disk.
      out.failure =
          from_rocksdb(status, "writing a batch of " + std::to_string(write.Count()) + " records");
      versions_.clear();
      write_failed_ = true;
    } else {
      for (auto& [stream, version] : in_batch) versions_[stream] = version;
      last_position_ = position;
      out.wrote = true;
    }
  }
  return out;
}

Status RocksdbJournal::writable() {
  if (!write_failed_) return Status::ok();
  // Busy while RocksDB's own recovery waits for space (it looks every 5 s).
  if (!database_->db()->Resume().ok()) {
    return unavailable(
        "the journal stopped writing after a failed write (is the disk full?); it resumes by "
        "itself once the store's file system has 64 MiB free again");
  }
  write_failed_ = false;
  return Status::ok();
}

uint64_t RocksdbJournal::read_last_position() const {
  std::unique_ptr<rocksdb::Iterator> it(
      database_->db()->NewIterator(rocksdb::ReadOptions(), database_->positions()));
  it->SeekToLast();
  if (!it->Valid()) return 0;
  return keys::read_be64(it->key().ToStringView()).value_or(0);
}

Result<std::vector<Envelope>> RocksdbJournal::read_stream(const std::string& stream,
                                                          uint64_t from_version, size_t max) const {
  std::vector<Envelope> out;
  const auto prefix = keys::stream_prefix(stream);
  rocksdb::ReadOptions read;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read, database_->events()));
  uint64_t expected = from_version == 0 ? 1 : from_version;
  bool first = true;
  for (it->Seek(keys::versioned(stream, expected)); it->Valid() && out.size() < max; it->Next()) {
    auto key = it->key().ToStringView();
    if (key.substr(0, prefix.size()) != prefix) break;
    auto envelope = decode_event(key, it->value().ToStringView());
    if (!envelope) return envelope.status();
    // The first event may be later than asked when the stream starts later (never, for
    // streams written by this journal) -- any jump after the first is a gap.
    if (envelope->version() != expected && !(first && from_version == 0))
      return data_loss(describe(stream, expected) + ": missing (next stored is version " +
                       std::to_string(envelope->version()) + ")");
    if (first && from_version == 0 && envelope->version() != 1)
      return data_loss(describe(stream, 1) + ": missing (stream starts at version " +
                       std::to_string(envelope->version()) + ")");
    first = false;
    expected = envelope->version() + 1;
    out.push_back(std::move(*envelope));
  }
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading " + stream);
  return out;
}

Status RocksdbJournal::read_all(uint64_t from_position,
                                const std::function<bool(const Envelope&)>& visit) const {
  // The positions family only points at events: fetching them one Get at a time ran at a
  // third of the by-stream speed, so each chunk of index entries is resolved with one
  // MultiGet.
  constexpr size_t kChunk = 512;
  rocksdb::ReadOptions read;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(read, database_->positions()));
  std::vector<uint64_t> positions;
  std::vector<std::string> event_keys;
  std::vector<rocksdb::Slice> slices;
  std::vector<rocksdb::PinnableSlice> values(kChunk);
  std::vector<rocksdb::Status> statuses(kChunk);
  uint64_t previous = 0;
  it->Seek(keys::be64(from_position));
  for (;;) {
    positions.clear();
    event_keys.clear();
    for (; it->Valid() && positions.size() < kChunk; it->Next()) {
      positions.push_back(keys::read_be64(it->key().ToStringView()).value_or(0));
      event_keys.push_back(it->value().ToString());
    }
    if (!it->status().ok()) return from_rocksdb(it->status(), "reading the log by position");
    if (positions.empty()) return Status::ok();
    slices.assign(event_keys.begin(), event_keys.end());
    for (auto& value : values) value.Reset();
    database_->db()->MultiGet(read, database_->events(), slices.size(), slices.data(),
                              values.data(), statuses.data());
    for (size_t i = 0; i < positions.size(); ++i) {
      const auto position = positions[i];
      auto parsed = keys::parse_versioned(event_keys[i]);
      if (!parsed)
        return data_loss("position " + std::to_string(position) + ": malformed index entry");
      if (statuses[i].IsNotFound())
        return data_loss(describe(parsed->stream, parsed->version) + " (position " +
                         std::to_string(position) + "): indexed but missing");
      if (!statuses[i].ok())
        return from_rocksdb(statuses[i], "reading " + describe(parsed->stream, parsed->version));
      auto envelope = decode_event(event_keys[i], values[i].ToStringView());
      if (!envelope) return envelope.status();
      if (envelope->position() != position || position <= previous)
        return data_loss(describe(parsed->stream, parsed->version) + ": position " +
                         std::to_string(envelope->position()) + " stored under " +
                         std::to_string(position));
      previous = position;
      if (!visit(*envelope)) return Status::ok();
    }
  }
}

Result<uint64_t> RocksdbJournal::stream_version(const std::string& stream) const {
  std::unique_ptr<rocksdb::Iterator> it(
      database_->db()->NewIterator(rocksdb::ReadOptions(), database_->events()));
  it->SeekForPrev(keys::versioned(stream, UINT64_MAX));
  if (!it->status().ok()) return from_rocksdb(it->status(), "reading " + stream);
  if (!it->Valid()) return uint64_t{0};
  auto parsed = keys::parse_versioned(it->key().ToStringView());
  if (!parsed || parsed->stream != stream) return uint64_t{0};
  return parsed->version;
}

Status RocksdbJournal::list_streams(
    const std::string& prefix,
    const std::function<bool(const std::string&, uint64_t)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(
      database_->db()->NewIterator(rocksdb::ReadOptions(), database_->events()));
  it->Seek(prefix);
  while (it->Valid()) {
    auto parsed = keys::parse_versioned(it->key().ToStringView());
    if (!parsed) return data_loss("malformed event key in the events family");
    std::string stream(parsed->stream);
    if (stream.compare(0, prefix.size(), prefix) != 0) break;
    // Jump to the stream's last event, report it, then step into the next stream.
    it->SeekForPrev(keys::versioned(stream, UINT64_MAX));
    if (!it->Valid()) break;
    auto last = keys::parse_versioned(it->key().ToStringView());
    if (!visit(stream, last ? last->version : 0)) return Status::ok();
    it->Seek(keys::versioned(stream, UINT64_MAX));
    if (it->Valid() && keys::parse_versioned(it->key().ToStringView())->stream == stream)
      it->Next();
  }
  return from_rocksdb(it->status(), "listing streams");
}

Result<std::string> RocksdbJournal::read_blob(const std::string& key) const {
  std::string value;
  auto status = database_->db()->Get(rocksdb::ReadOptions(), database_->blobs(), key, &value);
  if (status.IsNotFound()) return not_found("no blob " + key);
  if (!status.ok()) return from_rocksdb(status, "reading blob " + key);
  return value;
}

Result<AppendResult> RocksdbJournal::find_command(const std::string& stream,
                                                  const std::string& command_id) const {
  std::string value;
  auto status = database_->db()->Get(rocksdb::ReadOptions(), database_->commands(),
                                     keys::command(stream, command_id), &value);
  if (status.IsNotFound()) return not_found("command " + command_id + " not seen on " + stream);
  if (!status.ok()) return from_rocksdb(status, "reading command " + command_id);
  auto record = decode_command_record(value);
  if (!record) return data_loss(stream + ": command record " + command_id + " does not decode");
  return *record;
}

}  // namespace gh
