// Fuzz target: decoding stored snapshots (snapshots/snapshot_codec.h) and the states of the
// entities in them (device, room, user *_snapshot.h). Snapshots are a cache: a corrupt one
// must be named and skipped, never crash recovery. Input: the snapshot's bytes, stored under
// one of the entity streams (chosen by the first byte).
// Promises: errors are kDataLoss with a reason; from_snapshot() of any decoded snapshot
// returns a state or nullopt, and a state it returns survives to_snapshot/from_snapshot.
#include <google/protobuf/stubs/logging.h>

#include "actors/device/device_snapshot.h"
#include "actors/room/room_snapshot.h"
#include "actors/user/user_snapshot.h"
#include "snapshots/snapshot_codec.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string field with invalid UTF-8 it refuses; the refusal is what
  // is checked, the log line is noise.
  static const google::protobuf::LogSilencer quiet;
  using gh::Code;
  if (size == 0) return 0;
  static const char* const kStreams[] = {"device/d1", "room/lobby", "user/alice"};
  const std::string_view stream = kStreams[data[0] % 3];
  const auto value = gh::fuzz::as_text(data + 1, size - 1);

  auto snapshot = gh::decode_snapshot(stream, 3, value);
  gh::fuzz::require_code(snapshot.status(), {Code::kDataLoss}, "decode_snapshot");
  if (!snapshot) {
    gh::fuzz::require(!snapshot.status().message().empty(), "a corrupt snapshot says why");
    return 0;
  }
  if (auto device = gh::device::from_snapshot(*snapshot)) {
    auto again = gh::device::from_snapshot(gh::device::to_snapshot(*device, 0));
    gh::fuzz::require(again.has_value(), "a device state survives its snapshot");
  }
  if (auto room = gh::room::from_snapshot(*snapshot, 50)) {
    auto again = gh::room::from_snapshot(gh::room::to_snapshot(*room, 0), 50);
    gh::fuzz::require(again.has_value(), "a room state survives its snapshot");
  }
  if (auto user = gh::user::from_snapshot(*snapshot)) {
    auto again = gh::user::from_snapshot(gh::user::to_snapshot(*user, 0));
    gh::fuzz::require(again.has_value(), "a user state survives its snapshot");
  }
  return 0;
}
