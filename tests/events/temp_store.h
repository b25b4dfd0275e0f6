// Test helpers shared by the storage, snapshot and tool tests: a fresh directory per test
// (removed afterwards) and a real RocksDB store in it. Not thread-safe; one per test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "events/database.h"
#include "events/rocksdb_journal.h"

namespace gh::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gh-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A store open read-write with a journal over it; reopen() closes and opens it again.
class TempStore {
 public:
  explicit TempStore(OpenMode mode = OpenMode::kReadWrite) { open(mode); }
  ~TempStore() { close(); }

  void open(OpenMode mode = OpenMode::kReadWrite) {
    auto database = Database::open(path(), mode);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(*database);
    journal_ = std::make_unique<RocksdbJournal>(database_.get());
  }
  void close() {
    journal_.reset();
    database_.reset();
  }
  void reopen(OpenMode mode = OpenMode::kReadWrite) {
    close();
    open(mode);
  }

  std::string path() const { return dir_.sub("store"); }
  const TempDir& dir() const { return dir_; }
  Database& database() { return *database_; }
  // As the Journal interface, so that read_stream's default `max` applies.
  Journal& journal() { return *journal_; }
  RocksdbJournal& rocksdb_journal() { return *journal_; }

 private:
  TempDir dir_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> journal_;
};

// An envelope carrying only a LockStateReported event (the journal fills the rest).
inline events::Envelope lock_reported(events::LockState state = events::LOCKED) {
  events::Envelope envelope;
  envelope.mutable_lock_state_reported()->set_state(state);
  return envelope;
}

// An append of `count` LockStateReported events to `stream` at `expected`.
inline AppendRequest request_of(const std::string& stream, uint64_t expected, size_t count = 1,
                                const std::string& command_id = "") {
  AppendRequest request;
  request.stream = stream;
  request.expected_version = expected;
  request.command_id = command_id;
  for (size_t i = 0; i < count; ++i)
    request.events.push_back(lock_reported(i % 2 ? events::UNLOCKED : events::LOCKED));
  return request;
}

}  // namespace gh::testing
