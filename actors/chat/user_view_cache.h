#pragma once
// What ChatSystem::get_user() last read of each user, so that a legacy post, which names its
// sender in the payload, costs one actor call (the room's) instead of two. It is exactly as
// fresh as the user's actor: every durable event of a user's stream drops that user's entry
// before the event's append is answered (ChatSystem::note_durable, on the journal's writer
// thread), and a read that overlapped any drop is not kept, so an erased user is refused from
// the moment the erasure is acknowledged. In cluster mode it holds only users this node serves
// (another node's writes never reach note_durable here): ChatSystem reads the others from the
// log every time, and a hand-off clears it (forget_shard).
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "actors/chat/chat_service.h"

namespace gh::chat {

class UserViewCache {
 public:
  explicit UserViewCache(size_t capacity) : capacity_(capacity) {}

  std::optional<UserView> find(const std::string& name) const;
  // Taken before a read whose answer may be kept: keep() refuses it if anything was dropped
  // in between.
  uint64_t epoch() const;
  void keep(const std::string& name, const UserView& view, uint64_t read_at_epoch);
  void drop(const std::string& name);
  void clear();

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, UserView> views_;
  uint64_t epoch_ = 0;
  size_t capacity_;
};

}  // namespace gh::chat
