#include "events/cause.h"

#include <cstdlib>

namespace gh::events {

Cause make_cause(Cause::Kind kind, const std::string& name, const std::string& channel) {
  Cause cause;
  cause.set_kind(kind);
  if (!name.empty()) cause.set_name(name);
  if (!channel.empty()) cause.set_channel(channel);
  return cause;
}

Cause system_cause(const std::string& name) { return make_cause(Cause::SYSTEM, name, "system"); }

Cause user_cause(const std::string& name, const std::string& channel) {
  return make_cause(Cause::USER, name, channel);
}

Cause device_cause(const std::string& id) { return make_cause(Cause::DEVICE, id, "mqtt"); }

Cause token_cause(const std::string& token_name) {
  return make_cause(Cause::API_TOKEN, token_name, "http");
}

Cause operator_cause(const std::string& name) {
  const char* user = std::getenv("USER");
  const std::string who = !name.empty()                      ? name
                          : user != nullptr && *user != '\0' ? user
                                                             : "operator";
  return make_cause(Cause::OPERATOR, who, "tool");
}

Cause legacy_cause() { return make_cause(Cause::KIND_UNSPECIFIED, "", "legacy"); }

}  // namespace gh::events
