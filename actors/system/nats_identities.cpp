#include "actors/system/nats_identities.h"

#include <sodium.h>

#include "actors/system/nats_jwt.h"
#include "events/rendezvous.h"
#include "events/shard.h"

namespace gh::nats_identities {
namespace {

// BLAKE2b-256 of `purpose` NUL `name`, keyed with the account's seed: a user key nobody
// without the account seed can derive, distinct per purpose and name.
nkeys::KeyPair derived_user(const nkeys::KeyPair& account, std::string_view purpose,
                            const std::string& name) {
  std::string input(purpose);
  input.push_back('\0');
  input += name;
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(seed.data()), seed.size(),
                     reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                     reinterpret_cast<const unsigned char*>(account.seed.data()),
                     account.seed.size());
  auto key = nkeys::key_from_seed(nkeys::Kind::kUser, seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

std::string group_subject(uint32_t group, const std::string& subject) {
  return "shard-group." + std::to_string(group) + "." + subject;
}

}  // namespace

std::string subject_of_topic(const std::string& topic) {
  std::string out = topic;
  for (char& ch : out) {
    if (ch == '/')
      ch = '.';
    else if (ch == '+')
      ch = '*';
    else if (ch == '#')
      ch = '>';
  }
  return out;
}

std::map<std::string, std::string> group_mappings(const std::string& prefix, uint32_t groups) {
  const std::string p = subject_of_topic(prefix);
  std::map<std::string, std::string> out;
  for (const char* word : kDoorPublishes)
    out[p + ".devices.*." + word] = "shard-group.{{partition(" + std::to_string(groups) + ",1)}}." +
                                    p + ".devices.{{wildcard(1)}}." + word;
  return out;
}

nkeys::KeyPair door_user_key(const nkeys::KeyPair& account, const std::string& device_id) {
  return derived_user(account, "gatehouse door", device_id);
}

nkeys::KeyPair node_user_key(const nkeys::KeyPair& account, const std::string& node) {
  return derived_user(account, "gatehouse node", node);
}

std::string private_client_id_suffix(const nkeys::KeyPair& account) {
  const auto derived = derived_user(account, "gatehouse client ids", "");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    const auto byte = static_cast<uint8_t>(derived.seed[i]);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

nats_claims::Permissions door_permissions(const std::string& prefix, uint32_t groups,
                                          const std::string& device_id) {
  const std::string own = subject_of_topic(prefix) + ".devices." + device_id + ".";
  const uint32_t group = shards::group_of_shard(shards::shard_of_entity(device_id), groups);
  nats_claims::Permissions out;
  for (const char* word : kDoorPublishes) {
    out.publish.push_back(group_subject(group, own + word));
    out.publish.push_back(own + word);
  }
  for (const char* word : kDoorReads) out.subscribe.push_back(own + word);
  out.subscribe.push_back(subject_of_topic(prefix) + ".server.status");
  out.subscribe.push_back("$MQTT.sub.>");
  return out;
}

std::string door_jwt(const nkeys::KeyPair& account, const std::string& prefix, uint32_t groups,
                     const std::string& device_id, int64_t now_s) {
  const auto user = door_user_key(account, device_id);
  return nats_jwt::encode(account,
                          nats_claims::user_claims(user.public_text(), device_id,
                                                   door_permissions(prefix, groups, device_id)),
                          now_s);
}

std::string node_jwt(const nkeys::KeyPair& account, const std::string& node, int64_t now_s) {
  const auto user = node_user_key(account, node);
  return nats_jwt::encode(
      account, nats_claims::user_claims(user.public_text(), "gatehouse node " + node, std::nullopt),
      now_s);
}

nkeys::KeyPair chat_user_key(const nkeys::KeyPair& account, const std::string& user) {
  return derived_user(account, "gatehouse chat user", user);
}

nats_claims::Permissions chat_user_permissions(const std::string& prefix, const std::string& user) {
  const std::string p = subject_of_topic(prefix);
  nats_claims::Permissions out;
  out.publish.push_back(p + ".chat.*");
  // An MQTT subscription to PREFIX/inbox/{user}/# is two NATS subscriptions: the level itself
  // and everything below it.
  out.subscribe.push_back(p + ".inbox." + user);
  out.subscribe.push_back(p + ".inbox." + user + ".>");
  out.subscribe.push_back(p + ".rooms.*.events");
  out.subscribe.push_back(p + ".server.status");
  out.subscribe.push_back("$MQTT.sub.>");
  return out;
}

std::string chat_user_jwt(const nkeys::KeyPair& account, const std::string& prefix,
                          const std::string& user, int64_t now_s, int64_t expires_s) {
  if (user.empty() || user.find('.') != std::string::npos) return {};
  const auto key = chat_user_key(account, user);
  auto claims = nats_claims::user_claims(key.public_text(), "chat user " + user,
                                         chat_user_permissions(prefix, user));
  claims["exp"] = expires_s;  // NATS refuses the JWT from then on
  return nats_jwt::encode(account, std::move(claims), now_s);
}

}  // namespace gh::nats_identities
