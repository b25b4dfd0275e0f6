// gatehousectl's chat verbs: users and rooms listed page by page, roles granted and revoked,
// users erased. Every write goes through the pure model's decide() and the journal with the
// expected version, so it is checked exactly as the server checks its own commands and is
// audited like them (a command id, and a Cause naming the operator). Writes need the store
// open read-write, i.e. the server stopped. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "actors/room/room_model.h"
#include "actors/user/user_model.h"
#include "events/event.pb.h"
#include "events/status.h"
#include "tools/ctl/store.h"

namespace gh::ctl {

// Calls `visit(stream, last_version)` for up to `limit` streams whose name starts with
// `prefix` ("user/") and whose id sorts after `after` (byte order; empty: from the first),
// in that order. Sets `*more` when further streams follow. Seeks straight to `after`, so a
// page costs the same anywhere in a long list. kDataLoss on a malformed key.
Status list_page(const Store& store, std::string_view prefix, std::string_view after, size_t limit,
                 const std::function<void(const std::string&, uint64_t)>& visit, bool* more);

// The user `name` recovered as the server would (newest usable snapshot + the events after
// it). kNotFound "no user named NAME" when the stream has no events; the journal's error.
Result<user::State> load_user(const Store& store, const std::string& name);

// The room `name`, recovered the same way; kNotFound "no room named NAME".
Result<room::State> load_room(const Store& store, const std::string& name);

struct RoleChange {
  bool written = false;  // false: the user already had (grant) or lacked (revoke) the role
  uint64_t version = 0;  // the user stream's version after the change
};

// Grants (`grant`) or revokes `role` to user `name`, appending UserRoleGranted /
// UserRoleRevoked caused by `by` under a fresh command id. kNotFound for an unknown user,
// kFailedPrecondition for an erased one, kInvalidArgument for a role not in
// user::kKnownRoles (grant; revoke also accepts a role the user holds), kConflict when
// someone else wrote the stream meanwhile, the journal's error otherwise.
Result<RoleChange> change_role(Store& store, const std::string& name, const std::string& role,
                               bool grant, const events::Cause& by, int64_t now_ms);

struct EraseReport {
  bool user_erased_now = false;         // false: the user stream already said UserErased
  uint64_t rooms_scanned = 0;           // room/ streams read
  std::vector<std::string> anonymised;  // rooms given RoomAuthorAnonymised by this run
  uint64_t already_anonymised = 0;      // rooms a previous run had done
  uint64_t snapshots_replaced = 0;      // streams whose older snapshots were replaced
  std::vector<std::string> failed;      // "room/x: data_loss: ...": re-run after fixing
  bool complete() const { return failed.empty(); }
};

// Erases user `name`: UserErased in user/NAME (hashes, sessions, question and roles gone
// from the state; the name never registers again), then RoomAuthorAnonymised in every
// room/ stream whose events name the user (creator, member, author, like, delete, or the
// cause), then replaces the snapshots of those streams that predate the erase (they still
// hold the hashes or the name). Idempotent: a re-run after an interruption writes only what
// the first run did not. A room that cannot be read or written is named in `failed` and the
// others are still done. `progress` (may be null) gets a line every 100 rooms.
// kNotFound for a name that never registered; the user stream's errors.
Result<EraseReport> erase_user(Store& store, const std::string& name, const events::Cause& by,
                               int64_t now_ms, std::ostream* progress);

// True when `event` (of a room stream) names user `name` in its body or its cause.
bool names_user(const Envelope& event, const std::string& name);

}  // namespace gh::ctl
