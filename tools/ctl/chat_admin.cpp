#include "tools/ctl/chat_admin.h"

#include <sodium.h>

#include <algorithm>
#include <memory>

#include "actors/room/room_snapshot.h"
#include "actors/user/user_snapshot.h"
#include "events/keys.h"
#include "snapshots/recover.h"
#include "tools/ctl/replay.h"
#include "tools/ctl/snapshot_writer.h"

namespace gh::ctl {
namespace {

constexpr uint64_t kProgressEvery = 100;

// The erase's command id, the same in every run: a re-run after an interruption is the same
// command, and the journal answers a repeat from its record instead of writing twice.
std::string erase_command_id(const std::string& name) { return "gatehousectl-erase-" + name; }

// A role change is a new command each time (grant, revoke, grant again are three changes).
Result<std::string> fresh_command_id() {
  if (sodium_init() < 0) return internal_error("libsodium failed to initialize");
  unsigned char random[8];
  randombytes_buf(random, sizeof random);
  char hex[2 * sizeof random + 1];
  sodium_bin2hex(hex, sizeof hex, random, sizeof random);
  return "gatehousectl-" + std::string(hex);
}

Result<AppendResult> append(Store& store, const std::string& stream, uint64_t expected,
                            const std::string& command_id, const events::Cause& by,
                            std::vector<Envelope> events, int64_t now_ms) {
  AppendRequest request;
  request.stream = stream;
  request.expected_version = expected;
  request.command_id = command_id;
  request.cause = by;
  request.events = std::move(events);
  request.time_unix_ms = now_ms;
  return store.journal->append_and_wait(std::move(request));
}

// True when `stream` has a snapshot other than one at `version`: a copy of an older state.
Result<bool> has_older_snapshots(const Store& store, const std::string& stream, uint64_t version) {
  auto listing = store.snapshots->list(stream);
  if (!listing) return listing.status();
  if (!listing->corrupt.empty()) return true;
  for (const auto& s : listing->valid)
    if (s.version() != version) return true;
  return false;
}

// What one room's log says about the user being erased.
struct RoomScan {
  room::State state;
  uint64_t last_version = 0;
  bool mentioned = false;
  uint64_t anonymised_at = 0;  // the version of RoomAuthorAnonymised for the user; 0: none
};

Result<RoomScan> scan_room(const Store& store, const std::string& stream, const std::string& name) {
  RoomScan scan;
  scan.state = room::replay(entity_id(stream), {});
  auto status = for_each_event(*store.journal, stream, 1, [&](const Envelope& e) {
    room::apply(scan.state, e);
    scan.last_version = e.version();
    if (e.has_room_author_anonymised() && e.room_author_anonymised().user() == name)
      scan.anonymised_at = e.version();
    else if (!scan.mentioned && names_user(e, name))
      scan.mentioned = true;
    return true;
  });
  if (!status.is_ok()) return status;
  return scan;
}

// Anonymises `name` in one room when its log names them, then replaces the room's
// snapshots that predate that. Returns whether this call wrote the event.
Result<bool> anonymise_in(Store& store, const std::string& stream, const std::string& name,
                          const events::Cause& by, int64_t now_ms, EraseReport& report) {
  auto scan = scan_room(store, stream, name);
  if (!scan) return scan.status();
  bool written = false;
  if (scan->anonymised_at == 0) {
    if (!scan->mentioned) return false;
    auto events = room::decide(scan->state, room::AnonymiseAuthor{name}, now_ms);
    if (!events) return events.status();
    if (events->empty()) return false;
    auto appended = append(store, stream, scan->last_version, erase_command_id(name), by,
                           std::move(*events), now_ms);
    if (!appended) return appended.status();
    scan->anonymised_at = appended->last_version;
    scan->last_version = appended->last_version;
    written = !appended->duplicate;
  } else {
    ++report.already_anonymised;
  }
  // Snapshots taken before the anonymisation still show the user as author, member, liker.
  auto listing = store.snapshots->list(stream);
  if (!listing) return listing.status();
  bool stale = !listing->corrupt.empty();
  for (const auto& s : listing->valid) stale = stale || s.version() < scan->anonymised_at;
  if (stale) {
    GH_RETURN_IF_ERROR(
        replace_snapshots(*store.journal, *store.snapshots, *store.database, stream, now_ms));
    ++report.snapshots_replaced;
  }
  return written;
}

// list_page on a journal with no RocksDB underneath (PostgreSQL): its streams in order,
// skipping those up to `after`. Its list_streams is ordered bytewise too (the "C" collation).
Status list_page_of_journal(const Journal& journal, std::string_view prefix, std::string_view after,
                            size_t limit,
                            const std::function<void(const std::string&, uint64_t)>& visit,
                            bool* more) {
  const std::string first_after = std::string(prefix) + std::string(after);
  size_t listed = 0;
  return journal.list_streams(std::string(prefix), [&](const std::string& stream, uint64_t v) {
    if (!after.empty() && stream <= first_after) return true;
    if (listed == limit) {
      *more = true;
      return false;
    }
    visit(stream, v);
    ++listed;
    return true;
  });
}

}  // namespace

bool names_user(const Envelope& e, const std::string& name) {
  if (e.cause().kind() == events::Cause::USER && e.cause().name() == name) return true;
  switch (e.event_case()) {
    case Envelope::kRoomCreated:
      return e.room_created().creator() == name;
    case Envelope::kRoomMemberJoined:
      return e.room_member_joined().user() == name;
    case Envelope::kRoomMemberLeft:
      return e.room_member_left().user() == name;
    case Envelope::kMessagePosted:
      return e.message_posted().author() == name;
    case Envelope::kMessageLiked:
      return e.message_liked().user() == name;
    case Envelope::kMessageUnliked:
      return e.message_unliked().user() == name;
    case Envelope::kMessageDeleted:
      return e.message_deleted().deleted_by() == name;
    default:
      return false;
  }
}

Status list_page(const Store& store, std::string_view prefix, std::string_view after, size_t limit,
                 const std::function<void(const std::string&, uint64_t)>& visit, bool* more) {
  *more = false;
  if (!store.database)
    return list_page_of_journal(*store.journal, prefix, after, limit, visit, more);
  std::unique_ptr<rocksdb::Iterator> it(
      store.database->db()->NewIterator(rocksdb::ReadOptions(), store.database->events()));
  // Every key of stream S is S '\0' be64(version): seeking past S's largest possible key
  // lands on the first stream after S.
  if (after.empty())
    it->Seek(std::string(prefix));
  else
    it->Seek(keys::versioned(std::string(prefix) + std::string(after), UINT64_MAX));
  size_t listed = 0;
  while (it->Valid()) {
    auto parsed = keys::parse_versioned(it->key().ToStringView());
    if (!parsed) return data_loss("malformed event key in the events family");
    if (!parsed->stream.starts_with(prefix)) break;
    if (listed == limit) {
      *more = true;
      break;
    }
    std::string stream(parsed->stream);
    it->SeekForPrev(keys::versioned(stream, UINT64_MAX));
    if (!it->Valid()) break;
    auto last = keys::parse_versioned(it->key().ToStringView());
    visit(stream, last ? last->version : 0);
    ++listed;
    it->Seek(keys::versioned(stream, UINT64_MAX));
  }
  return from_rocksdb(it->status(), "listing " + std::string(prefix) + " streams");
}

Result<user::State> load_user(const Store& store, const std::string& name) {
  const auto stream = user::user_stream(name);
  auto recovered = recover<user::State>(
      *store.journal, *store.snapshots, stream,
      [](const snapshots::Snapshot& s) { return user::from_snapshot(s); }, user::apply,
      [&] { return user::replay(name, {}); });
  if (!recovered) return recovered.status();
  if (recovered->version == 0) return not_found("no user named " + name);
  // The stream's version, even if its last event were one the model ignores.
  recovered->state.version = recovered->version;
  return std::move(recovered->state);
}

Result<room::State> load_room(const Store& store, const std::string& name) {
  const auto stream = room::room_stream(name);
  auto recovered = recover<room::State>(
      *store.journal, *store.snapshots, stream,
      [](const snapshots::Snapshot& s) { return room::from_snapshot(s); }, room::apply,
      [&] { return room::replay(name, {}); });
  if (!recovered) return recovered.status();
  if (recovered->version == 0) return not_found("no room named " + name);
  recovered->state.version = recovered->version;
  return std::move(recovered->state);
}

Result<RoleChange> change_role(Store& store, const std::string& name, const std::string& role,
                               bool grant, const events::Cause& by, int64_t now_ms) {
  auto state = load_user(store, name);
  if (!state) return state.status();
  if (state->erased) return failed_precondition("user " + name + " was erased");
  user::Command command =
      grant ? user::Command(user::GrantRole{role}) : user::Command(user::RevokeRole{role});
  if (!grant && !state->roles.count(role) &&
      std::find(std::begin(user::kKnownRoles), std::end(user::kKnownRoles), role) ==
          std::end(user::kKnownRoles))
    return invalid_argument("unknown role '" + role + "'");
  auto events = user::decide(*state, command, now_ms);
  if (!events) return events.status();
  if (events->empty()) return RoleChange{false, state->version};
  auto id = fresh_command_id();
  if (!id) return id.status();
  auto appended =
      append(store, user::user_stream(name), state->version, *id, by, std::move(*events), now_ms);
  if (!appended) return appended.status();
  return RoleChange{true, appended->last_version};
}

Result<EraseReport> erase_user(Store& store, const std::string& name, const events::Cause& by,
                               int64_t now_ms, std::ostream* progress) {
  EraseReport report;
  auto state = load_user(store, name);
  if (!state) return state.status();
  if (!state->registered) return not_found("no user named " + name);
  const auto stream = user::user_stream(name);
  // The user first: from here on nobody can log in as them or register the name, whatever
  // happens to the rooms.
  auto events = user::decide(*state, user::Erase{}, now_ms);
  if (!events) return events.status();
  uint64_t version = state->version;
  if (!events->empty()) {
    auto appended =
        append(store, stream, version, erase_command_id(name), by, std::move(*events), now_ms);
    if (!appended) return appended.status();
    report.user_erased_now = !appended->duplicate;
    version = appended->last_version;
  }
  auto older = has_older_snapshots(store, stream, version);
  if (!older) return older.status();
  if (*older) {
    GH_RETURN_IF_ERROR(
        replace_snapshots(*store.journal, *store.snapshots, *store.database, stream, now_ms));
    ++report.snapshots_replaced;
  }

  std::vector<std::string> rooms;
  GH_RETURN_IF_ERROR(store.journal->list_streams("room/", [&](const std::string& s, uint64_t) {
    rooms.push_back(s);
    return true;
  }));
  for (const auto& room : rooms) {
    auto written = anonymise_in(store, room, name, by, now_ms, report);
    if (!written)
      report.failed.push_back(room + ": " + written.status().to_string());
    else if (*written)
      report.anonymised.push_back(room);
    ++report.rooms_scanned;
    if (progress && report.rooms_scanned % kProgressEvery == 0)
      *progress << "erase: " << report.rooms_scanned << " of " << rooms.size() << " rooms scanned, "
                << report.anonymised.size() << " anonymised\n"
                << std::flush;
  }
  return report;
}

}  // namespace gh::ctl
