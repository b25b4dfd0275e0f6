#include "events/shard.h"

namespace gh::shards {

namespace {

template <class Word>
Word fnv1a(std::string_view data, Word basis, Word prime) {
  Word hash = basis;
  for (unsigned char byte : data) {
    hash ^= byte;
    hash *= prime;
  }
  return hash;
}

}  // namespace

uint32_t fnv1a32(std::string_view data) { return fnv1a<uint32_t>(data, 2166136261u, 16777619u); }

uint64_t fnv1a64(std::string_view data) {
  return fnv1a<uint64_t>(data, 14695981039346656037ull, 1099511628211ull);
}

uint32_t shard_of_entity(std::string_view entity_id) { return fnv1a32(entity_id) % kShardCount; }

uint32_t shard_of_stream(std::string_view stream) {
  const auto slash = stream.find('/');
  return shard_of_entity(slash == std::string_view::npos ? stream : stream.substr(slash + 1));
}

}  // namespace gh::shards
