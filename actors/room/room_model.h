// The chat room entity (stream room/<name>) as two pure functions: decide(state, command)
// -> events | rejection, and apply(state, event), plus the queries history() and members().
// No CAF, no I/O, no clock: time is an argument. Shared by the room actor, gatehousectl and
// the tests. Thread-compatible.
//
// The lobby always exists: a command for "lobby" whose stream has no RoomCreated yet emits
// one first (creator empty), so the log still says when the lobby began, and queries treat
// an uncreated lobby as an empty created room.
//
// Memory: the state holds only the newest `max_messages` messages (default 1000). Older ones
// stay in the log, where the room actor reads them for history pages beyond the state
// (HistoryPage::needs_log, history_from_log()). Messages no longer in the state cannot be
// liked, unliked or deleted, and a retried post whose original has left the state is a new
// post.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "events/event.pb.h"
#include "events/status.h"

namespace gh::room {

using events::Envelope;

inline constexpr std::string_view kLobby = "lobby";
// The author shown for messages of an erased user. Never a valid user name ('[' is not in
// the id alphabet), so it cannot be confused with one.
inline constexpr std::string_view kErasedAuthor = "[erased]";
inline constexpr size_t kDefaultMaxMessages = 1000;
inline constexpr size_t kDefaultMaxTextBytes = 4096;
inline constexpr size_t kMaxPageSize = 100;
inline constexpr size_t kMaxClientMsgIdBytes = 64;

struct Message {
  uint64_t id = 0;  // per room: 1, 2, ... in posting order
  std::string author;
  std::string text;  // empty once deleted
  int64_t posted_at_ms = 0;
  std::string client_msg_id;
  std::set<std::string> likes;   // user names
  uint64_t anonymous_likes = 0;  // likes without a user (legacy) or of erased users
  bool deleted = false;

  uint64_t like_count() const { return likes.size() + anonymous_likes; }
};

struct State {
  std::string name;  // the stream's name
  bool created = false;
  std::string creator;
  int64_t created_at_ms = 0;
  std::set<std::string> members;
  std::deque<Message> messages;  // the newest, oldest first, ids increasing
  uint64_t next_message_id = 1;
  std::set<std::string> anonymised;  // erased authors: shown as kErasedAuthor everywhere
  uint64_t version = 0;              // version of the last applied event
  int64_t updated_at_ms = 0;
  // Configuration, not history: how many messages apply() keeps. Not in snapshots.
  size_t max_messages = kDefaultMaxMessages;

  // The room exists: created, or the lobby.
  bool exists() const { return created || name == kLobby; }
  // The message with `id` if the state still holds it; nullptr otherwise.
  const Message* find(uint64_t id) const;
};

// ---- commands ----
struct Create {
  std::string creator;  // becomes the first member
};
struct Join {
  std::string user;
};
struct Leave {
  std::string user;
};
// A retry with the same (author, client_msg_id) as a message in the state writes nothing;
// find_post() then names the original. An empty client_msg_id is never a retry.
struct Post {
  std::string author;
  std::string text;
  std::string client_msg_id;
  size_t max_text_bytes = kDefaultMaxTextBytes;  // configuration
};
struct Like {
  std::string user;
  uint64_t message_id = 0;
};
struct Unlike {
  std::string user;
  uint64_t message_id = 0;
};
// The legacy `like` topic names no user: the like is counted, not attributed, so it can be
// neither repeated-checked nor taken back.
struct LikeAnonymously {
  uint64_t message_id = 0;
};
// Only the author may delete their message.
struct Delete {
  std::string user;
  uint64_t message_id = 0;
};
// Issued by the erase flow for every room of an erased user.
struct AnonymiseAuthor {
  std::string user;
};
using Command =
    std::variant<Create, Join, Leave, Post, Like, Unlike, LikeAnonymously, Delete, AnonymiseAuthor>;

// The events `command` produces against `state` (none when nothing changes: joining twice,
// leaving when not a member, liking twice, unliking without a like, deleting a deleted
// message, retrying a post, anonymising twice), or a rejection:
// - kInvalidArgument: bad room or user name, empty or non-UTF-8 text, bad client message id;
// - kTooLarge: text longer than max_text_bytes;
// - kAlreadyExists: Create of an existing room (the lobby always exists);
// - kNotFound: the room does not exist; the message is unknown, deleted or no longer in the
//   state (Like, Unlike, LikeAnonymously, Delete);
// - kPermissionDenied: posting or liking in a room one is not a member of (everybody may in
//   the lobby without joining, as the legacy chat had no rooms); deleting another's message.
Result<std::vector<Envelope>> decide(const State& state, const Command& command, int64_t now_ms);

// Folds one stored event into `state`, dropping the oldest messages beyond max_messages.
// Total: an event that does not concern rooms is ignored; never fails on replay.
void apply(State& state, const Envelope& event);

// The state after `events` from an empty state for room `name`.
State replay(std::string_view name, const std::vector<Envelope>& events,
             size_t max_messages = kDefaultMaxMessages);

// The id of the message `author` posted with `client_msg_id`, if the state holds it.
std::optional<uint64_t> find_post(const State& state, std::string_view author,
                                  std::string_view client_msg_id);

struct HistoryPage {
  std::vector<Message> messages;  // newest first; deleted ones skipped; authors as shown
  // When the page is short because older messages are only in the log: the actor reads
  // messages with ids below `log_before_id` from the log (folding in deletes and
  // anonymisations, see shown_author()) to fill the page.
  bool needs_log = false;
  uint64_t log_before_id = 0;
  // The `before_id` of the next older page when this one is full; 0 when it is not (no
  // older message, or needs_log: the actor continues from what it read).
  uint64_t next_before_id = 0;
};

// Up to `limit` (clamped to 1..kMaxPageSize) messages with id < `before_id` (0: from the
// newest), newest first, from what the state holds.
HistoryPage history(const State& state, uint64_t before_id, size_t limit);

// The page history() could not fill from the state: up to `limit` (clamped as there)
// messages with id < `before_id` (0: from the newest), newest first, folded from `log`, the
// room's events in stream order as the actor read them from the journal (from version 1 for
// a complete answer: likes and deletes of old messages come later in the log). Authors
// erased since are shown as kErasedAuthor. needs_log is set only when `log` starts after
// older messages. Cost: O(events in `log`), memory for the messages below `before_id`;
// fine for the rare deep page, an index would be the next step.
HistoryPage history_from_log(const State& state, const std::vector<Envelope>& log,
                             uint64_t before_id, size_t limit);

// The members, sorted by name. In the lobby only those who joined: everybody may post there
// without joining.
std::vector<std::string> members(const State& state);

// `author`, or kErasedAuthor when that user has been anonymised in this room.
std::string shown_author(const State& state, const std::string& author);

// "room/<name>"; the caller has validated `name`.
std::string room_stream(std::string_view name);

}  // namespace gh::room
