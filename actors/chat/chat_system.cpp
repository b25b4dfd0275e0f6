#include "actors/chat/chat_system.h"

#include <sodium.h>

#include <algorithm>

#include "actors/answer_once.h"
#include "actors/direct_routes.h"
#include "actors/directory.h"
#include "actors/room/room_snapshot.h"
#include "actors/user/user_rules.h"
#include "actors/user/user_snapshot.h"
#include "events/cause.h"
#include "events/clock.h"
#include "events/log.h"
#include "events/stream_name.h"
#include "events/utf8.h"
#include "snapshots/recover.h"

namespace gh::chat {
namespace {

// A token is a name, a dot and 64 hex digits; anything much longer is not one of ours and
// is refused before it is hashed or routed.
constexpr size_t kMaxTokenBytes = kMaxIdLength + 1 + 128;

using events::user_cause;

// The throttle's key of a caller's source: the channel keeps an HTTP address and an MQTT
// client id of the same text apart.
std::string source_key(const Caller& caller) { return caller.channel + ":" + caller.source; }

// MQTT client ids and legacy topics are chosen by the caller: one shared bucket bounds them.
bool shared_source(const Caller& caller) { return caller.channel != "http"; }

Status bad_session() { return unauthenticated("unknown, expired or ended session"); }

// Loads an entity's state: latest usable snapshot + tail when there is a store, else a full
// replay. Skipped snapshots are reported: they can be the first sign of damage.
template <class State, class Decode, class Make>
Result<State> load_state(const Journal& journal, const SnapshotStore* store,
                         const std::string& stream, Decode decode, Make make_empty) {
  auto apply_one = [](State& state, const Envelope& e) { apply(state, e); };
  if (!store) {
    auto events = journal.read_stream(stream, 1);
    if (!events) return events.status();
    State state = make_empty();
    for (const auto& e : *events) apply(state, e);
    return state;
  }
  auto recovered = recover<State>(journal, *store, stream, decode, apply_one, make_empty);
  if (!recovered) return recovered.status();
  for (const auto& why : recovered->skipped)
    log::warning("chat", "snapshot skipped", {{"stream", stream}, {"why", why}});
  return std::move(recovered->state);
}

UserView user_view(const user::State& s) {
  UserView v;
  v.name = s.name;
  v.registered_at_ms = s.registered_at_ms;
  v.roles.assign(s.roles.begin(), s.roles.end());
  v.has_security_question = !s.question.empty();
  return v;
}

Identity identity_of(const user::State& s, int64_t session_expires_at_ms) {
  Identity who;
  who.user = s.name;
  who.roles.assign(s.roles.begin(), s.roles.end());
  who.session_expires_at_ms = session_expires_at_ms;
  return who;
}

RoomView room_view(const room::State& s) {
  RoomView v;
  v.name = s.name;
  v.creator = s.creator;
  v.created_at_ms = s.created_at_ms;
  v.members = room::members(s);
  return v;
}

MessageView message_view(const room::State& s, const room::Message& m, const std::string& viewer) {
  MessageView v;
  v.room = s.name;
  v.id = m.id;
  v.author = room::shown_author(s, m.author);
  v.text = m.text;
  v.posted_at_ms = m.posted_at_ms;
  v.client_msg_id = m.client_msg_id;
  v.like_count = m.like_count();
  v.liked_by_viewer = !viewer.empty() && m.likes.count(viewer) > 0;
  return v;
}

Result<MessageView> find_message(const room::State& s, uint64_t id, const std::string& viewer) {
  const auto* m = s.find(id);
  if (!m) return not_found("no message " + std::to_string(id) + " (unknown or too old)");
  return message_view(s, *m, viewer);
}

Status check_room_name(const std::string& room) { return validate_id(room, "room name"); }

// A guess that failed: counts against the throttle like a wrong login password.
bool wrong_current_password(const Status& status) {
  return status.code() == Code::kPermissionDenied &&
         status.message() == user::kWrongCurrentPassword;
}

// The normalised answer, or why it cannot be one.
Result<std::string> normalised_answer(const std::string& answer) {
  if (answer.size() > user::kMaxAnswerBytes)
    return too_large("a security answer must be at most " + std::to_string(user::kMaxAnswerBytes) +
                     " bytes");
  if (!is_valid_utf8(answer)) return invalid_argument("a security answer must be UTF-8");
  auto normal = user::normalise_answer(answer);
  if (normal.empty()) return invalid_argument("a security answer must not be empty");
  return normal;
}

}  // namespace

ChatSystemOptions ChatSystemOptions::for_tests() {
  ChatSystemOptions options;
  options.argon2_ops = crypto_pwhash_OPSLIMIT_MIN;
  options.argon2_mem_bytes = crypto_pwhash_MEMLIMIT_MIN;
  options.throttle = ThrottleOptions::unlimited();
  return options;
}

ChatSystem::ChatSystem(caf::actor_system& system, Journal& journal, SnapshotStore* snapshots,
                       ChatSystemOptions options)
    : system_(system),
      journal_(journal),
      options_(std::move(options)),
      throttle_(std::make_shared<LoginThrottle>(options_.throttle)) {
  if (!options_.clock) options_.clock = unix_now_ms;
  pool_ = std::make_unique<BlockingPool>(options_.io_threads, options_.io_queue);
  hasher_ = std::make_unique<PasswordHasher>(HasherOptions{
      options_.argon2_ops, options_.argon2_mem_bytes, options_.hash_threads, options_.hash_queue});
  auto clock = options_.clock;

  users_ = std::make_shared<user::UserContext>();
  users_->journal = &journal_;
  users_->pool = pool_.get();
  users_->hasher = hasher_.get();
  users_->snapshot_every = snapshots ? options_.snapshot_every : 0;
  users_->clock = clock;
  users_->policy = options_.policy;
  users_->load = [&journal, snapshots](const std::string& name) -> Result<user::State> {
    return load_state<user::State>(
        journal, snapshots, user::user_stream(name),
        [&name](const snapshots::Snapshot& s) -> std::optional<user::State> {
          auto state = user::from_snapshot(s);
          if (state && state->name != name) return std::nullopt;
          return state;
        },
        [&name] {
          user::State state;
          state.name = name;
          return state;
        });
  };
  users_->save_snapshot = [snapshots, clock](const user::State& state) {
    if (snapshots) (void)snapshots->write(user::to_snapshot(state, clock()));
  };

  rooms_ = std::make_shared<room::RoomContext>();
  rooms_->journal = &journal_;
  rooms_->pool = pool_.get();
  rooms_->snapshot_every = snapshots ? options_.snapshot_every : 0;
  rooms_->clock = clock;
  rooms_->max_text_bytes = options_.max_text_bytes;
  rooms_->max_messages = options_.max_messages_in_memory;
  const size_t keep = options_.max_messages_in_memory;
  rooms_->load = [&journal, snapshots, keep](const std::string& name) -> Result<room::State> {
    return load_state<room::State>(
        journal, snapshots, room::room_stream(name),
        [&name, keep](const snapshots::Snapshot& s) -> std::optional<room::State> {
          auto state = room::from_snapshot(s, keep);
          if (state && state->name != name) return std::nullopt;
          if (state) state->max_messages = keep;
          return state;
        },
        [&name, keep] {
          room::State state;
          state.name = name;
          state.max_messages = keep;
          return state;
        });
  };
  rooms_->save_snapshot = [snapshots, clock](const room::State& state) {
    if (snapshots) (void)snapshots->write(room::to_snapshot(state, clock()));
  };
  rooms_->on_durable = [this](const room::State& state, const std::vector<Envelope>& written) {
    publish(state, written);
  };

  live_users_ = std::make_shared<std::atomic<size_t>>(0);
  live_rooms_ = std::make_shared<std::atomic<size_t>>(0);
  DirectoryOptions users;
  users.max_live = options_.max_live_actors;
  users.idle_timeout = options_.idle_timeout;
  users.live_count = live_users_;
  users.spawn = [context = users_](caf::local_actor* spawner, const std::string& id,
                                   const caf::actor& dir) {
    return user::spawn_user_actor(spawner, id, dir, context);
  };
  users.direct = user_routes_;
  user_directory_ = spawn_directory(system_, std::move(users));
  DirectoryOptions rooms;
  rooms.max_live = options_.max_live_actors;
  rooms.idle_timeout = options_.idle_timeout;
  rooms.live_count = live_rooms_;
  rooms.spawn = [context = rooms_](caf::local_actor* spawner, const std::string& id,
                                   const caf::actor& dir) {
    return room::spawn_room_actor(spawner, id, dir, context);
  };
  rooms.direct = room_routes_;
  room_directory_ = spawn_directory(system_, std::move(rooms));
}

ChatSystem::~ChatSystem() { shutdown(); }

void ChatSystem::shutdown() {
  if (stopped_.exchange(true)) return;
  {
    caf::scoped_actor self{system_};
    // Both directories at once; each answers when its actors are gone. User actors may be
    // waiting for hashes: the hasher runs until they are done.
    for (const auto& directory : {user_directory_, room_directory_})
      self->send(directory, shutdown_atom::value);
    for (int i = 0; i < 2; ++i) self->receive([](caf::ok_atom) {}, [](caf::error&) {});
  }
  hasher_->shutdown();
  // The pool drains queued recoveries, history reads and snapshot writes.
  pool_.reset();
}

void ChatSystem::add_listener(RoomListener* listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(listener);
}

void ChatSystem::publish(const room::State& state, const std::vector<Envelope>& written) {
  std::vector<RoomListener*> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = listeners_;
  }
  if (listeners.empty()) return;
  for (const auto& e : written) {
    RoomUpdate update;
    update.room = state.name;
    update.version = e.version();
    update.time_unix_ms = e.time_unix_ms();
    uint64_t message_id = 0;
    switch (e.event_case()) {
      case Envelope::kMessagePosted:
        update.kind = RoomUpdate::Kind::kPosted;
        update.user = e.message_posted().author();
        message_id = e.message_posted().message_id();
        break;
      case Envelope::kMessageLiked:
        update.kind = RoomUpdate::Kind::kLiked;
        update.user = e.message_liked().user();
        message_id = e.message_liked().message_id();
        break;
      case Envelope::kMessageLikedAnonymously:
        update.kind = RoomUpdate::Kind::kLiked;
        message_id = e.message_liked_anonymously().message_id();
        break;
      case Envelope::kMessageUnliked:
        update.kind = RoomUpdate::Kind::kUnliked;
        update.user = e.message_unliked().user();
        message_id = e.message_unliked().message_id();
        break;
      case Envelope::kMessageDeleted:
        update.kind = RoomUpdate::Kind::kDeleted;
        update.user = e.message_deleted().deleted_by();
        message_id = e.message_deleted().message_id();
        break;
      case Envelope::kRoomMemberJoined:
        update.kind = RoomUpdate::Kind::kJoined;
        update.user = e.room_member_joined().user();
        break;
      case Envelope::kRoomMemberLeft:
        update.kind = RoomUpdate::Kind::kLeft;
        update.user = e.room_member_left().user();
        break;
      default:
        continue;  // the lobby's creation, anonymisation: no update of their own
    }
    if (message_id != 0) {
      if (const auto* m = state.find(message_id)) {
        update.message = message_view(state, *m, "");
      } else {
        update.message.room = state.name;
        update.message.id = message_id;
      }
    }
    for (auto* listener : listeners) listener->on_room_update(update);
  }
}

Status ChatSystem::served(const std::string& stream) const {
  return options_.serves ? options_.serves(stream) : Status::ok();
}

void ChatSystem::call_user(const std::string& name, user::UserCall call) {
  if (stopped_) {
    call.done(unavailable("gatehouse is shutting down"));
    return;
  }
  if (auto status = served("user/" + name); !status.is_ok()) {
    call.done(status);
    return;
  }
  // A call that may write drops what get_user() kept of the user when it is answered (on the
  // user's actor, after any read queued before it kept its view). note_durable() drops it
  // earlier, when the events are durable, where the server wires it to the journal.
  if (!std::holds_alternative<user::ReadOp>(call.op) &&
      !std::holds_alternative<user::AuthenticateOp>(call.op)) {
    call.done = [views = user_views_, name,
                 done = std::move(call.done)](Result<user::UserReply> r) {
      views->drop(name);
      done(std::move(r));
    };
  }
  call.done = answer_once(std::move(call.done));
  user_routes_->send(user_directory_, name, caf::make_message(std::move(call)));
}

bool ChatSystem::served_elsewhere(const std::string& name) const {
  return served(user::user_stream(name)).code() == Code::kLeaseLost;
}

void ChatSystem::read_user_from_log(const std::string& name,
                                    std::function<void(Result<user::State>)> done) {
  if (stopped_) return done(unavailable("gatehouse is shutting down"));
  // The owner answers only once its events are committed, and every read here is a new
  // statement on the primary (read committed): it sees whatever the owner acknowledged.
  if (!pool_->submit([load = users_->load, name, done] { done(load(name)); }))
    done(unavailable("too many reads of users waiting: retry"));
}

void ChatSystem::call_room(const std::string& name, room::RoomCall call) {
  if (stopped_) {
    call.done(unavailable("gatehouse is shutting down"));
    return;
  }
  if (auto status = served("room/" + name); !status.is_ok()) {
    call.done(status);
    return;
  }
  call.done = answer_once(std::move(call.done));
  room_routes_->send(room_directory_, name, caf::make_message(std::move(call)));
}

// ---- users ----

Status ChatSystem::admit(const std::string& account, const Caller& caller) {
  const std::string source = source_key(caller);
  const int64_t wait = throttle_->admit({account, source, shared_source(caller)}, options_.clock());
  if (wait == 0) return Status::ok();
  users_->logins_failed++;
  return throttled(wait);
}

template <class T>
Callback<T> ChatSystem::report_to_throttle(const std::string& account, const Caller& caller,
                                           Callback<T> done) {
  return [throttle = throttle_, clock = options_.clock, account, source = source_key(caller),
          done = std::move(done)](Result<T> r) {
    if (r.is_ok())
      throttle->succeeded(account, source);
    else if (r.status().code() == Code::kUnauthenticated || wrong_current_password(r.status()))
      throttle->failed(account, source, clock());
    done(std::move(r));
  };
}

void ChatSystem::register_user(const std::string& name, const std::string& password,
                               const Caller& caller, Callback<UserView> done) {
  if (auto s = user::validate_user_name(name); !s.is_ok()) return done(s);
  if (auto s = user::validate_password(password); !s.is_ok()) return done(s);
  call_user(name, {user::RegisterOp{password}, user_cause(name, caller.channel),
                   [done = std::move(done)](Result<user::UserReply> r) {
                     if (!r) return done(r.status());
                     done(user_view(*r->state));
                   }});
}

void ChatSystem::login(const std::string& name, const std::string& password, const Caller& caller,
                       Callback<LoginResult> done) {
  // A name that can never be registered is refused without a hash: it is known to be
  // nobody's, so the time taken tells nothing.
  if (!user::validate_user_name(name).is_ok()) {
    users_->logins_failed++;
    return done(unauthenticated(std::string(user::kBadCredentials)));
  }
  if (password.size() > user::kMaxPasswordBytes)
    return done(too_large("a password must be at most " + std::to_string(user::kMaxPasswordBytes) +
                          " bytes"));
  // Before the hash, whether the user exists or not: the answer tells nothing either way.
  if (auto s = admit(name, caller); !s.is_ok()) return done(s);
  done = report_to_throttle(name, caller, std::move(done));
  call_user(name, {user::LoginOp{password}, user_cause(name, caller.channel),
                   [done = std::move(done)](Result<user::UserReply> r) {
                     if (!r) return done(r.status());
                     LoginResult result;
                     result.user = r->state->name;
                     result.token = std::move(r->token);
                     result.expires_at_ms = r->expires_at_ms;
                     result.roles.assign(r->state->roles.begin(), r->state->roles.end());
                     done(std::move(result));
                   }});
}

void ChatSystem::authenticate(const std::string& token, Callback<Identity> done) {
  auto name = user::token_user(token);
  if (token.size() > kMaxTokenBytes || !user::validate_user_name(name).is_ok())
    return done(bad_session());
  if (served_elsewhere(name)) {
    return read_user_from_log(name, [done = std::move(done), hash = sha256(token),
                                     clock = options_.clock](Result<user::State> state) {
      if (!state) return done(state.status());
      if (!user::session_valid(*state, hash, clock())) return done(bad_session());
      done(identity_of(*state, user::session_expiry(*state, hash)));
    });
  }
  call_user(name, {user::AuthenticateOp{sha256(token)}, user_cause(name),
                   [done = std::move(done)](Result<user::UserReply> r) {
                     if (!r) return done(r.status());
                     done(identity_of(*r->state, r->expires_at_ms));
                   }});
}

namespace {
Callback<user::UserReply> ack(Callback<Ack> done) {
  return [done = std::move(done)](Result<user::UserReply> r) {
    if (!r) return done(r.status());
    done(Ack{r->state->version});
  };
}
}  // namespace

void ChatSystem::logout(const std::string& token, Callback<Ack> done) {
  auto name = user::token_user(token);
  if (token.size() > kMaxTokenBytes || !user::validate_user_name(name).is_ok())
    return done(bad_session());
  call_user(name, {user::LogoutOp{sha256(token)}, user_cause(name), ack(std::move(done))});
}

void ChatSystem::logout_everywhere(const std::string& token, Callback<Ack> done) {
  auto name = user::token_user(token);
  if (token.size() > kMaxTokenBytes || !user::validate_user_name(name).is_ok())
    return done(bad_session());
  call_user(name, {user::LogoutOp{sha256(token), true}, user_cause(name), ack(std::move(done))});
}

void ChatSystem::change_password(const std::string& token, const std::string& old_password,
                                 const std::string& new_password, const Caller& caller,
                                 Callback<Ack> done) {
  auto name = user::token_user(token);
  if (token.size() > kMaxTokenBytes || !user::validate_user_name(name).is_ok())
    return done(bad_session());
  if (old_password.size() > user::kMaxPasswordBytes)
    return done(too_large("a password must be at most " + std::to_string(user::kMaxPasswordBytes) +
                          " bytes"));
  if (auto s = user::validate_password(new_password); !s.is_ok()) return done(s);
  if (auto s = admit(name, caller); !s.is_ok()) return done(s);
  done = report_to_throttle(name, caller, std::move(done));
  call_user(name, {user::ChangePasswordOp{sha256(token), old_password, new_password},
                   user_cause(name, caller.channel), ack(std::move(done))});
}

void ChatSystem::set_security_question(const std::string& user, const std::string& question,
                                       const std::string& answer, const Caller& caller,
                                       Callback<Ack> done) {
  if (auto s = user::validate_user_name(user); !s.is_ok()) return done(s);
  if (auto s = user::validate_question(question); !s.is_ok()) return done(s);
  auto normal = normalised_answer(answer);
  if (!normal) return done(normal.status());
  // The channel goes into the cause: the user model decides what "legacy" may do.
  call_user(user, {user::SetQuestionOp{question, std::move(*normal)},
                   user_cause(user, caller.channel), ack(std::move(done))});
}

void ChatSystem::set_own_security_question(const std::string& token, const std::string& password,
                                           const std::string& question, const std::string& answer,
                                           const Caller& caller, Callback<Ack> done) {
  auto name = user::token_user(token);
  if (token.size() > kMaxTokenBytes || !user::validate_user_name(name).is_ok())
    return done(bad_session());
  if (auto s = user::validate_question(question); !s.is_ok()) return done(s);
  auto normal = normalised_answer(answer);
  if (!normal) return done(normal.status());
  if (password.size() > user::kMaxPasswordBytes)
    return done(too_large("a password must be at most " + std::to_string(user::kMaxPasswordBytes) +
                          " bytes"));
  if (auto s = admit(name, caller); !s.is_ok()) return done(s);
  done = report_to_throttle(name, caller, std::move(done));
  call_user(name, {user::SetQuestionOp{question, std::move(*normal), sha256(token), password},
                   user_cause(name, caller.channel), ack(std::move(done))});
}

void ChatSystem::security_question(const std::string& user, Callback<std::string> done) {
  if (!user::validate_user_name(user).is_ok()) return done(user::no_question());
  if (served_elsewhere(user)) {
    return read_user_from_log(user, [done = std::move(done)](Result<user::State> state) {
      if (!state) return done(state.status());
      done(user::security_question(*state));
    });
  }
  call_user(user,
            {user::ReadOp{}, user_cause(user), [done = std::move(done)](Result<user::UserReply> r) {
               // An unknown user reads as one without a question.
               if (!r && r.status().code() == Code::kNotFound) return done(user::no_question());
               if (!r) return done(r.status());
               done(user::security_question(*r->state));
             }});
}

void ChatSystem::reset_password(const std::string& user, const std::string& answer,
                                const std::string& new_password, const Caller& caller,
                                Callback<Ack> done) {
  if (auto s = user::validate_user_name(user); !s.is_ok()) return done(s);
  if (auto s = user::validate_password(new_password); !s.is_ok()) return done(s);
  auto normal = normalised_answer(answer);
  if (!normal) return done(normal.status());
  if (auto s = admit(user, caller); !s.is_ok()) return done(s);
  done = report_to_throttle(user, caller, std::move(done));
  call_user(user, {user::ResetOp{std::move(*normal), new_password},
                   user_cause(user, caller.channel), ack(std::move(done))});
}

void ChatSystem::get_user(const std::string& name, Callback<UserView> done) {
  if (!user::validate_user_name(name).is_ok()) return done(not_found("no user named " + name));
  if (stopped_) return done(unavailable("gatehouse is shutting down"));
  // Kept views are dropped by this node's own writes of the user only: one that another node
  // serves is read from the log every time.
  if (served_elsewhere(name)) {
    return read_user_from_log(name, [done = std::move(done), name](Result<user::State> state) {
      if (!state) return done(state.status());
      if (!state->active()) return done(not_found("no user named " + name));
      done(user_view(*state));
    });
  }
  if (auto kept = user_views_->find(name)) return done(std::move(*kept));
  const uint64_t epoch = user_views_->epoch();
  call_user(name,
            {user::ReadOp{}, user_cause(name),
             [done = std::move(done), views = user_views_, name, epoch](Result<user::UserReply> r) {
               if (!r) return done(r.status());
               auto view = user_view(*r->state);
               views->keep(name, view, epoch);
               done(std::move(view));
             }});
}

Result<uint64_t> ChatSystem::user_number(const std::string& name) {
  if (!user::validate_user_name(name).is_ok()) return not_found("no user named " + name);
  auto first = journal_.read_stream(user::user_stream(name), 1, 1);
  if (!first) return first.status();
  if (first->empty() || !first->front().has_user_registered())
    return not_found("no user named " + name);
  return first->front().position();
}

// ---- rooms ----

void ChatSystem::room_command(const Identity& who, const std::string& room, room::Command command,
                              std::function<void(Result<room::RoomReply>)> done) {
  if (auto s = check_room_name(room); !s.is_ok()) return done(s);
  call_room(room, {std::move(command), user_cause(who.user), std::move(done)});
}

void ChatSystem::create_room(const Identity& who, const std::string& room,
                             Callback<RoomView> done) {
  room_command(who, room, room::Create{who.user},
               [done = std::move(done)](Result<room::RoomReply> r) {
                 if (!r) return done(r.status());
                 done(room_view(*r->state));
               });
}

Result<std::vector<std::string>> ChatSystem::list_rooms(const std::string& after, size_t limit) {
  std::vector<std::string> names;
  if (limit == 0) return names;
  auto status = journal_.list_streams("room/", [&](const std::string& stream, uint64_t) {
    auto name = stream.substr(5);
    if (name <= after) return true;
    names.push_back(std::move(name));
    return names.size() < limit;
  });
  if (!status.is_ok()) return status;
  // The lobby exists before its first event.
  const std::string lobby(room::kLobby);
  if (lobby > after && std::find(names.begin(), names.end(), lobby) == names.end()) {
    names.insert(std::lower_bound(names.begin(), names.end(), lobby), lobby);
    if (names.size() > limit) names.pop_back();
  }
  return names;
}

void ChatSystem::get_room(const std::string& room, Callback<RoomView> done) {
  if (auto s = check_room_name(room); !s.is_ok()) return done(s);
  call_room(room, {std::nullopt, {}, [done = std::move(done)](Result<room::RoomReply> r) {
                     if (!r) return done(r.status());
                     done(room_view(*r->state));
                   }});
}

void ChatSystem::join(const Identity& who, const std::string& room, Callback<RoomView> done) {
  room_command(who, room, room::Join{who.user},
               [done = std::move(done)](Result<room::RoomReply> r) {
                 if (!r) return done(r.status());
                 done(room_view(*r->state));
               });
}

void ChatSystem::leave(const Identity& who, const std::string& room, Callback<RoomView> done) {
  room_command(who, room, room::Leave{who.user},
               [done = std::move(done)](Result<room::RoomReply> r) {
                 if (!r) return done(r.status());
                 done(room_view(*r->state));
               });
}

void ChatSystem::post(const Identity& who, const std::string& room, const std::string& text,
                      const std::string& client_msg_id, Callback<MessageView> done) {
  room_command(
      who, room, room::Post{who.user, text, client_msg_id, options_.max_text_bytes},
      [done = std::move(done), author = who.user, client_msg_id](Result<room::RoomReply> r) {
        if (!r) return done(r.status());
        std::optional<uint64_t> id;
        for (const auto& e : *r->written)
          if (e.has_message_posted()) id = e.message_posted().message_id();
        // No event: a retry; the answer is the original message.
        if (!id) id = room::find_post(*r->state, author, client_msg_id);
        if (!id) return done(internal_error("the posted message is not in the room"));
        done(find_message(*r->state, *id, author));
      });
}

void ChatSystem::history(const Identity& who, const std::string& room, uint64_t before_id,
                         size_t limit, Callback<HistoryView> done) {
  if (auto s = check_room_name(room); !s.is_ok()) return done(s);
  if (stopped_) return done(unavailable("gatehouse is shutting down"));
  room::HistoryCall call;
  call.before_id = before_id;
  call.limit = limit;
  call.done = [done = std::move(done), viewer = who.user,
               room_name = room](Result<room::HistoryPage> page) {
    if (!page) return done(page.status());
    HistoryView view;
    room::State names;  // message_view() needs only the room's name here
    names.name = room_name;
    for (const auto& m : page->messages) {
      // history() has already replaced erased authors.
      auto v = message_view(names, m, viewer);
      view.messages.push_back(std::move(v));
    }
    view.next_before_id = page->next_before_id;
    done(std::move(view));
  };
  if (auto status = served("room/" + room); !status.is_ok()) {
    call.done(status);
    return;
  }
  call.done = answer_once(std::move(call.done));
  room_routes_->send(room_directory_, room, caf::make_message(std::move(call)));
}

void ChatSystem::like(const Identity& who, const std::string& room, uint64_t message_id,
                      Callback<MessageView> done) {
  room_command(who, room, room::Like{who.user, message_id},
               [done = std::move(done), message_id, viewer = who.user](Result<room::RoomReply> r) {
                 if (!r) return done(r.status());
                 done(find_message(*r->state, message_id, viewer));
               });
}

void ChatSystem::unlike(const Identity& who, const std::string& room, uint64_t message_id,
                        Callback<MessageView> done) {
  room_command(who, room, room::Unlike{who.user, message_id},
               [done = std::move(done), message_id, viewer = who.user](Result<room::RoomReply> r) {
                 if (!r) return done(r.status());
                 done(find_message(*r->state, message_id, viewer));
               });
}

void ChatSystem::like_anonymously(const std::string& room, uint64_t message_id,
                                  Callback<MessageView> done) {
  if (auto s = check_room_name(room); !s.is_ok()) return done(s);
  events::Cause cause;
  cause.set_kind(events::Cause::USER);
  cause.set_channel("legacy");
  call_room(room, {room::LikeAnonymously{message_id}, std::move(cause),
                   [done = std::move(done), message_id](Result<room::RoomReply> r) {
                     if (!r) return done(r.status());
                     done(find_message(*r->state, message_id, ""));
                   }});
}

void ChatSystem::delete_message(const Identity& who, const std::string& room, uint64_t message_id,
                                Callback<Ack> done) {
  room_command(who, room, room::Delete{who.user, message_id},
               [done = std::move(done)](Result<room::RoomReply> r) {
                 if (!r) return done(r.status());
                 done(Ack{r->state->version});
               });
}

void ChatSystem::note_durable(const Envelope& e) {
  constexpr std::string_view kUserStreams = "user/";
  const auto& stream = e.stream();
  if (stream.compare(0, kUserStreams.size(), kUserStreams) == 0)
    user_views_->drop(stream.substr(kUserStreams.size()));
}

void ChatSystem::forget_user(const std::string& name) {
  user_views_->drop(name);
  if (stopped_) return;
  user_routes_->evict(user_directory_, name);
}

void ChatSystem::forget_room(const std::string& name) {
  if (stopped_) return;
  room_routes_->evict(room_directory_, name);
}

void ChatSystem::forget_shard(uint32_t shard) {
  user_views_->clear();
  if (stopped_) return;
  caf::anon_send(user_directory_, evict_atom::value, shard);
  caf::anon_send(room_directory_, evict_atom::value, shard);
}

}  // namespace gh::chat
