#include "bench/raw_append.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace gh::bench {

double raw_rocksdb_batches_of_64(const std::filesystem::path& dir, int batches,
                                 size_t value_bytes) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir.string(), &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value(value_bytes, 'x');
  rocksdb::WriteOptions sync;
  sync.sync = true;
  uint64_t key = 0;
  auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < batches; ++b) {
    rocksdb::WriteBatch batch;
    for (int i = 0; i < 64; ++i) {
      char k[8];
      uint64_t v = key++;
      for (int j = 7; j >= 0; --j, v >>= 8) k[j] = char(v & 0xff);
      batch.Put(rocksdb::Slice(k, 8), value);
    }
    if (!db->Write(sync, &batch).ok()) return 0;
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return 64.0 * batches / took.count();
}

}  // namespace gh::bench
