// The steps every entity actor (device, user, room) takes the same way around its pure
// model: rebuilding its state on the blocking pool, appending to the journal, and writing a
// snapshot every `snapshot_every` events. Each actor keeps its own behaviour and queues;
// these are the shared steps, and the messages that bring their outcomes back.
//
// A Context (DeviceContext, UserContext, RoomContext) has `pool` (BlockingPool*),
// `journal` (Journal*), `load(key)` -> Result<State>, `save_snapshot(state)` and
// `snapshot_every` (0: never).
// Thread-safety: call from the actor's own thread; the work runs on the pool or the
// journal's thread and answers with a message to the actor.
#pragma once

#include <caf/all.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "events/journal.h"
#include "events/status.h"

namespace gh::entity {

// The state Context::load rebuilt for an actor.
template <class State>
struct Recovered {
  std::shared_ptr<Result<State>> result;
};

// How an append ended (durable, or the journal's error).
struct AppendDone {
  std::shared_ptr<Result<AppendResult>> result;
};

// Rebuilds `key`'s state on the pool and sends it to `self` as Recovered<State>. False when
// the pool's queue is full: the caller answers its calls "retry".
template <class State, class Context>
bool start_loading(caf::actor self, std::shared_ptr<Context> context, std::string key) {
  return context->pool->submit([self = std::move(self), context, key = std::move(key)] {
    caf::anon_send(self, Recovered<State>{std::make_shared<Result<State>>(context->load(key))});
  });
}

// Appends `request` and sends AppendDone to `self` once it is durable or has failed.
inline void append_then_tell(Journal& journal, caf::actor self, AppendRequest request) {
  journal.append(std::move(request), [self = std::move(self)](Result<AppendResult> result) {
    caf::anon_send(self, AppendDone{std::make_shared<Result<AppendResult>>(std::move(result))});
  });
}

// Writes a snapshot of `state` on the pool when context->snapshot_every events have passed
// since `snapshot_version`, which it then moves up. Best effort: a full pool or a failed
// write only costs a longer recovery.
template <class Context, class State>
void maybe_snapshot(const std::shared_ptr<Context>& context, const State& state,
                    uint64_t& snapshot_version) {
  const uint64_t every = context->snapshot_every;
  if (every == 0 || state.version < snapshot_version + every) return;
  snapshot_version = state.version;
  (void)context->pool->submit([context, copy = state] { context->save_snapshot(copy); });
}

}  // namespace gh::entity

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::AppendDone)
