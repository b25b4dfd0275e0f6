// gatehousectl token create/list/revoke: appends to "system/tokens" through the journal
// (needs the store open read-write, i.e. the server stopped). A token is a random 128-bit
// secret shown once as 32 hex characters; only SHA-256 of that text is stored.
// Thread-compatible.
#pragma once

#include <string>

#include "actors/system/token_model.h"
#include "events/cause.h"
#include "events/journal.h"
#include "events/status.h"

namespace gh::ctl {

struct CreatedToken {
  std::string name;
  std::string secret;  // 32 lowercase hex characters: give it to the client, it is not stored
};

// The current tokens (replay of system/tokens); the journal's error otherwise.
Result<tokens::State> load_tokens(const Journal& journal);

// Creates token `name`: kInvalidArgument (bad name), kAlreadyExists, kConflict (a
// concurrent writer), or the journal's failure.
Result<CreatedToken> create_token(Journal& journal, const std::string& name,
                                  const events::Cause& by);

// Revokes token `name`: kNotFound when there is no such active token.
Status revoke_token(Journal& journal, const std::string& name, const events::Cause& by);

// The cause recorded for operator actions (events/cause.h): OPERATOR, `name` when given
// (--as), else $USER (or "operator"), channel "tool".
using events::operator_cause;

}  // namespace gh::ctl
