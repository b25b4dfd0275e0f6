#include "adapters/codec/chat_json.h"

#include "adapters/codec/iso_time.h"

namespace gh::codec {
namespace {

nlohmann::json string_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

}  // namespace

nlohmann::json to_json(const chat::UserView& user) {
  return {{"name", user.name},
          {"registered_at", iso8601_or_null(user.registered_at_ms)},
          {"roles", user.roles},
          {"has_security_question", user.has_security_question}};
}

nlohmann::json to_json(const chat::LoginResult& session) {
  return {{"user", session.user},
          {"token", session.token},
          {"expires_at", iso8601_or_null(session.expires_at_ms)},
          {"roles", session.roles}};
}

nlohmann::json to_json(const chat::RoomView& room) {
  return {{"name", room.name},
          {"creator", string_or_null(room.creator)},
          {"created_at", iso8601_or_null(room.created_at_ms)},
          {"members", room.members}};
}

nlohmann::json to_json(const chat::MessageView& message) {
  return {{"room", message.room},
          {"id", message.id},
          {"author", message.author},
          {"text", message.text},
          {"posted_at", iso8601_or_null(message.posted_at_ms)},
          {"client_msg_id", string_or_null(message.client_msg_id)},
          {"like_count", message.like_count},
          {"liked_by_viewer", message.liked_by_viewer}};
}

nlohmann::json to_json(const chat::HistoryView& page) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& message : page.messages) messages.push_back(to_json(message));
  nlohmann::json next = nullptr;
  if (page.next_before_id != 0) next = page.next_before_id;
  return {{"messages", std::move(messages)}, {"next_before", std::move(next)}};
}

nlohmann::json to_json(const chat::RoomUpdate& update) {
  const bool about_message = update.kind != chat::RoomUpdate::Kind::kJoined &&
                             update.kind != chat::RoomUpdate::Kind::kLeft;
  nlohmann::json message = nullptr;
  if (about_message) {
    message = to_json(update.message);
    message.erase("liked_by_viewer");
  }
  return {{"kind", chat::kind_name(update.kind)},
          {"room", update.room},
          {"version", update.version},
          {"user", string_or_null(update.user)},
          {"time", iso8601_or_null(update.time_unix_ms)},
          {"message", std::move(message)}};
}

}  // namespace gh::codec
