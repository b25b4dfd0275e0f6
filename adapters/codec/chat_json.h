// JSON views of the chat service's answers, for both wires: MQTT (chat/{op} replies and
// rooms/{room}/events) and HTTP (/api replies and event streams), so a client sees one
// vocabulary on both. Times are ISO-8601 UTC with milliseconds, or
// null; an empty optional string (the lobby's creator, client_msg_id) is null.
// Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "actors/chat/chat_service.h"

namespace gh::codec {

// {name, registered_at, roles, has_security_question}
nlohmann::json to_json(const chat::UserView& user);

// {user, token, expires_at, roles}: carries a credential, send it to its requester only.
nlohmann::json to_json(const chat::LoginResult& session);

// {name, creator (or null), created_at, members}
nlohmann::json to_json(const chat::RoomView& room);

// {room, id, author, text, posted_at, client_msg_id (or null), like_count, liked_by_viewer}
nlohmann::json to_json(const chat::MessageView& message);

// {messages: [newest first], next_before (or null when there is no older page)}
nlohmann::json to_json(const chat::HistoryView& page);

// {kind, room, version, user (or null), time, message (or null for joined/left)}. The
// message leaves out liked_by_viewer: an update goes to every viewer alike.
nlohmann::json to_json(const chat::RoomUpdate& update);

}  // namespace gh::codec
