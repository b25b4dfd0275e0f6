// The journals under test, behind one factory, so that the same journal test suite runs
// against RocksDB (a fresh store in a temporary directory) and PostgreSQL (a fresh database
// on the test binary's throwaway cluster, tests/events/temp_postgres.h).
// Not thread-safe; one per test.
#pragma once

#include <memory>
#include <string>

#include "events/pg_journal.h"
#include "tests/events/temp_postgres.h"
#include "tests/events/temp_store.h"

namespace gh::testing {

enum class Backend { kRocksdb, kPostgres };

inline std::string backend_name(Backend backend) {
  return backend == Backend::kRocksdb ? "rocksdb" : "postgres";
}

// For INSTANTIATE_TEST_SUITE_P: names the instances ".../rocksdb" and ".../postgres".
struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    return backend_name(info.param);
  }
};

// One journal over storage that outlives it: reopen() closes the journal and opens a new
// one over the same data, as a restarted server would.
class JournalUnderTest {
 public:
  virtual ~JournalUnderTest() = default;
  // False when the journal could not be opened (the failure is reported already).
  virtual bool ready() const = 0;
  virtual Journal& journal() = 0;
  virtual void reopen(JournalOptions options = {}) = 0;
  // Stops accepting appends after draining the queued ones.
  virtual void shutdown() = 0;
  // Sets the durable observer; before the first append.
  virtual void observe(std::function<void(const Envelope&)> observer) = 0;
};

class RocksdbUnderTest final : public JournalUnderTest {
 public:
  RocksdbUnderTest() { reopen(); }
  bool ready() const override { return journal_ != nullptr; }
  Journal& journal() override { return *journal_; }
  void reopen(JournalOptions options = {}) override {
    journal_.reset();
    journal_ = std::make_unique<RocksdbJournal>(&store_.database(), std::move(options));
  }
  void shutdown() override { journal_->shutdown(); }
  void observe(std::function<void(const Envelope&)> observer) override {
    journal_->set_durable_observer(std::move(observer));
  }

 private:
  TempStore store_;
  std::unique_ptr<RocksdbJournal> journal_;
};

class PostgresUnderTest final : public JournalUnderTest {
 public:
  PostgresUnderTest() {
    auto& cluster = TempPostgres::shared();
    if (!cluster.running()) {
      ADD_FAILURE() << "no PostgreSQL for the test: " << cluster.problem();
      return;
    }
    conninfo_ = cluster.fresh_database();
    reopen();
  }
  bool ready() const override { return journal_ != nullptr; }
  Journal& journal() override { return *journal_; }
  void reopen(JournalOptions options = {}) override {
    journal_.reset();
    auto opened = PgJournal::open({conninfo_, std::move(options)});
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    journal_ = std::move(*opened);
  }
  void shutdown() override { journal_->shutdown(); }
  void observe(std::function<void(const Envelope&)> observer) override {
    journal_->set_durable_observer(std::move(observer));
  }
  const std::string& conninfo() const { return conninfo_; }

 private:
  std::string conninfo_;
  std::unique_ptr<PgJournal> journal_;
};

inline std::unique_ptr<JournalUnderTest> make_journal(Backend backend) {
  if (backend == Backend::kRocksdb) return std::make_unique<RocksdbUnderTest>();
  return std::make_unique<PostgresUnderTest>();
}

}  // namespace gh::testing
