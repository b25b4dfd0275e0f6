#include "actors/room/room_actor.h"

#include <list>

#include "actors/directory.h"
#include "actors/entity_steps.h"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::Recovered<gh::room::State>)

namespace gh::room {

using Recovered = entity::Recovered<State>;
using entity::AppendDone;

enum class Phase { kRecovering, kReady, kBroken };

struct RoomActorState {
  std::string room;
  std::string stream;  // room/<name>
  caf::actor directory;
  std::shared_ptr<RoomContext> context;
  Phase phase = Phase::kRecovering;
  Status broken;
  State state;  // durable
  uint64_t snapshot_version = 0;
  std::list<RoomCall> queue;               // commands not yet decided, in order
  std::list<HistoryCall> early_histories;  // arrived during recovery
  std::optional<RoomCall> in_flight;       // appended, not yet durable
  bool stop_requested = false;
  static inline const char* name = "room";
};

namespace {

using Self = caf::stateful_actor<RoomActorState>;

void pump(Self* self);

void start_recovery(Self* self) {
  auto& st = self->state;
  bool queued =
      entity::start_loading<State>(caf::actor_cast<caf::actor>(self), st.context, st.room);
  if (!queued) {
    st.phase = Phase::kBroken;
    st.broken = unavailable("too many rooms recovering at once; retry");
  }
}

void maybe_snapshot(Self* self) {
  auto& st = self->state;
  entity::maybe_snapshot(st.context, st.state, st.snapshot_version);
}

void reply_read(Self* self, RoomCall& call) {
  const auto& s = self->state.state;
  if (!s.exists()) {
    call.done(not_found("no room named " + s.name));
    return;
  }
  static const std::vector<Envelope> kNone;
  call.done(RoomReply{&s, &kNone});
}

void answer_history(Self* self, HistoryCall& call) {
  auto& st = self->state;
  const State& s = st.state;
  if (!s.exists()) {
    call.done(not_found("no room named " + s.name));
    return;
  }
  auto page = history(s, call.before_id, call.limit);
  if (!page.needs_log) {
    call.done(std::move(page));
    return;
  }
  // The older part is only in the log. history_from_log() needs of the state only its
  // name, next id and erased authors: copy those, not a thousand messages.
  State light;
  light.name = s.name;
  light.next_message_id = s.next_message_id;
  light.anonymised = s.anonymised;
  const size_t limit = std::clamp<size_t>(call.limit, 1, kMaxPageSize);
  const size_t rest = limit - page.messages.size();
  auto context = st.context;
  ++context->history_log_reads;
  auto shared = std::make_shared<HistoryCall>(std::move(call));
  auto stream = st.stream;
  bool queued = context->pool->submit(
      [context, shared, stream, light = std::move(light), page = std::move(page), rest]() mutable {
        auto log = context->journal->read_stream(stream, 1);
        if (!log) {
          shared->done(log.status());
          return;
        }
        auto older = history_from_log(light, *log, page.log_before_id, rest);
        for (auto& m : older.messages) page.messages.push_back(std::move(m));
        page.needs_log = false;
        page.log_before_id = 0;
        page.next_before_id = older.next_before_id;
        shared->done(std::move(page));
      });
  if (!queued) shared->done(unavailable("too many history reads at once; retry"));
}

// Answers everything still queued with `status` (the actor is going away or is broken).
void fail_queue(Self* self, const Status& status) {
  auto& st = self->state;
  for (auto& call : st.queue) call.done(status);
  st.queue.clear();
  for (auto& call : st.early_histories) call.done(status);
  st.early_histories.clear();
}

void on_recovered(Self* self, Recovered& recovered) {
  auto& st = self->state;
  if (!recovered.result->is_ok()) {
    st.phase = Phase::kBroken;
    st.broken = recovered.result->status();
    fail_queue(self, st.broken);
    pump(self);
    return;
  }
  st.state = std::move(recovered.result->value());
  st.state.max_messages = st.context->max_messages;
  st.snapshot_version = st.state.version;
  st.phase = Phase::kReady;
  auto early = std::move(st.early_histories);
  st.early_histories.clear();
  for (auto& call : early) answer_history(self, call);
  pump(self);
}

void restart(Self* self, const Status& status) {
  fail_queue(self, status);
  self->quit(caf::sec::runtime_error);
}

void on_appended(Self* self, AppendDone& done) {
  auto& st = self->state;
  auto call = std::move(*st.in_flight);
  st.in_flight.reset();
  auto& result = *done.result;
  if (!result.is_ok() || result->duplicate) {
    Status status =
        result.is_ok() ? internal_error("unexpected duplicate append") : result.status();
    call.done(status);
    restart(self, unavailable("room " + st.room +
                              " is restarting after a failed write: " + status.message()));
    return;
  }
  for (const auto& e : result->events) {
    apply(st.state, e);
    if (e.has_message_posted()) ++st.context->posts;
  }
  call.done(RoomReply{&st.state, &result->events});
  if (st.context->on_durable) st.context->on_durable(st.state, result->events);
  maybe_snapshot(self);
  pump(self);
}

void start_append(Self* self, RoomCall call, std::vector<Envelope> events) {
  auto& st = self->state;
  AppendRequest request;
  request.stream = st.stream;
  request.expected_version = st.state.version;
  request.cause = call.cause;
  request.time_unix_ms = st.context->clock();
  request.events = std::move(events);
  st.in_flight = std::move(call);
  entity::append_then_tell(*st.context->journal, caf::actor_cast<caf::actor>(self),
                           std::move(request));
}

void pump(Self* self) {
  auto& st = self->state;
  while (st.phase == Phase::kReady && !st.in_flight && !st.queue.empty()) {
    auto call = std::move(st.queue.front());
    st.queue.pop_front();
    if (!call.command) {
      reply_read(self, call);
      continue;
    }
    // Configuration the model takes in the command.
    if (auto* post = std::get_if<Post>(&*call.command))
      post->max_text_bytes = st.context->max_text_bytes;
    auto events = decide(st.state, *call.command, st.context->clock());
    if (!events) {
      call.done(events.status());
      continue;
    }
    if (events->empty()) {
      static const std::vector<Envelope> kNone;
      call.done(RoomReply{&st.state, &kNone});
      continue;
    }
    start_append(self, std::move(call), std::move(*events));
  }
  if (st.stop_requested && !st.in_flight && st.phase != Phase::kRecovering) {
    fail_queue(self, unavailable("room " + st.room + " is shutting down"));
    self->quit();
  }
}

caf::behavior room_actor(Self* self, std::string name, caf::actor directory,
                         std::shared_ptr<RoomContext> context) {
  auto& st = self->state;
  st.room = name;
  st.stream = room_stream(name);
  st.state.name = name;
  st.directory = std::move(directory);
  st.context = std::move(context);
  st.state.max_messages = st.context->max_messages;
  start_recovery(self);
  return {
      [self](RoomCall& call) {
        auto& st = self->state;
        if (st.phase == Phase::kBroken) {
          call.done(st.broken);
          return;
        }
        // A read is answered at once from the durable state, even while an append is in
        // flight; a command waits its turn.
        if (st.phase == Phase::kReady && !call.command) {
          reply_read(self, call);
          return;
        }
        st.queue.push_back(std::move(call));
        pump(self);
      },
      [self](HistoryCall& call) {
        auto& st = self->state;
        if (st.phase == Phase::kBroken)
          call.done(st.broken);
        else if (st.phase == Phase::kRecovering)
          st.early_histories.push_back(std::move(call));
        else
          answer_history(self, call);
      },
      [self](Recovered& recovered) { on_recovered(self, recovered); },
      [self](AppendDone& done) { on_appended(self, done); },
      [self](stop_atom) {
        self->state.stop_requested = true;
        pump(self);
      },
      [self](idle_check_atom) {
        auto& st = self->state;
        if (st.phase != Phase::kRecovering && st.queue.empty() && !st.in_flight)
          self->send(st.directory, idle_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_room_actor(caf::local_actor* spawner, std::string name, caf::actor directory,
                            std::shared_ptr<RoomContext> context) {
  return spawner->spawn(room_actor, std::move(name), std::move(directory), std::move(context));
}

}  // namespace gh::room
