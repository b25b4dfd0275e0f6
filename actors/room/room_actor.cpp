// The room entity in the shell (actors/entity_shell.h): its decide, apply and answers, and
// what only a room has -- history pages older than the state keeps, read from the log.
#include "actors/room/room_actor.h"

#include <algorithm>

#include "actors/entity_shell.h"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gh::entity::Recovered<gh::room::State>)

namespace gh::room {
namespace {

struct RoomEntity : entity::EntityDefaults {
  using State = room::State;
  using Call = RoomCall;
  using Context = RoomContext;
  struct Extra {
    std::vector<HistoryCall> early_histories;  // arrived during recovery
  };
  using Self = entity::Self<RoomEntity>;
  static constexpr const char* kKind = "room";
  // A busy room puts this many posts into one fsync.
  static constexpr size_t kMaxInFlight = 256;

  static std::string stream(const std::string& name) { return room_stream(name); }
  static State empty(const std::string& name, const Context& context) {
    State s;
    s.name = name;
    s.max_messages = context.max_messages;
    return s;
  }
  static void apply(State& state, const Envelope& e) { room::apply(state, e); }
  // A snapshot holds every message the room keeps (up to max_messages).
  static uint64_t snapshot_weight(const State& state) { return state.messages.size(); }
  static void fail(Call& call, const Status& status) { call.done(status); }
  static void describe(const Call& call, AppendRequest& request) { request.cause = call.cause; }

  static entity::Decision decide(Self* self, const State& ahead, Call& call) {
    auto& context = *self->state.context;
    if (!call.command) return entity::Decision::answer();
    // Configuration the model takes in the command.
    if (auto* post = std::get_if<Post>(&*call.command))
      post->max_text_bytes = context.max_text_bytes;
    return entity::Decision::of(room::decide(ahead, *call.command, context.clock()));
  }

  static void on_durable(Self* self, Call& call, const std::vector<Envelope>& written) {
    auto& st = self->state;
    const State& s = st.state;
    if (!call.command && !s.exists()) {
      call.done(not_found("no room named " + s.name));
      return;
    }
    call.done(RoomReply{&s, &written});
    if (written.empty()) return;
    for (const auto& e : written)
      if (e.has_message_posted()) ++st.context->posts;
    if (st.context->on_durable) st.context->on_durable(s, written);
  }

  static void on_recovered(Self* self) {
    auto& st = self->state;
    st.state.max_messages = st.context->max_messages;
    auto early = std::move(st.extra.early_histories);
    st.extra.early_histories.clear();
    for (auto& call : early) answer_history(self, call);
  }

  static void on_restart(Self* self, const Status& status) {
    for (auto& call : self->state.extra.early_histories) call.done(status);
    self->state.extra.early_histories.clear();
  }

  static caf::message_handler handlers(Self* self) {
    return {
        [self](HistoryCall& call) {
          auto& st = self->state;
          if (st.phase == entity::Phase::kBroken)
            call.done(st.broken);
          else if (st.phase == entity::Phase::kRecovering)
            st.extra.early_histories.push_back(std::move(call));
          else
            answer_history(self, call);
        },
    };
  }

  // A page from the durable state, completed from the log on the pool when it holds too few.
  static void answer_history(Self* self, HistoryCall& call) {
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
    bool queued = context->pool->submit([context, shared, stream, light = std::move(light),
                                         page = std::move(page), rest]() mutable {
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
};

}  // namespace

caf::actor spawn_room_actor(caf::local_actor* spawner, std::string name, caf::actor directory,
                            std::shared_ptr<RoomContext> context) {
  return entity::Shell<RoomEntity>::spawn(spawner, std::move(name), std::move(directory),
                                          std::move(context));
}

}  // namespace gh::room
