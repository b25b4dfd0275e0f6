#include "tools/ctl/token_admin.h"

#include <cstdlib>

#include "actors/system/secret.h"
#include "events/system_writer.h"

namespace gh::ctl {
namespace {

Status append_one(Journal& journal, const tokens::State& state, events::Envelope event,
                  const events::Cause& by) {
  std::vector<events::Envelope> events;
  events.push_back(std::move(event));
  auto result = write_and_wait(journal, tokens::kStream, state.version, by, std::move(events));
  return result.is_ok() ? Status::ok() : result.status();
}

}  // namespace

Result<tokens::State> load_tokens(const Journal& journal) {
  auto events = journal.read_stream(std::string(tokens::kStream), 1);
  if (!events) return events.status();
  return tokens::replay(*events);
}

Result<CreatedToken> create_token(Journal& journal, const std::string& name,
                                  const events::Cause& by) {
  auto state = load_tokens(journal);
  if (!state) return state.status();
  auto secret = secrets::new_secret();
  auto event = tokens::create(*state, name, secret.sha256);
  if (!event) return event.status();
  GH_RETURN_IF_ERROR(append_one(journal, *state, std::move(*event), by));
  return CreatedToken{name, std::move(secret.hex)};
}

Status revoke_token(Journal& journal, const std::string& name, const events::Cause& by) {
  auto state = load_tokens(journal);
  if (!state) return state.status();
  auto event = tokens::revoke(*state, name);
  if (!event) return event.status();
  return append_one(journal, *state, std::move(*event), by);
}

}  // namespace gh::ctl
