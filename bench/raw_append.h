// The journal's ceiling (docs/benchmarks.md "append"): one thread writing synced RocksDB
// WriteBatches of 64 keys, what no journal on this disk can beat. Shared by gatehouse_bench
// and gatehouse_wire_bench, so both print the same ceiling.
#pragma once

#include <cstddef>
#include <filesystem>

namespace gh::bench {

// Events per second: `batches` WriteBatches of 64 values of `value_bytes`, each with
// sync=true, into a fresh RocksDB at `dir`. 0 when the store cannot be opened or written.
double raw_rocksdb_batches_of_64(const std::filesystem::path& dir, int batches, size_t value_bytes);

}  // namespace gh::bench
