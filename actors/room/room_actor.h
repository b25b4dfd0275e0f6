// The actor of one chat room (stream room/<name>), run by the entity shell
// (actors/entity_shell.h): recovered before its first call, up to 256 appends in flight (a
// busy room puts many posts into one fsync), each call answered in order once it and
// everything before it is durable -- a read waits behind the posts before it -- then the
// listeners are told, in version order. A history page older than the messages the state
// keeps is read from the log on the blocking pool. A failed append ends the actor: every
// call it holds is answered and the directory spawns a fresh one on the next message, which
// recovers the truth from the log.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/blocking_pool.h"
#include "actors/room/room_model.h"
#include "events/journal.h"

namespace gh::room {

// What every room actor shares. Owned by ChatSystem, outlives its actors.
struct RoomContext {
  Journal* journal = nullptr;
  BlockingPool* pool = nullptr;
  // Rebuilds the state of room `name` (snapshot + tail), keeping max_messages. On the pool.
  std::function<Result<State>(const std::string& name)> load;
  // Writes a snapshot of `state`. Runs on the pool; failures only cost a longer recovery.
  std::function<void(const State& state)> save_snapshot;
  // Called on the actor's thread after each durable change, in version order, with the state
  // after it and the events written. Must not block.
  std::function<void(const State& state, const std::vector<Envelope>& written)> on_durable;
  uint64_t snapshot_every = 100;  // 0: never
  size_t max_text_bytes = kDefaultMaxTextBytes;
  size_t max_messages = kDefaultMaxMessages;
  std::function<int64_t()> clock;  // unix ms
  std::atomic<uint64_t> posts{0};
  std::atomic<uint64_t> history_log_reads{0};  // pages that needed the log
};

// What a call's callback sees, on the actor's thread (copy what you need, do not block).
struct RoomReply {
  const State* state = nullptr;                    // durable, after the call
  const std::vector<Envelope>* written = nullptr;  // the events of this call (may be empty)
};

// A command, or without one a read of the state (kNotFound when the room does not exist).
struct RoomCall {
  std::optional<Command> command;
  events::Cause cause;
  std::function<void(Result<RoomReply>)> done;
};

// A page of history (room_model.h history()), completed from the log when the state holds
// too few. `done` runs on the actor's or a pool thread.
struct HistoryCall {
  uint64_t before_id = 0;
  size_t limit = kMaxPageSize;
  std::function<void(Result<HistoryPage>)> done;
};

// Spawns the actor of room `name` from `spawner` (the directory), which it tells when idle.
caf::actor spawn_room_actor(caf::local_actor* spawner, std::string name, caf::actor directory,
                            std::shared_ptr<RoomContext> context);

}  // namespace gh::room

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::room::RoomCall)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::room::HistoryCall)
