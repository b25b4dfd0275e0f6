// The directory: finds the actor of an entity by id, spawning it on first use, and
// passivates actors that are idle or over the cap on live actors. One directory per entity
// kind (devices now; users and rooms later reuse it).
//
// Protocol (all CAF messages, local only):
//   Route{id, payload}  -> payload is sent to the entity's actor, spawning it if needed;
//                          messages for one id keep their order, across passivations too.
//   idle_check_atom     -> sent by the directory's periodic sweep to entities unused for
//                          idle_timeout; an entity that is idle answers idle_atom, a busy
//                          one (a command in flight) ignores it and is asked again later.
//   idle_atom           <- an entity says it is idle; the directory answers stop_atom
//                          and buffers new messages for that id until the actor is gone.
// One sweep timer for all entities rather than a receive timeout per actor: 100k live
// actors would otherwise hold 100k timers (about 180 bytes each in CAF 0.17's clock).
//   evict_atom, id      -> stops the entity's actor as if it were idle (it finishes its
//                          queue); the next message for `id` spawns a fresh one that
//                          recovers from the log. For writes made outside the actor (an
//                          operator's verb): the actor's state would otherwise be stale.
//                          With DirectoryOptions::direct, send it with DirectRoutes::evict.
//   evict_atom, shard   -> (a uint32_t) evicts, as above, every live entity whose id is in
//                          that shard (events/shard.h): cluster mode, when this node hands
//                          the shard to another, whose writes these actors would not see.
//   live_atom           -> the number of live entity actors (size_t).
//   shutdown_atom       -> stops every entity actor (each finishes its queue), answers
//                          ok_atom once all are gone, then the directory quits. Messages
//                          routed after that are dropped.
// With DirectoryOptions::direct, callers send to a live actor directly when the directory
// holds nothing for its id (actors/direct_routes.h keeps the order and the stop rule).
// An entity actor must, on stop_atom, finish what it has queued and then quit. When an
// entity actor ends for any reason (passivation, a failed append), the next message for its
// id spawns a fresh one, which recovers from the log.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace gh {

class DirectRoutes;

using idle_atom = caf::atom_constant<caf::atom("idle")>;
using idle_check_atom = caf::atom_constant<caf::atom("idlecheck")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using live_atom = caf::atom_constant<caf::atom("live")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

struct Route {
  std::string id;
  caf::message payload;
};

struct DirectoryOptions {
  size_t max_live = 100000;  // passivate the least recently used actor beyond this
  std::chrono::milliseconds idle_timeout{60000};  // ask entities unused this long to stop
  // Spawns the actor of `id`; it receives the directory's handle to send idle_atom to.
  std::function<caf::actor(caf::local_actor* spawner, const std::string& id,
                           const caf::actor& directory)>
      spawn;
  std::shared_ptr<std::atomic<size_t>> live_count;  // optional: mirrored for metrics
  // Optional: lets callers reach live actors without the directory's hop
  // (actors/direct_routes.h); then every Route must be sent through it.
  std::shared_ptr<DirectRoutes> direct;
};

caf::actor spawn_directory(caf::actor_system& system, DirectoryOptions options);

}  // namespace gh

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::Route)
