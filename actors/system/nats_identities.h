// The NATS users gatehouse signs in cluster mode on NATS (docs/cluster.md, "Device identity
// on NATS"), with the account key of the operator's setup (nats_operator_setup.h):
//
// - a door's user: its nkey is derived from the account seed and the door id (BLAKE2b keyed
//   with the seed), so every JWT a door is ever given names the same user, and one
//   revocation entry of the account (that user, a time) refuses all of them issued before;
//   it may publish only its own device topics, as NATS maps them to its session group
//   (NATS checks publish permissions on the mapped subject), and the unmapped ones (NATS
//   publishes a last will unmapped); it may subscribe only its own command, status and
//   error topics, the server status, and "$MQTT.sub.>" (the delivery subjects of NATS' MQTT
//   for QoS 1 subscriptions, which an MQTT client cannot subscribe itself);
// - a gatehouse node's user: every subject (its groups' sessions, commands to every door);
// - a chat user's user (derived from the account seed and the user name): it may publish only
//   the chat requests PREFIX/chat/{op}, and subscribe only its own inbox PREFIX/inbox/{user}
//   (and below), the rooms' events, the server status and "$MQTT.sub.>"; its JWT expires
//   with the session it was issued with.
//
// Both are bearer JWTs for MQTT connections only: the JWT is the MQTT password.
// MQTT topics become NATS subjects with '/' -> '.'.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "actors/system/nats_claims.h"
#include "actors/system/nats_nkey.h"

namespace gh::nats_identities {

// The door topics' last levels a door publishes, and those it reads.
inline constexpr const char* kDoorPublishes[] = {"hello", "availability", "state", "stranger"};
inline constexpr const char* kDoorReads[] = {"command", "status", "error"};

// An MQTT topic (or filter) as a NATS subject: '/' -> '.', '+' -> '*', '#' -> '>'.
std::string subject_of_topic(const std::string& topic);

// The subject mappings of `prefix`'s device topics to their session group (of `groups`):
// PREFIX.devices.*.WORD -> shard-group.{{partition(G,1)}}.PREFIX.devices.{{wildcard(1)}}.WORD.
std::map<std::string, std::string> group_mappings(const std::string& prefix, uint32_t groups);

// The user key of door `device_id`, derived from `account` (same inputs, same key).
nkeys::KeyPair door_user_key(const nkeys::KeyPair& account, const std::string& device_id);
// The user key of gatehouse node `node`, derived likewise.
nkeys::KeyPair node_user_key(const nkeys::KeyPair& account, const std::string& node);

// 16 hex characters derived from `account` (the same on every node): the end of gatehouse's
// own MQTT client ids on NATS. NATS 2.9 lets any authenticated MQTT client use any client id,
// and a client connecting with an id in use pushes the other off: a door that knew a group
// session's client id could push gatehouse's session off. Without the account seed it cannot
// know it.
std::string private_client_id_suffix(const nkeys::KeyPair& account);

// What door `device_id` may publish and subscribe (the header above).
nats_claims::Permissions door_permissions(const std::string& prefix, uint32_t groups,
                                          const std::string& device_id);

// The bearer JWT door `device_id` connects with (its MQTT password), issued at `now_s`.
std::string door_jwt(const nkeys::KeyPair& account, const std::string& prefix, uint32_t groups,
                     const std::string& device_id, int64_t now_s);
// The bearer JWT of gatehouse node `node`: every subject.
std::string node_jwt(const nkeys::KeyPair& account, const std::string& node, int64_t now_s);

// The user key of chat user `user`, derived likewise.
nkeys::KeyPair chat_user_key(const nkeys::KeyPair& account, const std::string& user);
// What chat user `user` may publish and subscribe (the header above).
nats_claims::Permissions chat_user_permissions(const std::string& prefix, const std::string& user);
// The bearer JWT chat user `user` connects with (its MQTT password on NATS), issued at
// `now_s` and expiring at `expires_s` (Unix seconds: its session's end). Empty for a user
// name with '.', which NATS' MQTT refuses in a topic level (its inbox could not be named).
std::string chat_user_jwt(const nkeys::KeyPair& account, const std::string& prefix,
                          const std::string& user, int64_t now_s, int64_t expires_s);

}  // namespace gh::nats_identities
