// What the adapters (MQTT, HTTP, legacy) call to reach chat users and rooms. No CAF in
// this header: adapters stay cheap to compile and never touch actors or RocksDB. The
// implementation (chat_system.h) routes each call to the user's or room's actor through the
// directory; password hashing runs on its own bounded pool. Callbacks run on an actor's or a
// hashing thread and must not block.
//
// Every call that changes state answers only after its events are durable. Rejections use
// the codes of events/status.h: kInvalidArgument (bad name, text, id), kTooLarge,
// kAlreadyExists, kNotFound, kUnauthenticated (bad credentials or session: one message for
// an unknown user and a wrong password), kPermissionDenied (locked account, not a member,
// not the author, not an operator), kUnavailable (hashing queue full, shutting down: retry).
//
// Thread-safety: all methods are safe from any thread.
#pragma once

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
  virtual void register_user(const std::string& name, const std::string& password,
                             Callback<UserView> done) = 0;
  // kUnauthenticated with the same message and about the same time for an unknown user and
  // a wrong password; kPermissionDenied (naming the unlock time) while locked.
  virtual void login(const std::string& name, const std::string& password,
                     Callback<LoginResult> done) = 0;
  // The identity behind a session token; kUnauthenticated if unknown, expired or ended.
  virtual void authenticate(const std::string& token, Callback<Identity> done) = 0;
  virtual void logout(const std::string& token, Callback<Ack> done) = 0;
  // Verifies `old_password` (a wrong one counts as a failed login); every other session of
  // the user ends, the one in `token` stays.
  virtual void change_password(const std::string& token, const std::string& old_password,
                               const std::string& new_password, Callback<Ack> done) = 0;
  // `only_if_unset`: refuse (kAlreadyExists) when a question is set already; the legacy
  // protocol, which has no sessions, may only set a first question.
  virtual void set_security_question(const std::string& user, const std::string& question,
                                     const std::string& answer, bool only_if_unset,
                                     Callback<Ack> done) = 0;
  // kNotFound when the user is unknown or has no question.
  virtual void security_question(const std::string& user, Callback<std::string> done) = 0;
  // A wrong answer counts as a failed login; a reset ends every session of the user.
  virtual void reset_password(const std::string& user, const std::string& answer,
                              const std::string& new_password, Callback<Ack> done) = 0;
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
