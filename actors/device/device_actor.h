// The actor of one device (stream device/<id>), run by the entity shell
// (actors/entity_shell.h): recovered before its first call, up to 16 appends in flight, each
// call answered in order once it and everything before it is durable, then the effects
// (commands, alerts, status) and the callers waiting for a command. A command's timeout is
// a timer of its own that decides an ExpireCommand. A failed append ends the actor: the
// directory spawns a fresh one on the next message, which recovers the truth from the log.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/blocking_pool.h"
#include "actors/device/device_service.h"
#include "events/journal.h"

namespace gh::device {

// What every device actor shares. Owned by DeviceSystem, outlives its actors.
struct DeviceContext {
  Journal* journal = nullptr;
  DeviceEffects* effects = nullptr;  // may be null: no effects
  BlockingPool* pool = nullptr;
  // Rebuilds the state of device `id` (snapshot + tail). Runs on the pool.
  std::function<Result<State>(const std::string& id)> load;
  // Writes a snapshot of `state`. Runs on the pool; failures only cost a longer recovery.
  std::function<void(const State& state)> save_snapshot;
  uint64_t snapshot_every = 100;   // 0: never
  std::function<int64_t()> clock;  // unix ms
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> rejections{0};
};

// A command (or, without one, a read of the state) for one device.
struct DeviceCall {
  std::optional<Command> command;
  events::Cause cause;
  std::string command_id;   // journal idempotency key; may be empty
  std::vector<Blob> blobs;  // written with the events (pictures)
  Callback<State> done;     // the state after the command, once durable
  // A lock command whose caller waits for it to finish: when its record is still open once
  // durable, `done` is answered when it finishes, or after `wait`.
  std::chrono::milliseconds wait{0};
};

// Spawns the actor of device `id` from `spawner` (the directory), which it tells when idle.
caf::actor spawn_device_actor(caf::local_actor* spawner, std::string id, caf::actor directory,
                              std::shared_ptr<DeviceContext> context);

}  // namespace gh::device

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::device::DeviceCall)
