#include "tools/ctl/token_admin.h"

#include <sodium.h>

#include <cstdlib>

namespace gh::ctl {
namespace {

Status append_one(Journal& journal, const tokens::State& state, events::Envelope event,
                  const events::Cause& by) {
  AppendRequest request;
  request.stream = std::string(tokens::kStream);
  request.expected_version = state.version;
  request.cause = by;
  request.events.push_back(std::move(event));
  auto result = journal.append_and_wait(std::move(request));
  return result.is_ok() ? Status::ok() : result.status();
}

}  // namespace

events::Cause operator_cause(const std::string& name) {
  events::Cause cause;
  cause.set_kind(events::Cause::OPERATOR);
  const char* user = std::getenv("USER");
  cause.set_name(!name.empty() ? name : user != nullptr && *user != '\0' ? user : "operator");
  cause.set_channel("tool");
  return cause;
}

Result<tokens::State> load_tokens(const Journal& journal) {
  auto events = journal.read_stream(std::string(tokens::kStream), 1);
  if (!events) return events.status();
  return tokens::replay(*events);
}

Result<CreatedToken> create_token(Journal& journal, const std::string& name,
                                  const events::Cause& by) {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialize");
  auto state = load_tokens(journal);
  if (!state) return state.status();
  unsigned char secret[16];
  randombytes_buf(secret, sizeof secret);
  char hex[2 * sizeof secret + 1];
  sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
  sodium_memzero(secret, sizeof secret);
  // The server hashes the bearer text it is given, so the hash is of the hex text.
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(digest.data()),
                     reinterpret_cast<const unsigned char*>(hex), 2 * sizeof secret);
  auto event = tokens::create(*state, name, digest);
  if (!event) return event.status();
  GH_RETURN_IF_ERROR(append_one(journal, *state, std::move(*event), by));
  return CreatedToken{name, std::string(hex, 2 * sizeof secret)};
}

Status revoke_token(Journal& journal, const std::string& name, const events::Cause& by) {
  auto state = load_tokens(journal);
  if (!state) return state.status();
  auto event = tokens::revoke(*state, name);
  if (!event) return event.status();
  return append_one(journal, *state, std::move(*event), by);
}

}  // namespace gh::ctl
