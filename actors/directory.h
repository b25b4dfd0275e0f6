// The directory: finds the actor of an entity by id, spawning it on first use, and
// passivates actors that are idle or over the cap on live actors. One directory per entity
// kind (devices now; users and rooms later reuse it).
//
// Protocol (all CAF messages, local only):
//   Route{id, payload}  -> payload is sent to the entity's actor, spawning it if needed;
//                          messages for one id keep their order, across passivations too.
//   idle_atom           <- an entity says it has been idle; the directory answers stop_atom
//                          and buffers new messages for that id until the actor is gone.
//   live_atom           -> the number of live entity actors (size_t).
//   shutdown_atom       -> stops every entity actor (each finishes its queue), answers
//                          ok_atom once all are gone, then the directory quits. Messages
//                          routed after that are dropped.
// An entity actor must, on stop_atom, finish what it has queued and then quit. When an
// entity actor ends for any reason (passivation, a failed append), the next message for its
// id spawns a fresh one, which recovers from the log.
#pragma once

#include <caf/all.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace gh {

using idle_atom = caf::atom_constant<caf::atom("idle")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using live_atom = caf::atom_constant<caf::atom("live")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

struct Route {
  std::string id;
  caf::message payload;
};

struct DirectoryOptions {
  size_t max_live = 100000;  // passivate the least recently used actor beyond this
  // Spawns the actor of `id`; it receives the directory's handle to send idle_atom to.
  std::function<caf::actor(caf::local_actor* spawner, const std::string& id,
                           const caf::actor& directory)>
      spawn;
  std::shared_ptr<std::atomic<size_t>> live_count;  // optional: mirrored for metrics
};

caf::actor spawn_directory(caf::actor_system& system, DirectoryOptions options);

}  // namespace gh

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::Route)
