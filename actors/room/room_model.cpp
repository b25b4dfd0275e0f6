#include "actors/room/room_model.h"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "actors/user/user_rules.h"
#include "events/stream_name.h"
#include "events/utf8.h"

namespace gh::room {
namespace {

using Events = std::vector<Envelope>;

Events one(Envelope e) {
  Events out;
  out.push_back(std::move(e));
  return out;
}

Envelope created(std::string_view creator) {
  Envelope e;
  e.mutable_room_created()->set_creator(std::string(creator));
  return e;
}

Envelope joined(const std::string& user) {
  Envelope e;
  e.mutable_room_member_joined()->set_user(user);
  return e;
}

Status no_room(const State& state) { return not_found("no room named " + state.name); }

Status no_message(uint64_t id) {
  return not_found("no message " + std::to_string(id) + " (unknown, deleted or too old)");
}

// Checks shared by every command that names a user acting in the room.
Status check_user(const State& state, const std::string& user) {
  GH_RETURN_IF_ERROR(user::validate_user_name(user));
  if (state.anonymised.count(user)) return permission_denied("user " + user + " was erased");
  return Status::ok();
}

// The legacy chat had one room and no membership: in the lobby everybody takes part.
Status check_participant(const State& state, const std::string& user) {
  GH_RETURN_IF_ERROR(check_user(state, user));
  if (state.name != kLobby && !state.members.count(user))
    return permission_denied(user + " is not a member of room " + state.name);
  return Status::ok();
}

// A message that can still be liked or deleted: in the state and not deleted.
Result<const Message*> live_message(const State& state, uint64_t id) {
  const Message* message = state.find(id);
  if (!message || message->deleted) return no_message(id);
  return message;
}

Result<Events> decide_create(const State& state, const Create& c) {
  GH_RETURN_IF_ERROR(validate_id(state.name, "room name"));
  if (state.exists()) return already_exists("room " + state.name + " exists");
  GH_RETURN_IF_ERROR(check_user(state, c.creator));
  Events out;
  out.push_back(created(c.creator));
  out.push_back(joined(c.creator));
  return out;
}

Result<Events> decide_join(const State& state, const Join& c) {
  GH_RETURN_IF_ERROR(check_user(state, c.user));
  if (state.members.count(c.user)) return Events{};
  return one(joined(c.user));
}

Result<Events> decide_leave(const State& state, const Leave& c) {
  if (!state.members.count(c.user)) return Events{};
  Envelope e;
  e.mutable_room_member_left()->set_user(c.user);
  return one(std::move(e));
}

Status validate_text(const Post& c) {
  if (c.text.empty()) return invalid_argument("a message needs text");
  if (c.text.size() > c.max_text_bytes)
    return too_large("a message must be at most " + std::to_string(c.max_text_bytes) + " bytes");
  // Protobuf would store invalid UTF-8 in a string field and then refuse to read it back.
  if (!is_valid_utf8(c.text)) return invalid_argument("a message must be UTF-8 text");
  if (c.client_msg_id.size() > kMaxClientMsgIdBytes || !is_valid_utf8(c.client_msg_id))
    return invalid_argument("a client message id must be at most " +
                            std::to_string(kMaxClientMsgIdBytes) + " bytes of UTF-8");
  return Status::ok();
}

Result<Events> decide_post(const State& state, const Post& c) {
  GH_RETURN_IF_ERROR(check_participant(state, c.author));
  GH_RETURN_IF_ERROR(validate_text(c));
  if (find_post(state, c.author, c.client_msg_id)) return Events{};
  Envelope e;
  auto* body = e.mutable_message_posted();
  body->set_message_id(state.next_message_id);
  body->set_author(c.author);
  body->set_text(c.text);
  body->set_client_msg_id(c.client_msg_id);
  return one(std::move(e));
}

Result<Events> decide_like(const State& state, const Like& c) {
  GH_RETURN_IF_ERROR(check_participant(state, c.user));
  auto message = live_message(state, c.message_id);
  if (!message) return message.status();
  if ((*message)->likes.count(c.user)) return Events{};
  Envelope e;
  e.mutable_message_liked()->set_message_id(c.message_id);
  e.mutable_message_liked()->set_user(c.user);
  return one(std::move(e));
}

Result<Events> decide_unlike(const State& state, const Unlike& c) {
  auto message = live_message(state, c.message_id);
  if (!message) return message.status();
  if (!(*message)->likes.count(c.user)) return Events{};
  Envelope e;
  e.mutable_message_unliked()->set_message_id(c.message_id);
  e.mutable_message_unliked()->set_user(c.user);
  return one(std::move(e));
}

Result<Events> decide_like_anonymously(const State& state, const LikeAnonymously& c) {
  auto message = live_message(state, c.message_id);
  if (!message) return message.status();
  Envelope e;
  e.mutable_message_liked_anonymously()->set_message_id(c.message_id);
  return one(std::move(e));
}

Result<Events> decide_delete(const State& state, const Delete& c) {
  const Message* message = state.find(c.message_id);
  if (!message) return no_message(c.message_id);
  if (message->author != c.user)
    return permission_denied("only its author may delete message " + std::to_string(c.message_id));
  if (message->deleted) return Events{};
  Envelope e;
  e.mutable_message_deleted()->set_message_id(c.message_id);
  e.mutable_message_deleted()->set_deleted_by(c.user);
  return one(std::move(e));
}

Result<Events> decide_anonymise(const State& state, const AnonymiseAuthor& c) {
  GH_RETURN_IF_ERROR(user::validate_user_name(c.user));
  if (state.anonymised.count(c.user)) return Events{};
  Envelope e;
  e.mutable_room_author_anonymised()->set_user(c.user);
  return one(std::move(e));
}

Result<Events> decide_command(const State& state, const Command& command) {
  return std::visit(
      [&](const auto& c) -> Result<Events> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, Create>) {
          return decide_create(state, c);
        } else if (!state.exists()) {
          return no_room(state);
        } else if constexpr (std::is_same_v<T, Join>) {
          return decide_join(state, c);
        } else if constexpr (std::is_same_v<T, Leave>) {
          return decide_leave(state, c);
        } else if constexpr (std::is_same_v<T, Post>) {
          return decide_post(state, c);
        } else if constexpr (std::is_same_v<T, Like>) {
          return decide_like(state, c);
        } else if constexpr (std::is_same_v<T, Unlike>) {
          return decide_unlike(state, c);
        } else if constexpr (std::is_same_v<T, LikeAnonymously>) {
          return decide_like_anonymously(state, c);
        } else if constexpr (std::is_same_v<T, Delete>) {
          return decide_delete(state, c);
        } else {
          return decide_anonymise(state, c);
        }
      },
      command);
}

// Ids increase along the deque, so a binary search finds one among a thousand quickly.
template <class Messages>
auto find_in(Messages& messages, uint64_t id) -> decltype(&messages.front()) {
  auto it = std::lower_bound(messages.begin(), messages.end(), id,
                             [](const Message& m, uint64_t wanted) { return m.id < wanted; });
  return it != messages.end() && it->id == id ? &*it : nullptr;
}

Message* find_mutable(State& state, uint64_t id) { return find_in(state.messages, id); }

void add_message(State& state, const events::MessagePosted& posted, int64_t at_ms) {
  Message message;
  message.id = posted.message_id();
  message.author = shown_author(state, posted.author());
  message.text = posted.text();
  message.posted_at_ms = at_ms;
  message.client_msg_id = posted.client_msg_id();
  state.next_message_id = std::max(state.next_message_id, posted.message_id() + 1);
  state.messages.push_back(std::move(message));
  const size_t keep = std::max<size_t>(1, state.max_messages);
  while (state.messages.size() > keep) state.messages.pop_front();
}

// An erased user's likes still count, but no longer say whose they were.
void anonymise(State& state, const std::string& user) {
  state.anonymised.insert(user);
  state.members.erase(user);
  for (auto& message : state.messages) {
    if (message.author == user) message.author = std::string(kErasedAuthor);
    if (message.likes.erase(user)) message.anonymous_likes++;
  }
}

}  // namespace

const Message* State::find(uint64_t id) const { return find_in(messages, id); }

Result<std::vector<Envelope>> decide(const State& state, const Command& command,
                                     int64_t /*now_ms*/) {
  auto result = decide_command(state, command);
  if (!result || result->empty() || state.created || state.name != kLobby) return result;
  // The lobby's first event: its creation goes first, so the log is complete on its own.
  Events out;
  out.push_back(created(""));
  for (auto& e : *result) out.push_back(std::move(e));
  return out;
}

void apply(State& state, const Envelope& e) {
  const int64_t at = e.time_unix_ms();
  switch (e.event_case()) {
    case Envelope::kRoomCreated:
      state.created = true;
      state.creator = e.room_created().creator();
      state.created_at_ms = at;
      break;
    case Envelope::kRoomMemberJoined:
      state.members.insert(e.room_member_joined().user());
      break;
    case Envelope::kRoomMemberLeft:
      state.members.erase(e.room_member_left().user());
      break;
    case Envelope::kMessagePosted:
      add_message(state, e.message_posted(), at);
      break;
    case Envelope::kMessageLiked:
      if (auto* m = find_mutable(state, e.message_liked().message_id())) {
        if (state.anonymised.count(e.message_liked().user()))
          m->anonymous_likes++;
        else
          m->likes.insert(e.message_liked().user());
      }
      break;
    case Envelope::kMessageUnliked:
      if (auto* m = find_mutable(state, e.message_unliked().message_id()))
        m->likes.erase(e.message_unliked().user());
      break;
    case Envelope::kMessageLikedAnonymously:
      if (auto* m = find_mutable(state, e.message_liked_anonymously().message_id()))
        m->anonymous_likes++;
      break;
    case Envelope::kMessageDeleted:
      if (auto* m = find_mutable(state, e.message_deleted().message_id())) {
        m->deleted = true;
        m->text.clear();
        m->likes.clear();
        m->anonymous_likes = 0;
      }
      break;
    case Envelope::kRoomAuthorAnonymised:
      anonymise(state, e.room_author_anonymised().user());
      break;
    default:
      return;  // not a room event: ignored, version untouched
  }
  state.version = e.version();
  state.updated_at_ms = at;
}

State replay(std::string_view name, const std::vector<Envelope>& events, size_t max_messages) {
  State state;
  state.name = std::string(name);
  state.max_messages = max_messages;
  for (const auto& e : events) apply(state, e);
  return state;
}

std::optional<uint64_t> find_post(const State& state, std::string_view author,
                                  std::string_view client_msg_id) {
  if (client_msg_id.empty()) return std::nullopt;
  for (auto it = state.messages.rbegin(); it != state.messages.rend(); ++it)
    if (it->client_msg_id == client_msg_id && it->author == author) return it->id;
  return std::nullopt;
}

HistoryPage history(const State& state, uint64_t before_id, size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxPageSize);
  const uint64_t before = before_id == 0 ? std::numeric_limits<uint64_t>::max() : before_id;
  HistoryPage page;
  for (auto it = state.messages.rbegin(); it != state.messages.rend(); ++it) {
    if (it->id >= before || it->deleted) continue;
    page.messages.push_back(*it);
    page.messages.back().author = shown_author(state, it->author);
    if (page.messages.size() == limit) {
      page.next_before_id = it->id > 1 ? it->id : 0;
      return page;
    }
  }
  // The state ran out: anything older than its oldest message is only in the log.
  const uint64_t oldest_held =
      state.messages.empty() ? state.next_message_id : state.messages.front().id;
  const uint64_t bound = std::min(before, oldest_held);
  if (bound > 1) {
    page.needs_log = true;
    page.log_before_id = bound;
  }
  return page;
}

HistoryPage history_from_log(const State& state, const std::vector<Envelope>& log,
                             uint64_t before_id, size_t limit) {
  State older;
  older.name = state.name;
  older.max_messages = std::numeric_limits<size_t>::max();
  // Messages below this id exist somewhere: if `log` holds none of them, the page says so.
  older.next_message_id =
      before_id == 0 ? state.next_message_id : std::min(before_id, state.next_message_id);
  for (const auto& e : log) {
    // Newer messages are what the state already answered; skipping them bounds the memory.
    if (e.has_message_posted() && before_id != 0 && e.message_posted().message_id() >= before_id)
      continue;
    apply(older, e);
  }
  older.anonymised.insert(state.anonymised.begin(), state.anonymised.end());
  return history(older, before_id, limit);
}

std::vector<std::string> members(const State& state) {
  return {state.members.begin(), state.members.end()};
}

std::string shown_author(const State& state, const std::string& author) {
  return state.anonymised.count(author) ? std::string(kErasedAuthor) : author;
}

std::string room_stream(std::string_view name) { return "room/" + std::string(name); }

}  // namespace gh::room
