#include "adapters/http/event_stream.h"

#include "adapters/codec/chat_json.h"
#include "adapters/codec/json_reply.h"

namespace gh::http {

std::string sse_frame(const chat::RoomUpdate& update) {
  // to_wire() escapes every control character, so the data is one line, as SSE needs.
  std::string frame = "id: " + std::to_string(update.version) + "\nevent: ";
  frame += chat::kind_name(update.kind);
  frame += "\ndata: ";
  frame += codec::to_wire(codec::to_json(update));
  frame += "\n\n";
  return frame;
}

void EventStreamHub::on_room_update(const chat::RoomUpdate& update) {
  const bool left = update.kind == chat::RoomUpdate::Kind::kLeft;
  hub_.publish(
      update.room, [&update] { return sse_frame(update); }, left ? update.user : "", "left");
}

}  // namespace gh::http
