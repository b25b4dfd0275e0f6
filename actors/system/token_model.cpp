#include "actors/system/token_model.h"

#include "actors/system/secret.h"
#include "events/stream_name.h"

namespace gh::tokens {

Result<events::Envelope> create(const State& state, std::string_view name,
                                std::string_view sha256) {
  GH_RETURN_IF_ERROR(validate_id(name, "token name"));
  if (sha256.size() != kHashBytes)
    return invalid_argument("token hash must be " + std::to_string(kHashBytes) + " bytes");
  if (state.active.count(std::string(name)))
    return already_exists("token " + std::string(name) + " exists; revoke it first");
  events::Envelope envelope;
  envelope.mutable_api_token_created()->set_name(std::string(name));
  envelope.mutable_api_token_created()->set_sha256(std::string(sha256));
  return envelope;
}

Result<events::Envelope> revoke(const State& state, std::string_view name) {
  if (!state.active.count(std::string(name)))
    return not_found("no active token named " + std::string(name));
  events::Envelope envelope;
  envelope.mutable_api_token_revoked()->set_name(std::string(name));
  return envelope;
}

void apply(State& state, const events::Envelope& event) {
  if (event.has_api_token_created()) {
    const auto& created = event.api_token_created();
    // A second create of a name (never decided, but possible in a hand-made log) replaces
    // the first: the newest secret is the one handed out.
    state.active[created.name()] =
        Token{created.name(), created.sha256(), event.time_unix_ms(), event.cause()};
  } else if (event.has_api_token_revoked()) {
    state.active.erase(event.api_token_revoked().name());
  } else {
    return;
  }
  state.version = event.version();
}

State replay(const std::vector<events::Envelope>& events) {
  State state;
  for (const auto& event : events) apply(state, event);
  return state;
}

std::optional<std::string> find_by_hash(const State& state, std::string_view sha256) {
  std::optional<std::string> found;
  for (const auto& [name, token] : state.active)
    if (secrets::equal_hashes(token.sha256, sha256)) found = name;
  return found;
}

}  // namespace gh::tokens
