// A RocksDB FileSystem that can lose power (the test double of the power-loss campaign,
// docs/reliability.md): it remembers how much of every file it writes had been synced, and
// after cut_power() every further write, sync, rename and delete still answers OK but leaves
// nothing behind, as on a machine that just died: nothing there observes an error, and an
// answer given after the cut never reaches anyone (the campaigns count an append as
// acknowledged only if the power was still on once it was answered). Failing the calls
// instead would exercise RocksDB's I/O-error paths, which a real power cut never reaches
// (and which abort on an assertion in Debian's build). lose_unsynced() then does to the files what
// the power cut does to a disk cache: each file is cut back to its synced length, dropping the rest
// whole or tearing it at a random byte. Syncs are recorded, not performed (only this process's view
// of durability matters, and the shared machine is spared the fsyncs).
//
// What it does not model: directory entries (a file created, renamed or deleted is so at
// once, as if its directory were synced) and reordering or corruption inside synced data.
//
// Thread-safety: every method may be called from any thread; lose_unsynced() only while no
// database is open on it.
#pragma once

#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace gh::testing {

// What happens to the bytes written to a file since its last sync when the power goes.
enum class PowerCut {
  kDropWhole,         // none of them reached the disk
  kTornAtRandomByte,  // a random prefix of them did (0 .. all but one byte)
};

class PowerLossFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerLossFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "PowerLossFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;

  // From now on every write, sync, rename and delete does nothing (and answers OK); a file
  // created keeps nothing. Each operation happened wholly before the cut or not at all.
  void cut_power();
  // Cuts the power just before the `operations`-th next write, sync, create, rename or
  // delete (1: the next one), wherever in RocksDB's work that falls: between a WAL write and
  // its sync, in the middle of an SST or a MANIFEST update.
  void cut_power_after(uint64_t operations);
  bool powered() const;

  // With no database open: cuts every file back to its synced length per `how` and turns the
  // power back on. Returns the number of bytes that were lost.
  uint64_t lose_unsynced(PowerCut how, std::mt19937_64& rng);

  // Called by the files this system opened, under its lock.
  rocksdb::IOStatus wrote(const std::string& name, uint64_t end_offset);
  rocksdb::IOStatus truncated(const std::string& name, uint64_t size);
  rocksdb::IOStatus synced(const std::string& name);
  // Counts one operation (see cut_power_after); true when the power is off (do nothing).
  bool off();
  std::mutex& mutex() const { return mu_; }

 private:
  struct FileState {
    uint64_t synced = 0;   // bytes known to be on the disk
    uint64_t written = 0;  // bytes handed to the file
  };
  rocksdb::IOStatus open_tracked(const std::string& name, uint64_t existing,
                                 std::unique_ptr<rocksdb::FSWritableFile>* result);

  mutable std::mutex mu_;
  bool dead_ = false;
  uint64_t countdown_ = 0;  // operations until the cut; 0: none armed
  std::map<std::string, FileState> files_;
};

}  // namespace gh::testing
