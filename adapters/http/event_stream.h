// Live room updates for Server-Sent Events (GET /api/rooms/{room}/events).
//
// EventStreamHub is a chat::RoomListener over an SseHub (sse_hub.h: its bounds and stop
// rules) whose keys are room names: the chat service hands it every durable room update,
// and it queues the update, formatted once as an SSE frame, for each open stream of that
// room. A stream of a user who left the room ends after that frame (reason "left").
//
// Thread-safety: every method may be called from any thread. on_room_update() only takes a
// short lock and never blocks on a client. A Subscription must not outlive its hub.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "actors/chat/chat_service.h"
#include "adapters/http/sse_hub.h"
#include "events/status.h"

namespace gh::http {

// One SSE frame: "id: <version>\nevent: <kind>\ndata: <update_json>\n\n".
std::string sse_frame(const chat::RoomUpdate& update);

// One open stream of a room (its key() is the room).
using Subscription = SseStream;

class EventStreamHub : public chat::RoomListener {
 public:
  EventStreamHub(size_t max_streams, size_t max_buffered_bytes, size_t max_per_user = 0)
      : hub_(max_streams, max_buffered_bytes, "event streams", max_per_user) {}

  // A new stream of `room`'s updates for `user`, whose first frames are `initial`.
  // kUnavailable when max_streams are open or the hub has stopped; kFailedPrecondition when
  // `user` holds max_per_user streams.
  Result<std::shared_ptr<Subscription>> subscribe(const std::string& room, const std::string& user,
                                                  std::string initial) {
    return hub_.subscribe(room, user, std::move(initial));
  }
  // Queues `update` for every stream of its room; a stream of the user who left ends after
  // that frame.
  void on_room_update(const chat::RoomUpdate& update) override;
  // Ends every stream and refuses new ones. Idempotent.
  void stop() { hub_.stop(); }
  // Waits up to `limit` until every stream has been closed; true when none is open.
  bool wait_closed(std::chrono::milliseconds limit) { return hub_.wait_closed(limit); }
  // Streams open now.
  size_t open_streams() const { return hub_.open_streams(); }

 private:
  SseHub hub_;
};

}  // namespace gh::http
