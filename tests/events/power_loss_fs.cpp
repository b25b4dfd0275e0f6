#include "tests/events/power_loss_fs.h"

#include <algorithm>
#include <filesystem>

namespace gh::testing {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// A writable file whose every write and sync is told to the file system, which may refuse
// it (power off) and remembers what was synced. Owns the wrapped file.
class TrackedFile : public rocksdb::FSWritableFileWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> file, PowerLossFileSystem* fs,
              std::string name, uint64_t size)
      : FSWritableFileWrapper(file.get()),
        owned_(std::move(file)),
        fs_(fs),
        name_(std::move(name)),
        size_(size) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard lock(fs_->mutex());
    if (fs_->off()) return IOStatus::OK();
    auto s = target()->Append(data, options, dbg);
    if (s.ok()) size_ += data.size();
    return s.ok() ? fs_->wrote(name_, size_) : s;
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& /*info*/, IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    std::lock_guard lock(fs_->mutex());
    if (fs_->off()) return IOStatus::OK();
    auto s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) size_ = std::max(size_, offset + data.size());
    return s.ok() ? fs_->wrote(name_, size_) : s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& /*info*/,
                            IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard lock(fs_->mutex());
    if (fs_->off()) return IOStatus::OK();
    auto s = target()->Truncate(size, options, dbg);
    if (s.ok()) size_ = size;
    return s.ok() ? fs_->truncated(name_, size) : s;
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard lock(fs_->mutex());
    if (fs_->off()) return IOStatus::OK();
    return target()->Flush(options, dbg);
  }
  // Durability is what the file system records; the real fsync is skipped (see the header).
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard lock(fs_->mutex());
    if (fs_->off()) return IOStatus::OK();
    if (auto s = target()->Flush(options, dbg); !s.ok()) return s;
    return fs_->synced(name_);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Sync(options, dbg);
  }
  // A range sync promises nothing about durability: only Sync and Fsync count.
  IOStatus RangeSync(uint64_t, uint64_t, const IOOptions&, IODebugContext*) override {
    std::lock_guard lock(fs_->mutex());
    (void)fs_->off();
    return IOStatus::OK();
  }

 private:
  std::unique_ptr<rocksdb::FSWritableFile> owned_;
  PowerLossFileSystem* fs_;
  const std::string name_;
  uint64_t size_;
};

}  // namespace

PowerLossFileSystem::PowerLossFileSystem(std::shared_ptr<rocksdb::FileSystem> base)
    : FileSystemWrapper(std::move(base)) {}

IOStatus PowerLossFileSystem::open_tracked(const std::string& name, uint64_t existing,
                                           std::unique_ptr<rocksdb::FSWritableFile>* result) {
  auto& state = files_[name];
  state.synced = existing;
  state.written = existing;
  *result = std::make_unique<TrackedFile>(std::move(*result), this, name, existing);
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::NewWritableFile(const std::string& name,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                                              IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  (void)off();  // after the cut the file stays empty: nothing written to it is kept
  auto s = target()->NewWritableFile(name, options, result, dbg);
  return s.ok() ? open_tracked(name, 0, result) : s;
}

IOStatus PowerLossFileSystem::ReopenWritableFile(const std::string& name,
                                                 const rocksdb::FileOptions& options,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                 IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  (void)off();
  std::error_code error;
  const auto size = std::filesystem::file_size(name, error);
  auto s = target()->ReopenWritableFile(name, options, result, dbg);
  // What was there before it was reopened counts as on the disk, unless we saw it written.
  const auto known = files_.find(name);
  const uint64_t synced = known != files_.end() ? known->second.synced : (error ? 0 : size);
  if (!s.ok()) return s;
  auto tracked = open_tracked(name, error ? 0 : size, result);
  files_[name].synced = std::min<uint64_t>(synced, error ? 0 : size);
  return tracked;
}

IOStatus PowerLossFileSystem::ReuseWritableFile(const std::string& name,
                                                const std::string& old_name,
                                                const rocksdb::FileOptions& options,
                                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  (void)off();
  auto s = target()->ReuseWritableFile(name, old_name, options, result, dbg);
  if (!s.ok()) return s;
  files_.erase(old_name);
  return open_tracked(name, 0, result);
}

IOStatus PowerLossFileSystem::RenameFile(const std::string& from, const std::string& to,
                                         const IOOptions& options, IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  if (off()) return IOStatus::OK();  // a dead machine renames nothing
  auto s = target()->RenameFile(from, to, options, dbg);
  if (!s.ok()) return s;
  files_.erase(to);
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = it->second;
    files_.erase(from);
  }
  return s;
}

IOStatus PowerLossFileSystem::DeleteFile(const std::string& name, const IOOptions& options,
                                         IODebugContext* dbg) {
  std::lock_guard lock(mu_);
  if (off()) return IOStatus::OK();  // ... nor deletes
  auto s = target()->DeleteFile(name, options, dbg);
  if (s.ok()) files_.erase(name);
  return s;
}

void PowerLossFileSystem::cut_power() {
  std::lock_guard lock(mu_);
  dead_ = true;
  countdown_ = 0;
}

bool PowerLossFileSystem::powered() const {
  std::lock_guard lock(mu_);
  return !dead_;
}

uint64_t PowerLossFileSystem::lose_unsynced(PowerCut how, std::mt19937_64& rng) {
  std::lock_guard lock(mu_);
  uint64_t lost = 0;
  for (const auto& [name, state] : files_) {
    if (state.written <= state.synced) continue;
    const uint64_t unsynced = state.written - state.synced;
    uint64_t kept = 0;
    if (how == PowerCut::kTornAtRandomByte)
      kept = std::uniform_int_distribution<uint64_t>(0, unsynced - 1)(rng);
    std::error_code error;
    std::filesystem::resize_file(name, state.synced + kept, error);
    if (!error) lost += unsynced - kept;
  }
  files_.clear();
  dead_ = false;
  countdown_ = 0;
  return lost;
}

IOStatus PowerLossFileSystem::wrote(const std::string& name, uint64_t end_offset) {
  auto& state = files_[name];
  state.written = std::max(state.written, end_offset);
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::truncated(const std::string& name, uint64_t size) {
  auto& state = files_[name];
  state.written = size;
  state.synced = std::min(state.synced, size);
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::synced(const std::string& name) {
  auto& state = files_[name];
  state.synced = state.written;
  return IOStatus::OK();
}

bool PowerLossFileSystem::off() {
  if (countdown_ > 0 && --countdown_ == 0) dead_ = true;
  return dead_;
}

void PowerLossFileSystem::cut_power_after(uint64_t operations) {
  std::lock_guard lock(mu_);
  countdown_ = operations;
}

}  // namespace gh::testing
