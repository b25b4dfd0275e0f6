#include "adapters/mqtt/broker_plugin/connected_clients.h"

namespace gh::broker {
namespace {

bool same_identity(const Authenticated& a, const Authenticated& b) {
  return a.identity.kind == b.identity.kind && a.identity.name == b.identity.name &&
         a.identity.key == b.identity.key;
}

}  // namespace

Status ConnectedClients::may_take(std::string_view client_id, const Authenticated& who) const {
  auto it = by_client_id_.find(std::string(client_id));
  if (it == by_client_id_.end()) return Status::ok();
  const Authenticated& holder = by_handle_.at(it->second).who;
  if (holder.identity.kind != Kind::kAnonymous && same_identity(holder, who)) return Status::ok();
  return unauthenticated("client id '" + std::string(client_id) +
                         "' is in use by another connection");
}

void ConnectedClients::add(const void* handle, std::string client_id, Authenticated who) {
  remove(handle);
  by_client_id_[client_id] = handle;
  by_handle_[handle] = Entry{std::move(client_id), std::move(who)};
}

void ConnectedClients::remove(const void* handle) {
  auto it = by_handle_.find(handle);
  if (it == by_handle_.end()) return;
  auto id = by_client_id_.find(it->second.client_id);
  // A takeover re-points the client id to the new handle before the old one disconnects.
  if (id != by_client_id_.end() && id->second == handle) by_client_id_.erase(id);
  by_handle_.erase(it);
}

const Authenticated* ConnectedClients::find(const void* handle) const {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &it->second.who;
}

std::vector<std::string> ConnectedClients::invalid(const IdentityTable& table,
                                                   int64_t now_ms) const {
  std::vector<std::string> out;
  for (const auto& [handle, entry] : by_handle_) {
    if (!table.still_valid(entry.who, now_ms)) out.push_back(entry.client_id);
  }
  return out;
}

}  // namespace gh::broker
