#include "tests/campaigns/cluster_checks.h"

#include <unordered_map>

#include "events/shard.h"
#include "events/shard_fence.h"

namespace gh::testing {

namespace {

constexpr size_t kProblemsKept = 20;

void note(LogFigures& figures, const std::string& what) {
  if (figures.problems.size() < kProblemsKept) figures.problems.push_back(what);
}

std::string at(const Envelope& e) {
  return e.stream() + " version " + std::to_string(e.version()) + " (position " +
         std::to_string(e.position()) + ")";
}

}  // namespace

Status check_log(const Journal& journal, LogFigures& figures,
                 const std::function<void(const Envelope&)>& each) {
  std::unordered_map<std::string, uint64_t> versions;
  // Per shard: the highest epoch seen so far and where.
  std::vector<uint64_t> epochs(shards::kShardCount, 0);
  std::vector<uint64_t> epoch_positions(shards::kShardCount, 0);
  return journal.read_all(1, [&](const Envelope& e) {
    ++figures.events;
    auto [it, fresh] = versions.try_emplace(e.stream(), 0);
    if (fresh) ++figures.streams;
    if (e.version() != it->second + 1) {
      ++figures.version_gaps;
      note(figures, at(e) + " follows version " + std::to_string(it->second));
    }
    it->second = e.version();
    if (fenced_stream(e.stream())) {
      ++figures.fenced_events;
      const uint32_t shard = shards::shard_of_stream(e.stream());
      const uint64_t epoch = e.lease_epoch();
      if (epoch == 0) {
        ++figures.unfenced_writes;
        note(figures, at(e) + " was written without a lease (epoch 0)");
      } else if (epoch < epochs[shard]) {
        ++figures.epoch_regressions;
        note(figures, at(e) + " was written at epoch " + std::to_string(epoch) + " of shard " +
                          std::to_string(shard) + ", after epoch " + std::to_string(epochs[shard]) +
                          " at position " + std::to_string(epoch_positions[shard]));
      }
      if (epochs[shard] == 0) ++figures.shards_written;
      if (epoch > epochs[shard]) {
        epochs[shard] = epoch;
        epoch_positions[shard] = e.position();
      }
      if (epoch > figures.highest_epoch) figures.highest_epoch = epoch;
    }
    if (each) each(e);
    return true;
  });
}

}  // namespace gh::testing
