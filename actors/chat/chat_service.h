// What the adapters (MQTT, HTTP, legacy) call to reach chat users and rooms. No CAF in
// this header: adapters stay cheap to compile and never touch actors or RocksDB. The
// implementation (chat_system.h) routes each call to the user's or room's actor through the
// directory; password hashing runs on its own bounded pool. Callbacks run on an actor's or a
// hashing thread and must not block.
//
// Every call that changes state answers only after its events are durable (a wrong password
// or answer excepted: its audit event may still be in flight, user_actor.h). Rejections use
// the codes of events/status.h: kInvalidArgument (bad name, text, id), kTooLarge,
// kAlreadyExists, kNotFound, kUnauthenticated (bad credentials or session: one message for
// an unknown user and a wrong password), kPermissionDenied (not a member, not the author,
// not an operator), kUnavailable (too many attempts: throttled(), with the time to wait;
// hashing queue full, shutting down: retry).
//
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace gh::chat {

template <class T>
using Callback = std::function<void(Result<T>)>;

// Who is calling, as established by authenticate() (or, for the legacy protocol only, by
// the adapter from a payload's user name after get_user()).
struct Identity {
  std::string user;
  std::vector<std::string> roles;  // sorted
  int64_t session_expires_at_ms = 0;
  bool has_role(std::string_view role) const {
    for (const auto& r : roles)
      if (r == role) return true;
    return false;
  }
};

// Where a call came from. The channel is recorded in the events' cause (a user registered
// over "legacy" is a legacy user); the source is what guessing is throttled by
// (login_throttle.h): HTTP the peer address, MQTT the requester's inbox client id, legacy
// the returnTopic.
struct Caller {
  std::string channel;  // "http", "mqtt", "legacy", "tool"
  std::string source;
};

// The answer to an attempt refused by the throttle: kUnavailable "too many attempts; retry
// in N s" (N >= 1, rounded up).
inline Status throttled(int64_t retry_after_ms) {
  const int64_t seconds = std::max<int64_t>(1, (retry_after_ms + 999) / 1000);
  return unavailable("too many attempts; retry in " + std::to_string(seconds) + " s");
}

// N of a throttled() status; 0 for any other status.
inline int64_t retry_after_seconds(const Status& status) {
  constexpr std::string_view kHead = "too many attempts; retry in ";
  if (status.code() != Code::kUnavailable) return 0;
  std::string_view m = status.message();
  if (m.substr(0, kHead.size()) != kHead) return 0;
  m.remove_prefix(kHead.size());
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(m.data(), m.data() + m.size(), seconds);
  if (ec != std::errc() || std::string_view(end, m.data() + m.size() - end) != " s") return 0;
  return seconds;
}

struct Ack {
  uint64_t version = 0;  // the stream's version after the call
};

struct LoginResult {
  std::string user;
  std::string token;  // opaque; only its SHA-256 is stored
  int64_t expires_at_ms = 0;
  std::vector<std::string> roles;
};

struct UserView {
  std::string name;
  int64_t registered_at_ms = 0;
  std::vector<std::string> roles;
  bool has_security_question = false;
};

struct MessageView {
  std::string room;
  uint64_t id = 0;     // per room: 1, 2, ...
  std::string author;  // "[erased]" for an erased user
  std::string text;
  int64_t posted_at_ms = 0;
  std::string client_msg_id;
  uint64_t like_count = 0;
  bool liked_by_viewer = false;  // the calling user likes it
};

struct HistoryView {
  std::vector<MessageView> messages;  // newest first
  uint64_t next_before_id = 0;        // pass as before_id for the next older page; 0: none
};

struct RoomView {
  std::string name;
  std::string creator;  // empty for the lobby
  int64_t created_at_ms = 0;
  std::vector<std::string> members;  // sorted
};

// A change in a room, published after it is durable: on MQTT rooms/{room}/events and to
// Server-Sent Events subscribers.
struct RoomUpdate {
  enum class Kind { kPosted, kLiked, kUnliked, kDeleted, kJoined, kLeft };
  Kind kind = Kind::kPosted;
  std::string room;
  uint64_t version = 0;  // the room stream's version of this change
  MessageView message;   // kPosted/kLiked/kUnliked/kDeleted: the message after it
  std::string user;      // who liked, unliked, deleted, joined or left
  int64_t time_unix_ms = 0;
};

// "posted", "liked", "unliked", "deleted", "joined", "left". Inline so that codecs can name
// updates without linking the service.
inline std::string_view kind_name(RoomUpdate::Kind kind) {
  switch (kind) {
    case RoomUpdate::Kind::kPosted:
      return "posted";
    case RoomUpdate::Kind::kLiked:
      return "liked";
    case RoomUpdate::Kind::kUnliked:
      return "unliked";
    case RoomUpdate::Kind::kDeleted:
      return "deleted";
    case RoomUpdate::Kind::kJoined:
      return "joined";
    case RoomUpdate::Kind::kLeft:
      return "left";
  }
  return "unknown";
}

class ChatService {
 public:
  virtual ~ChatService() = default;

  // ---- users ----
  // Name rules of user_rules.h, password of at least 8 characters. kAlreadyExists if taken.
  // The caller's channel is recorded: "legacy" makes a legacy user.
  virtual void register_user(const std::string& name, const std::string& password,
                             const Caller& caller, Callback<UserView> done) = 0;
  // kUnauthenticated with the same message and about the same time (one hash) for an
  // unknown user and a wrong password; throttled() before any hash when the caller's
  // source, the account or (account, source) has tried too much.
  virtual void login(const std::string& name, const std::string& password, const Caller& caller,
                     Callback<LoginResult> done) = 0;
  // The identity behind a session token; kUnauthenticated if unknown, expired or ended.
  virtual void authenticate(const std::string& token, Callback<Identity> done) = 0;
  virtual void logout(const std::string& token, Callback<Ack> done) = 0;
  // Ends every session of the user whose session `token` is (on every device);
  // kUnauthenticated if that session is unknown, expired or ended.
  virtual void logout_everywhere(const std::string& token, Callback<Ack> done) = 0;
  // Verifies `old_password` (throttled like a login; a wrong one is kPermissionDenied,
  // recorded as a failed login); every other session of the user ends, the one in `token`
  // stays. kUnauthenticated when the session is not live.
  virtual void change_password(const std::string& token, const std::string& old_password,
                               const std::string& new_password, const Caller& caller,
                               Callback<Ack> done) = 0;
  // Over the "legacy" channel (no session, no password) the user model allows only a first
  // question for a user registered over legacy and never for an operator (kPermissionDenied,
  // one message whatever the reason). Elsewhere the caller is trusted to be the user.
  virtual void set_security_question(const std::string& user, const std::string& question,
                                     const std::string& answer, const Caller& caller,
                                     Callback<Ack> done) = 0;
  // The user of the session in `token` sets their question, proving the current `password`
  // (the question opens a password reset, so a stolen session alone must not set one).
  // Throttled like a login; kUnauthenticated when the session is not live,
  // kPermissionDenied (user_model.h kWrongCurrentPassword) for a wrong password, which is
  // recorded as a failed login. No session is started or ended. Question and answer are
  // checked before any hash: kInvalidArgument, kTooLarge.
  virtual void set_own_security_question(const std::string& token, const std::string& password,
                                         const std::string& question, const std::string& answer,
                                         const Caller& caller, Callback<Ack> done) = 0;
  // kNotFound with one message when the user is unknown or has no question.
  virtual void security_question(const std::string& user, Callback<std::string> done) = 0;
  // Throttled like a login. kUnauthenticated with one message (user_model.h kBadAnswer) and
  // one hash for an unknown user, a user without a question and a wrong answer; a wrong
  // answer is recorded as a failed login; a reset ends every session of the user.
  virtual void reset_password(const std::string& user, const std::string& answer,
                              const std::string& new_password, const Caller& caller,
                              Callback<Ack> done) = 0;
  // kNotFound for an unknown or erased user.
  virtual void get_user(const std::string& name, Callback<UserView> done) = 0;
  // A stable positive number per registered user (the seed's senderId): the global
  // position of its registration. Read from the log.
  virtual Result<uint64_t> user_number(const std::string& name) = 0;

  // ---- rooms (the caller is authenticated: `who` comes from authenticate()) ----
  virtual void create_room(const Identity& who, const std::string& room,
                           Callback<RoomView> done) = 0;
  // Room names after `after` (exclusive), ascending, at most `limit`; the lobby always.
  virtual Result<std::vector<std::string>> list_rooms(const std::string& after, size_t limit) = 0;
  virtual void get_room(const std::string& room, Callback<RoomView> done) = 0;
  virtual void join(const Identity& who, const std::string& room, Callback<RoomView> done) = 0;
  virtual void leave(const Identity& who, const std::string& room, Callback<RoomView> done) = 0;
  // A retry with the same client_msg_id answers with the original message.
  virtual void post(const Identity& who, const std::string& room, const std::string& text,
                    const std::string& client_msg_id, Callback<MessageView> done) = 0;
  // Up to `limit` (1..100) messages with id < before_id (0: newest), newest first.
  virtual void history(const Identity& who, const std::string& room, uint64_t before_id,
                       size_t limit, Callback<HistoryView> done) = 0;
  virtual void like(const Identity& who, const std::string& room, uint64_t message_id,
                    Callback<MessageView> done) = 0;
  virtual void unlike(const Identity& who, const std::string& room, uint64_t message_id,
                      Callback<MessageView> done) = 0;
  // The legacy `like` topic names nobody: counted, not attributed.
  virtual void like_anonymously(const std::string& room, uint64_t message_id,
                                Callback<MessageView> done) = 0;
  virtual void delete_message(const Identity& who, const std::string& room, uint64_t message_id,
                              Callback<Ack> done) = 0;
};

// Receives every room update after it is durable. Implemented by the MQTT adapter and the
// HTTP adapter's event streams. Called from actor threads: must not block.
class RoomListener {
 public:
  virtual ~RoomListener() = default;
  virtual void on_room_update(const RoomUpdate& update) = 0;
};

}  // namespace gh::chat
