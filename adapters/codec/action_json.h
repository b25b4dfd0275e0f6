// The JSON views of scripted actions on the wire (HTTP /api/actions, the MQTT remote
// install's answer): docs/protocol.md "Scripted actions (Lua)". Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "actors/actions/action_model.h"

namespace gh::codec {

// {name, revision, enabled, disabled_reason (string or null), sha256 (hex),
//  installed_at, installed_by {kind,name,channel}} and, when `with_source`, source.
nlohmann::json to_json(const actions::Action& action, bool with_source);

// {version, at, topic, input, outcome ("replied"|"no_reply"|"error"|"budget_exceeded"|
//  "memory_exceeded"), output (string or null), error (string or null), instructions,
//  peak_memory_bytes, effects [..]}. Input and output are the payload bytes as text (invalid
//  UTF-8 becomes U+FFFD when serialized).
nlohmann::json to_json(const actions::Invocation& run);

// Lowercase hex of `bytes` ("ab01...").
std::string hex_of(const std::string& bytes);

}  // namespace gh::codec
