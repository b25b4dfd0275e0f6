#include "events/shard.h"

namespace gh::shards {

uint32_t fnv1a32(std::string_view data) {
  uint32_t hash = 2166136261u;
  for (unsigned char byte : data) {
    hash ^= byte;
    hash *= 16777619u;
  }
  return hash;
}

uint32_t shard_of_entity(std::string_view entity_id) { return fnv1a32(entity_id) % kShardCount; }

uint32_t shard_of_stream(std::string_view stream) {
  const auto slash = stream.find('/');
  return shard_of_entity(slash == std::string_view::npos ? stream : stream.substr(slash + 1));
}

}  // namespace gh::shards
