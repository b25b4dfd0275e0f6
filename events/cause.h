// Who caused an event (events::Cause), built one way everywhere: the kind, the name and
// the channel it came through. Every builder returns a fresh Cause; none reads a clock or
// the environment except operator_cause() (the operator's login name when none is given).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "events/event.pb.h"

namespace gh::events {

// A Cause of `kind` named `name` (may be empty) that came through `channel` (may be empty).
Cause make_cause(Cause::Kind kind, const std::string& name, const std::string& channel);

// gatehouse itself ("system" channel): timeouts, pruning, bootstrap; `name` says which part.
Cause system_cause(const std::string& name = "");
// A chat user, through `channel` ("mqtt", "http", "legacy"; empty: unspecified).
Cause user_cause(const std::string& name, const std::string& channel = "");
// A door speaking for itself over MQTT.
Cause device_cause(const std::string& id);
// An HTTP API token, by its name.
Cause token_cause(const std::string& token_name);
// gatehousectl on the operator's shell: `name`, else $USER, else "operator".
Cause operator_cause(const std::string& name = "");
// Nobody in particular through the seeds' unauthenticated legacy topics.
Cause legacy_cause();

}  // namespace gh::events
