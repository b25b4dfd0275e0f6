#include "snapshots/snapshot_codec.h"

#include <string>

namespace gh {
namespace {

std::string describe(std::string_view stream, uint64_t version) {
  return std::string(stream) + " snapshot " + std::to_string(version);
}

}  // namespace

Result<snapshots::Snapshot> decode_snapshot(std::string_view stream, uint64_t key_version,
                                            std::string_view value) {
  snapshots::Snapshot snapshot;
  if (!snapshot.ParseFromArray(value.data(), static_cast<int>(value.size())))
    return data_loss("does not decode");
  if (snapshot.stream() != stream || snapshot.version() != key_version)
    return data_loss("stored under " + describe(stream, key_version) + " but says " +
                     describe(snapshot.stream(), snapshot.version()));
  if (snapshot.state_case() == snapshots::Snapshot::STATE_NOT_SET)
    return data_loss("holds no state");
  return snapshot;
}

}  // namespace gh
