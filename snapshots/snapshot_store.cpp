#include "snapshots/snapshot_store.h"

#include <algorithm>

#include "events/stream_name.h"
#include "snapshots/snapshot_codec.h"

namespace gh::snapshot_rules {
namespace {

std::string describe(std::string_view stream, uint64_t version) {
  return std::string(stream) + " snapshot " + std::to_string(version);
}

}  // namespace

Status check_writable(const snapshots::Snapshot& snapshot) {
  if (!is_valid_stream(snapshot.stream()))
    return invalid_argument("invalid stream name '" + snapshot.stream() + "'");
  if (snapshot.version() == 0)
    return invalid_argument(snapshot.stream() + ": a snapshot of version 0 holds nothing");
  if (snapshot.state_case() == snapshots::Snapshot::STATE_NOT_SET)
    return invalid_argument(snapshot.stream() + ": a snapshot without a state");
  return Status::ok();
}

std::vector<uint64_t> kept_versions(std::vector<uint64_t> existing, uint64_t written) {
  if (std::find(existing.begin(), existing.end(), written) == existing.end())
    existing.push_back(written);
  std::sort(existing.begin(), existing.end(), std::greater<>());
  existing.resize(std::min(SnapshotStore::kKept, existing.size()));
  return existing;
}

std::optional<CorruptSnapshot> decode_stored(const std::string& stream, uint64_t version,
                                             std::string_view bytes, snapshots::Snapshot& out) {
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return CorruptSnapshot{stream, version, "does not decode"};
  if (out.stream() != stream || out.version() != version)
    return CorruptSnapshot{stream, version,
                           "stored under " + describe(stream, version) + " but says " +
                               describe(out.stream(), out.version())};
  if (out.state_case() == snapshots::Snapshot::STATE_NOT_SET)
    return CorruptSnapshot{stream, version, "holds no state"};
  return std::nullopt;
}

}  // namespace gh::snapshot_rules
