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

void ConnectedClients::add(const void* handle, Connection connection) {
  remove(handle);
  by_client_id_[connection.client_id] = handle;
  by_name_[connection.who.identity.name].insert(handle);
  by_handle_[handle] = std::move(connection);
}

void ConnectedClients::remove(const void* handle) {
  auto it = by_handle_.find(handle);
  if (it == by_handle_.end()) return;
  auto id = by_client_id_.find(it->second.client_id);
  // A takeover re-points the client id to the new handle before the old one disconnects.
  if (id != by_client_id_.end() && id->second == handle) by_client_id_.erase(id);
  auto named = by_name_.find(it->second.who.identity.name);
  if (named != by_name_.end()) {
    named->second.erase(handle);
    if (named->second.empty()) by_name_.erase(named);
  }
  by_handle_.erase(it);
}

const Connection* ConnectedClients::find(const void* handle) const {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &it->second;
}

Connection* ConnectedClients::find(const void* handle) {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &it->second;
}

std::vector<std::string> ConnectedClients::invalid(const IdentityTable& table, int64_t now_ms,
                                                   const Applied& applied) const {
  std::vector<std::string> out;
  auto check = [&](const Connection& c) {
    if (!table.still_valid(c.who, now_ms)) out.push_back(c.client_id);
  };
  if (applied.ends == Applied::Ends::kAll) {
    for (const auto& [handle, connection] : by_handle_) check(connection);
  } else if (applied.ends == Applied::Ends::kName) {
    if (auto named = by_name_.find(applied.name); named != by_name_.end())
      for (const void* handle : named->second) check(by_handle_.at(handle));
  }
  return out;
}

}  // namespace gh::broker
