#include "actors/directory.h"

#include <list>
#include <unordered_map>

#include "actors/direct_routes.h"
#include "events/shard.h"

namespace gh {
namespace {

using Clock = std::chrono::steady_clock;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

struct Entry {
  caf::actor actor;
  Clock::time_point last_used;
  bool stopping = false;  // stop sent; new messages wait in `waiting`
  // For the actor that replaces a stopping one. A vector: an empty deque would cost every
  // live entity 512 bytes.
  std::vector<caf::message> waiting;
  std::list<const std::string*>::iterator lru;  // position in DirectoryState::lru (live)
};

struct DirectoryState {
  DirectoryOptions options;
  std::unordered_map<std::string, Entry> entries;
  // The id strings live once, as keys of `entries` (stable in an unordered_map); the
  // reverse index and the LRU list point at them.
  std::unordered_map<caf::actor_addr, const std::string*> ids;
  std::list<const std::string*> lru;  // most recently used first; live, not stopping
  size_t live = 0;
  bool shutting_down = false;
  caf::response_promise shutdown_done;
  static inline const char* name = "directory";
};

using DirectoryActor = caf::stateful_actor<DirectoryState>;

void publish_live(DirectoryState& st) {
  if (st.options.live_count) st.options.live_count->store(st.live);
}

// Whether callers reached `id`'s actor directly since the last ask (DirectRoutes), which
// the directory's own last-use bookkeeping cannot see.
bool used_directly(DirectoryState& st, const std::string& id) {
  return st.options.direct && st.options.direct->took_use(id);
}

// `id` must be the key of `entry` in DirectoryState::entries.
void stop_entry(DirectoryActor* self, const std::string& id, Entry& entry) {
  entry.stopping = true;
  self->state.lru.erase(entry.lru);
  // Before stop_atom: every direct call is then in the actor's mailbox ahead of it.
  if (self->state.options.direct) self->state.options.direct->withdraw(id);
  self->send(entry.actor, stop_atom::value);
}

void touch(DirectoryState& st, Entry& entry) {
  st.lru.splice(st.lru.begin(), st.lru, entry.lru);
  entry.last_used = Clock::now();
}

// `id` must be the key of `entry` in DirectoryState::entries.
void start_entry(DirectoryActor* self, const std::string& id, Entry& entry) {
  auto& st = self->state;
  entry.actor = st.options.spawn(self, id, caf::actor_cast<caf::actor>(self));
  entry.stopping = false;
  self->monitor(entry.actor);
  st.ids[entry.actor.address()] = &id;
  st.lru.push_front(&id);
  entry.lru = st.lru.begin();
  entry.last_used = Clock::now();
  ++st.live;
  publish_live(st);
  // Passivate the least recently used actor when over the cap; never the one just started.
  if (st.live > st.options.max_live && st.lru.size() > 1) {
    // Entities used directly are not the least recently used: move them to the front.
    for (size_t i = st.lru.size(); i > 1 && st.lru.back() != &id; --i) {
      if (!used_directly(st, *st.lru.back())) break;
      touch(st, st.entries.at(*st.lru.back()));
    }
    auto victim = std::prev(st.lru.end());
    if (*victim == &id) --victim;  // every other one was used: the oldest of them
    stop_entry(self, **victim, st.entries.at(**victim));
  }
}

void finish_shutdown_if_done(DirectoryActor* self) {
  auto& st = self->state;
  if (!st.shutting_down || st.live > 0) return;
  st.shutdown_done.deliver(caf::ok_atom::value);
  self->quit();
}

void route(DirectoryActor* self, Route& message) {
  auto& st = self->state;
  DirectRoutes* direct = st.options.direct.get();
  if (st.shutting_down) {
    if (direct) direct->routed(message.id, nullptr);
    return;
  }
  auto [it, inserted] = st.entries.try_emplace(message.id);
  auto& entry = it->second;
  if (inserted) start_entry(self, it->first, entry);
  if (entry.stopping) {
    entry.waiting.push_back(std::move(message.payload));
    if (direct) direct->routed(message.id, nullptr);
    return;
  }
  touch(st, entry);
  self->send(entry.actor, std::move(message.payload));
  // After the forward: a direct call can only follow it.
  if (direct) direct->routed(message.id, &entry.actor);
}

void on_down(DirectoryActor* self, const caf::down_msg& down) {
  auto& st = self->state;
  auto id_it = st.ids.find(down.source);
  if (id_it == st.ids.end()) return;
  std::string id = *id_it->second;
  st.ids.erase(id_it);
  if (st.options.direct) st.options.direct->withdraw(id);
  --st.live;
  publish_live(st);
  auto it = st.entries.find(id);
  if (it == st.entries.end()) return;
  auto& entry = it->second;
  if (!entry.stopping) st.lru.erase(entry.lru);  // ended on its own (failure)
  if (entry.waiting.empty() || st.shutting_down) {
    st.entries.erase(it);
    finish_shutdown_if_done(self);
    return;
  }
  auto waiting = std::move(entry.waiting);
  entry.waiting.clear();
  start_entry(self, it->first, entry);
  for (auto& payload : waiting) self->send(entry.actor, std::move(payload));
}

std::chrono::milliseconds sweep_interval(const DirectoryOptions& options) {
  return std::max(std::chrono::milliseconds(5), options.idle_timeout / 4);
}

// Asks every entity unused for idle_timeout whether it is idle. The LRU list is ordered by
// last use, so the sweep stops at the first entity used recently. Asked entities move to
// the front: a busy one is asked again only after another idle period.
void sweep(DirectoryActor* self) {
  auto& st = self->state;
  const auto cutoff = Clock::now() - st.options.idle_timeout;
  const auto now = Clock::now();
  size_t asked = 0;
  const size_t limit = st.lru.size();
  while (!st.lru.empty() && asked < limit) {
    const std::string& id = *st.lru.back();
    auto& entry = st.entries.at(id);
    if (entry.last_used > cutoff) break;
    // Used directly since the last sweep: not idle, ask again after another idle period.
    if (!used_directly(st, id)) self->send(entry.actor, idle_check_atom::value);
    entry.last_used = now;
    st.lru.splice(st.lru.begin(), st.lru, entry.lru);
    ++asked;
  }
  self->delayed_send(self, sweep_interval(st.options), sweep_atom::value);
}

caf::behavior directory(DirectoryActor* self, DirectoryOptions options) {
  self->state.options = std::move(options);
  self->set_down_handler([self](caf::down_msg& down) { on_down(self, down); });
  self->delayed_send(self, sweep_interval(self->state.options), sweep_atom::value);
  return {
      [self](sweep_atom) {
        if (!self->state.shutting_down) sweep(self);
      },
      [self](Route& message) { route(self, message); },
      [self](idle_atom) {
        auto& st = self->state;
        auto id_it = st.ids.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
        if (id_it == st.ids.end()) return;
        const std::string& id = *id_it->second;
        auto& entry = st.entries.at(id);
        // Used directly after it said so: no longer idle.
        if (!entry.stopping && !used_directly(st, id)) stop_entry(self, id, entry);
      },
      [self](evict_atom, const std::string& id) {
        auto& st = self->state;
        auto it = st.entries.find(id);
        if (it != st.entries.end() && !it->second.stopping && it->second.actor)
          stop_entry(self, it->first, it->second);
        if (st.options.direct) st.options.direct->routed(id, nullptr);
      },
      [self](evict_atom, uint32_t shard) {
        for (auto& [id, entry] : self->state.entries)
          if (!entry.stopping && entry.actor && shards::shard_of_entity(id) == shard)
            stop_entry(self, id, entry);
      },
      [self](live_atom) { return self->state.live; },
      [self](shutdown_atom) {
        auto& st = self->state;
        st.shutting_down = true;
        st.shutdown_done = self->make_response_promise();
        for (auto& [id, entry] : st.entries)
          if (!entry.stopping) stop_entry(self, id, entry);
        finish_shutdown_if_done(self);
      },
  };
}

}  // namespace

caf::actor spawn_directory(caf::actor_system& system, DirectoryOptions options) {
  // The directory is on every request's path; a detached thread keeps it off the shared
  // scheduler's queues so it is never starved by a fan-out.
  return system.spawn<caf::detached>(directory, std::move(options));
}

}  // namespace gh
