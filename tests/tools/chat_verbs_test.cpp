// gatehousectl's chat verbs through run(), against real stores in temporary directories whose
// user and room events were decided by the pure models, as the server decides them: state and
// events of users and rooms (never a hash), roles, erase, snapshots and verify, list pages.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <sstream>

#include "actors/room/room_model.h"
#include "actors/room/room_snapshot.h"
#include "actors/user/user_model.h"
#include "actors/user/user_snapshot.h"
#include "events/keys.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "snapshots/snapshot_store.h"
#include "tests/events/temp_store.h"
#include "tools/ctl/cli.h"

namespace gh::ctl {
namespace {

using gh::testing::TempStore;

constexpr int64_t kT0 = 1763884800000;  // 2025-11-23T08:00:00Z
// Made-up hashes: the tool must never print them, whatever they look like.
const std::string kPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$UEFTU1dPUkQ";
const std::string kNewHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$TkVXUEFTUw";
const std::string kAnswerHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$QU5TV0VS";
const std::string kSession(32, 'S');
const std::string kSessionBase64 = "U1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1M=";

struct Outcome {
  int code;
  std::string out, err;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

events::Cause user_cause(const std::string& name) {
  events::Cause cause;
  cause.set_kind(events::Cause::USER);
  cause.set_name(name);
  cause.set_channel("mqtt");
  return cause;
}

class ChatVerbsTest : public ::testing::Test {
 protected:
  Outcome ctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--store", store_->path()});
    std::istringstream in(input);
    std::ostringstream out, err;
    int code = run(args, in, out, err);
    return {code, out.str(), err.str()};
  }

  // Decides `command` against the stream's replayed state with the model and appends what it
  // returns at the expected version, as the actor would.
  void user_does(const std::string& name, const user::Command& command, int64_t time,
                 const events::Cause& cause) {
    const auto stream = user::user_stream(name);
    auto history = store_->journal().read_stream(stream, 1);
    ASSERT_TRUE(history.is_ok());
    auto state = user::replay(name, *history);
    auto events = user::decide(state, command, time);
    ASSERT_TRUE(events.is_ok()) << events.status().to_string();
    append(stream, history->size(), std::move(*events), time, cause);
  }
  void user_does(const std::string& name, const user::Command& command, int64_t time) {
    user_does(name, command, time, user_cause(name));
  }

  void room_does(const std::string& room, const room::Command& command, int64_t time,
                 const std::string& by) {
    const auto stream = room::room_stream(room);
    auto history = store_->journal().read_stream(stream, 1);
    ASSERT_TRUE(history.is_ok());
    auto state = room::replay(room, *history);
    auto events = room::decide(state, command, time);
    ASSERT_TRUE(events.is_ok()) << events.status().to_string();
    append(stream, history->size(), std::move(*events), time, user_cause(by));
  }

  void append(const std::string& stream, uint64_t expected, std::vector<Envelope> events,
              int64_t time, const events::Cause& cause) {
    if (events.empty()) return;
    AppendRequest request;
    request.stream = stream;
    request.expected_version = expected;
    request.cause = cause;
    request.events = std::move(events);
    request.time_unix_ms = time;
    auto result = store_->journal().append_and_wait(std::move(request));
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  }

  // alice, bob and carol registered; alice logged in once and set a security question.
  // room/general: created by alice, bob joined; alice posted #1, bob #2; bob likes #1, alice
  // likes #2. room/random: bob alone. room/lobby: alice posted there without joining.
  // room/quiet: created by carol; alice joined and left again.
  void add_chat() {
    int64_t t = kT0;
    for (const char* name : {"alice", "bob", "carol"})
      user_does(name, user::Register{kPasswordHash}, t += 1000);
    user_does("alice", user::LoginSucceeded{kSession, 0}, t += 1000);
    user_does("alice", user::SetSecurityQuestion{"First pet?", kAnswerHash}, t += 1000);
    room_does("general", room::Create{"alice"}, t += 1000, "alice");
    room_does("general", room::Join{"bob"}, t += 1000, "bob");
    room_does("general", room::Post{"alice", "hello \"all\"", "c1"}, t += 1000, "alice");
    room_does("general", room::Post{"bob", "hi alice ✓", "c2"}, t += 1000, "bob");
    room_does("general", room::Like{"bob", 1}, t += 1000, "bob");
    room_does("general", room::Like{"alice", 2}, t += 1000, "alice");
    room_does("random", room::Create{"bob"}, t += 1000, "bob");
    room_does("random", room::Post{"bob", "only bob here", ""}, t += 1000, "bob");
    room_does("lobby", room::Post{"alice", "lobby talk", ""}, t += 1000, "alice");
    room_does("quiet", room::Create{"carol"}, t += 1000, "carol");
    room_does("quiet", room::Join{"alice"}, t += 1000, "alice");
    room_does("quiet", room::Leave{"alice"}, t += 1000, "alice");
  }

  // The last event of `stream`.
  Envelope last(const std::string& stream) {
    auto events = store_->journal().read_stream(stream, 1);
    EXPECT_TRUE(events.is_ok() && !events->empty());
    return events->back();
  }

  // What the store holds, for before/after comparisons (store closed afterwards).
  std::string everything() {
    auto all = ctl({"events", "--all"});
    EXPECT_EQ(all.code, kExitOk) << all.err;
    return all.out;
  }

  void stop_server() { store_->close(); }
  void start_server() { store_->open(); }

  std::unique_ptr<TempStore> store_ = std::make_unique<TempStore>();
};

void expect_no_secret(const std::string& text) {
  EXPECT_FALSE(has(text, kPasswordHash)) << text;
  EXPECT_FALSE(has(text, kNewHash)) << text;
  EXPECT_FALSE(has(text, kAnswerHash)) << text;
  EXPECT_FALSE(has(text, "$argon2id")) << text;
  EXPECT_FALSE(has(text, kSession)) << text;
  EXPECT_FALSE(has(text, kSessionBase64)) << text;
  EXPECT_FALSE(has(text, "SSSSSSSS")) << text;
}

TEST_F(ChatVerbsTest, StateOfAUserShowsRolesAndSessionsButNoSecrets) {
  add_chat();
  auto alice = ctl({"state", "user/alice"});
  ASSERT_EQ(alice.code, kExitOk) << alice.err;
  EXPECT_TRUE(has(alice.out, "version: 3\nname: alice\nregistered: yes\n")) << alice.out;
  EXPECT_TRUE(has(alice.out, "registered_at: 2025-11-23T08:00:01.000Z\n")) << alice.out;
  EXPECT_TRUE(has(alice.out, "erased: no\nroles: -\nsessions: 1\n")) << alice.out;
  // LoginSucceeded with no expiry lasts the policy's 7 days from the login at T0+4s.
  EXPECT_TRUE(has(alice.out, "session: expires=2025-11-30T08:00:04.000Z")) << alice.out;
  EXPECT_TRUE(has(alice.out, "last_login: 2025-11-23T08:00:04.000Z\n")) << alice.out;
  EXPECT_TRUE(has(alice.out, "failed_logins: 0\nlocked_until: -\n")) << alice.out;
  EXPECT_TRUE(has(alice.out, "security_question: yes\n")) << alice.out;
  EXPECT_FALSE(has(alice.out, "First pet?")) << alice.out;
  expect_no_secret(alice.out);

  auto before_login = ctl({"state", "user/alice", "--at-version", "1"});
  EXPECT_TRUE(has(before_login.out, "sessions: 0\n")) << before_login.out;
  EXPECT_TRUE(has(before_login.out, "security_question: no\n")) << before_login.out;
  // Asked about a time after the session's end, the session is shown as expired.
  auto later = ctl({"state", "user/alice", "--at-time", "2025-12-01"});
  EXPECT_TRUE(has(later.out, "(expired)")) << later.out;
  auto show = ctl({"user", "show", "alice"});
  EXPECT_EQ(show.code, kExitOk) << show.err;
  EXPECT_TRUE(has(show.out, "name: alice\n")) << show.out;
  EXPECT_TRUE(has(ctl({"user", "show", "alice", "--at-version", "1"}).out, "sessions: 0\n"));

  auto unknown = ctl({"state", "user/nobody"});
  EXPECT_EQ(unknown.code, kExitFailed);
  EXPECT_TRUE(has(unknown.err, "no user named nobody")) << unknown.err;
  EXPECT_EQ(ctl({"user", "show", "nobody"}).code, kExitFailed);
  EXPECT_EQ(ctl({"user", "show", "-x"}).code, kExitUsage);
}

TEST_F(ChatVerbsTest, StateOfARoomShowsMembersNewestMessagesAndLikes) {
  add_chat();
  auto general = ctl({"state", "room/general"});
  ASSERT_EQ(general.code, kExitOk) << general.err;
  EXPECT_TRUE(has(general.out, "name: general\ncreated: yes\ncreator: alice\n")) << general.out;
  EXPECT_TRUE(has(general.out, "members: 2 alice bob\n")) << general.out;
  EXPECT_TRUE(has(general.out, "messages: 2 posted, 2 in the state\n")) << general.out;
  EXPECT_TRUE(has(general.out,
                  "message: #1 2025-11-23T08:00:08.000Z alice likes=1 (bob) "
                  "\"hello \\\"all\\\"\"\n"))
      << general.out;
  EXPECT_TRUE(has(general.out,
                  "message: #2 2025-11-23T08:00:09.000Z bob likes=1 (alice) "
                  "\"hi alice ✓\"\n"))
      << general.out;
  auto newest = ctl({"state", "room/general", "--messages", "1"});
  EXPECT_FALSE(has(newest.out, "message: #1 ")) << newest.out;
  EXPECT_TRUE(has(newest.out, "message: #2 ")) << newest.out;
  auto early = ctl({"state", "room/general", "--at-version", "4"});
  EXPECT_TRUE(has(early.out, "messages: 1 posted")) << early.out;
  EXPECT_TRUE(has(early.out, "#1 2025-11-23T08:00:08.000Z alice likes=0 ")) << early.out;
  auto lobby = ctl({"state", "room/lobby"});
  EXPECT_TRUE(has(lobby.out, "creator: -\n")) << lobby.out;
  EXPECT_TRUE(has(lobby.out, "members: 0\n")) << lobby.out;
  auto unknown = ctl({"state", "room/nowhere"});
  EXPECT_EQ(unknown.code, kExitFailed);
  EXPECT_TRUE(has(unknown.err, "no room named nowhere")) << unknown.err;
}

TEST_F(ChatVerbsTest, EventsShowChatReadablyAndNeverAHash) {
  add_chat();
  user_does("alice", user::ChangePassword{kNewHash, kSession}, kT0 + 60000);
  user_does("alice", user::Logout{kSession}, kT0 + 61000);
  auto lines_out = ctl({"events", "user/alice"});
  ASSERT_EQ(lines_out.code, kExitOk) << lines_out.err;
  expect_no_secret(lines_out.out);
  EXPECT_TRUE(
      has(lines_out.out, "by=user:alice/mqtt user_registered { password_hash: [redacted] }"))
      << lines_out.out;
  EXPECT_TRUE(has(lines_out.out,
                  "user_logged_in { expires_at_unix_ms: 1764489604000 "
                  "session_sha256: [redacted] }"))
      << lines_out.out;
  EXPECT_TRUE(has(lines_out.out,
                  "user_security_question_set { question: \"First pet?\" "
                  "answer_hash: [redacted] }"))
      << lines_out.out;
  EXPECT_TRUE(has(lines_out.out,
                  "user_password_changed { password_hash: [redacted] kept_session_sha256: "
                  "[redacted] }"))
      << lines_out.out;
  auto room = ctl({"events", "room/general"});
  EXPECT_TRUE(has(room.out,
                  "message_posted { message_id: 2 author: \"bob\" text: \"hi alice ✓\" "
                  "client_msg_id: \"c2\" }"))
      << room.out;

  for (const auto& args : std::vector<std::vector<std::string>>{{"events", "user/alice", "--json"},
                                                                {"events", "--all", "--json"}}) {
    auto json = ctl(args);
    ASSERT_EQ(json.code, kExitOk) << json.err;
    expect_no_secret(json.out);
    EXPECT_TRUE(has(json.out, "\"user_registered\":{\"password_hash\":\"[redacted]\"}"))
        << json.out;
    EXPECT_TRUE(has(json.out,
                    "\"user_logged_in\":{\"expires_at_unix_ms\":\"1764489604000\","
                    "\"session_sha256\":\"[redacted]\"}"))
        << json.out;
    // Every line is still one JSON object.
    std::istringstream each(json.out);
    for (std::string line; std::getline(each, line);) {
      google::protobuf::Struct parsed;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok()) << line;
    }
  }
}

TEST_F(ChatVerbsTest, GrantAndRevokeAreAuditedInTheUserStream) {
  add_chat();
  stop_server();
  auto granted = ctl({"user", "grant", "bob", "operator", "--as", "root"});
  ASSERT_EQ(granted.code, kExitOk) << granted.err;
  EXPECT_EQ(granted.out, "user bob: role operator granted (user/bob version 2)\n");
  auto again = ctl({"user", "grant", "bob", "operator"});
  EXPECT_EQ(again.code, kExitOk) << again.err;
  EXPECT_EQ(again.out, "user bob already has role operator; nothing written\n");
  EXPECT_TRUE(has(ctl({"state", "user/bob"}).out, "roles: operator\n"));
  EXPECT_TRUE(has(ctl({"users"}).out, "bob v2 active roles=operator\n"));

  start_server();
  auto event = last("user/bob");
  EXPECT_EQ(event.version(), 2u);
  ASSERT_TRUE(event.has_user_role_granted());
  EXPECT_EQ(event.user_role_granted().role(), "operator");
  EXPECT_EQ(event.cause().kind(), events::Cause::OPERATOR);
  EXPECT_EQ(event.cause().name(), "root");
  EXPECT_EQ(event.cause().channel(), "tool");
  EXPECT_TRUE(event.command_id().starts_with("gatehousectl-")) << event.command_id();
  stop_server();

  auto revoked = ctl({"user", "revoke", "bob", "operator"});
  ASSERT_EQ(revoked.code, kExitOk) << revoked.err;
  EXPECT_EQ(revoked.out, "user bob: role operator revoked (user/bob version 3)\n");
  EXPECT_EQ(ctl({"user", "revoke", "bob", "operator"}).out,
            "user bob does not have role operator; nothing written\n");
  // Granted again after a revoke: a new command, not a repeat of the first grant.
  EXPECT_EQ(ctl({"user", "grant", "bob", "operator"}).out,
            "user bob: role operator granted (user/bob version 4)\n");
  start_server();
  auto revoke = *store_->journal().read_stream("user/bob", 3, 1);
  EXPECT_TRUE(revoke[0].has_user_role_revoked());
  const char* user = std::getenv("USER");
  EXPECT_EQ(revoke[0].cause().name(), user && *user ? user : "operator");
  EXPECT_NE(last("user/bob").command_id(), event.command_id());
  stop_server();

  auto role = ctl({"user", "grant", "bob", "admin"});
  EXPECT_EQ(role.code, kExitUsage);
  EXPECT_TRUE(has(role.err, "unknown role 'admin' (known roles: operator)")) << role.err;
  auto revoke_unknown = ctl({"user", "revoke", "bob", "admin"});
  EXPECT_EQ(revoke_unknown.code, kExitFailed);
  EXPECT_TRUE(has(revoke_unknown.err, "unknown role 'admin'")) << revoke_unknown.err;
  auto nobody = ctl({"user", "grant", "nobody", "operator"});
  EXPECT_EQ(nobody.code, kExitFailed);
  EXPECT_TRUE(has(nobody.err, "not_found: no user named nobody")) << nobody.err;
  EXPECT_EQ(ctl({"user", "grant", "bob"}).code, kExitUsage);
  EXPECT_EQ(ctl({"user", "grant", "bob", "operator", "--as", "bad name"}).code, kExitUsage);
  EXPECT_EQ(ctl({"user", "promote", "bob"}).code, kExitUsage);
}

TEST_F(ChatVerbsTest, EraseWritesUserErasedAndAnonymisesEveryRoomThatNamesTheUser) {
  add_chat();
  stop_server();
  auto erased = ctl({"user", "erase", "alice", "--yes", "--as", "dpo"});
  ASSERT_EQ(erased.code, kExitOk) << erased.err;
  EXPECT_EQ(erased.out,
            "user alice: erased\n"
            "anonymised in room/general\n"
            "anonymised in room/lobby\n"
            "anonymised in room/quiet\n"
            "erase: 4 rooms scanned, 3 anonymised now, 0 done before, 0 streams re-snapshotted\n");

  start_server();
  auto user_event = last("user/alice");
  EXPECT_TRUE(user_event.has_user_erased());
  EXPECT_EQ(user_event.cause().kind(), events::Cause::OPERATOR);
  EXPECT_EQ(user_event.cause().name(), "dpo");
  EXPECT_EQ(user_event.command_id(), "gatehousectl-erase-alice");
  for (const char* room : {"room/general", "room/lobby", "room/quiet"}) {
    auto e = last(room);
    ASSERT_TRUE(e.has_room_author_anonymised()) << room;
    EXPECT_EQ(e.room_author_anonymised().user(), "alice");
    EXPECT_EQ(e.cause().name(), "dpo");
  }
  EXPECT_TRUE(last("room/random").has_message_posted());  // never named alice
  stop_server();

  auto general = ctl({"state", "room/general"});
  EXPECT_TRUE(has(general.out, "creator: [erased]\n")) << general.out;
  EXPECT_TRUE(has(general.out, "members: 1 bob\n")) << general.out;
  EXPECT_TRUE(has(general.out, "erased_authors: 1\n")) << general.out;
  EXPECT_TRUE(has(general.out, "#1 2025-11-23T08:00:08.000Z [erased] likes=1 (bob) "))
      << general.out;
  EXPECT_TRUE(has(general.out, "#2 2025-11-23T08:00:09.000Z bob likes=1 (+1 anonymous) "))
      << general.out;
  EXPECT_FALSE(has(general.out, "alice likes")) << general.out;
  EXPECT_TRUE(has(ctl({"state", "room/lobby"}).out, " [erased] likes=0 \"lobby talk\""));
  auto user = ctl({"state", "user/alice"});
  EXPECT_TRUE(has(user.out, "erased: yes\nroles: -\nsessions: 0\n")) << user.out;
  EXPECT_TRUE(has(user.out, "security_question: no\n")) << user.out;
  EXPECT_TRUE(has(ctl({"users"}).out, "alice v4 erased roles=-\n"));
  EXPECT_TRUE(has(ctl({"rooms"}).out, "general v8 members=1 messages=2 creator=[erased]\n"));

  // A second run writes nothing.
  const auto before = everything();
  auto rerun = ctl({"user", "erase", "alice", "--yes"});
  ASSERT_EQ(rerun.code, kExitOk) << rerun.err;
  EXPECT_EQ(rerun.out,
            "user alice: was already erased\n"
            "erase: 4 rooms scanned, 0 anonymised now, 3 done before, 0 streams re-snapshotted\n");
  EXPECT_EQ(everything(), before);
  // The erased user takes no roles.
  auto grant = ctl({"user", "grant", "alice", "operator"});
  EXPECT_EQ(grant.code, kExitFailed);
  EXPECT_TRUE(has(grant.err, "was erased")) << grant.err;
  EXPECT_EQ(ctl({"verify"}).code, kExitOk);
}

TEST_F(ChatVerbsTest, ASecondEraseCompletesWhatAnInterruptedOneDidNot) {
  add_chat();
  // The first run stopped after the user stream and one room.
  events::Cause by;
  by.set_kind(events::Cause::OPERATOR);
  by.set_name("root");
  by.set_channel("tool");
  user_does("alice", user::Erase{}, kT0 + 100000, by);
  room_does("general", room::AnonymiseAuthor{"alice"}, kT0 + 100000, "root");
  stop_server();
  auto completed = ctl({"user", "erase", "alice", "--yes"});
  ASSERT_EQ(completed.code, kExitOk) << completed.err;
  EXPECT_EQ(completed.out,
            "user alice: was already erased\n"
            "anonymised in room/lobby\n"
            "anonymised in room/quiet\n"
            "erase: 4 rooms scanned, 2 anonymised now, 1 done before, 0 streams re-snapshotted\n");
  start_server();
  EXPECT_TRUE(last("room/lobby").has_room_author_anonymised());
  EXPECT_EQ(store_->journal().stream_version("user/alice").value(), 4u);
  EXPECT_EQ(store_->journal().stream_version("room/general").value(), 8u);
}

TEST_F(ChatVerbsTest, EraseOfManyRoomsReportsProgress) {
  user_does("alice", user::Register{kPasswordHash}, kT0);
  for (int i = 0; i < 120; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "r%03d", i);
    const std::string creator = i % 2 == 0 ? "alice" : "bob";
    room_does(name, room::Create{creator}, kT0 + i, creator);
  }
  stop_server();
  auto erased = ctl({"user", "erase", "alice", "--yes"});
  ASSERT_EQ(erased.code, kExitOk) << erased.err;
  EXPECT_TRUE(has(erased.err, "erase: 100 of 120 rooms scanned, 50 anonymised\n")) << erased.err;
  EXPECT_TRUE(has(erased.out, "erase: 120 rooms scanned, 60 anonymised now")) << erased.out;
}

TEST_F(ChatVerbsTest, EraseAsksForTheNameUnlessYes) {
  add_chat();
  stop_server();
  const auto before = everything();
  for (const char* answer : {"", "y\n", "bob\n"}) {
    auto refused = ctl({"user", "erase", "alice"}, answer);
    EXPECT_EQ(refused.code, kExitFailed) << answer;
    EXPECT_TRUE(has(refused.err, "Type the user's name to confirm")) << refused.err;
    EXPECT_TRUE(has(refused.err, "not confirmed; nothing written")) << refused.err;
  }
  EXPECT_EQ(everything(), before);
  auto confirmed = ctl({"user", "erase", "alice"}, "alice\n");
  EXPECT_EQ(confirmed.code, kExitOk) << confirmed.err;
  EXPECT_TRUE(has(confirmed.out, "user alice: erased\n")) << confirmed.out;

  auto nobody = ctl({"user", "erase", "nobody", "--yes"});
  EXPECT_EQ(nobody.code, kExitFailed);
  EXPECT_TRUE(has(nobody.err, "no user named nobody")) << nobody.err;
  EXPECT_EQ(ctl({"user", "erase"}).code, kExitUsage);
  EXPECT_EQ(ctl({"user", "erase", "alice", "bob"}).code, kExitUsage);
}

TEST_F(ChatVerbsTest, EraseReplacesSnapshotsThatStillHoldTheUser) {
  add_chat();
  stop_server();
  ASSERT_EQ(ctl({"snapshot", "--all"}).code, kExitOk);
  auto erased = ctl({"user", "erase", "alice", "--yes"});
  ASSERT_EQ(erased.code, kExitOk) << erased.err;
  EXPECT_TRUE(has(erased.out, "4 streams re-snapshotted")) << erased.out;  // alice + 3 rooms

  start_server();
  RocksdbSnapshotStore snapshots(&store_->database());
  auto user = snapshots.list("user/alice");
  ASSERT_TRUE(user.is_ok());
  ASSERT_EQ(user->valid.size(), 1u);
  EXPECT_EQ(user->valid[0].version(), 4u);
  EXPECT_TRUE(user->valid[0].user().erased());
  EXPECT_EQ(user->valid[0].user().password_hash(), "");
  auto general = snapshots.list("room/general");
  ASSERT_TRUE(general.is_ok());
  ASSERT_EQ(general->valid.size(), 1u);
  EXPECT_EQ(general->valid[0].room().messages(0).author(), "[erased]");
  std::string raw;
  ASSERT_TRUE(store_->database()
                  .db()
                  ->Get(rocksdb::ReadOptions(), store_->database().snapshots(),
                        keys::versioned("user/alice", 3), &raw)
                  .IsNotFound());
  EXPECT_EQ(snapshots.list("room/random")->valid[0].version(), 3u);  // untouched
  stop_server();
  auto verify = ctl({"verify"});
  EXPECT_EQ(verify.code, kExitOk) << verify.out;
  // Re-run: nothing left to replace.
  EXPECT_TRUE(has(ctl({"user", "erase", "alice", "--yes"}).out, "0 streams re-snapshotted"));
}

TEST_F(ChatVerbsTest, SnapshotAndVerifyCoverUsersAndRooms) {
  add_chat();
  stop_server();
  auto snapshot = ctl({"snapshot", "--all"});
  ASSERT_EQ(snapshot.code, kExitOk) << snapshot.err;
  EXPECT_TRUE(has(snapshot.out, "snapshot: 7 written")) << snapshot.out;  // 3 users, 4 rooms
  auto verify = ctl({"verify"});
  EXPECT_EQ(verify.code, kExitOk) << verify.out;
  EXPECT_TRUE(has(verify.out, "7 snapshots checked: ok")) << verify.out;
  EXPECT_EQ(ctl({"snapshot", "user/bob"}).code, kExitOk);

  // What the tool wrote is what the models decode, as the server will read it.
  start_server();
  RocksdbSnapshotStore snapshots(&store_->database());
  auto listing = snapshots.list("room/general");
  ASSERT_TRUE(listing.is_ok() && !listing->valid.empty());
  auto room = room::from_snapshot(listing->valid[0]);
  ASSERT_TRUE(room);
  EXPECT_EQ(room->messages.size(), 2u);
  EXPECT_EQ(room->members.size(), 2u);

  // Tampered snapshots are named by field, never by value.
  auto user_listing = snapshots.list("user/alice");
  auto tampered = user::from_snapshot(user_listing->valid[0]);
  ASSERT_TRUE(tampered);
  tampered->password_hash = kNewHash;
  tampered->roles.insert("operator");
  ASSERT_TRUE(snapshots.write(user::to_snapshot(*tampered, kT0)).is_ok());
  room->messages[0].text = "rewritten history";
  ASSERT_TRUE(snapshots.write(room::to_snapshot(*room, kT0)).is_ok());
  stop_server();
  auto problems = ctl({"verify"});
  EXPECT_EQ(problems.code, kExitFailed);
  EXPECT_TRUE(has(problems.out,
                  "PROBLEM user/alice version 3: snapshot differs from a replay to "
                  "its version: "))
      << problems.out;
  EXPECT_TRUE(has(problems.out, "modified: user.password_hash")) << problems.out;
  EXPECT_TRUE(has(problems.out, "user.roles")) << problems.out;
  EXPECT_TRUE(has(problems.out, "PROBLEM room/general version 7: snapshot differs"))
      << problems.out;
  EXPECT_TRUE(has(problems.out, "modified: room.messages[0].text")) << problems.out;
  EXPECT_FALSE(has(problems.out, "rewritten")) << problems.out;
  EXPECT_FALSE(has(problems.out, "modified: room\n")) << problems.out;  // leaves only
  expect_no_secret(problems.out);
}

TEST_F(ChatVerbsTest, VerifyAcceptsRoomSnapshotsOfASmallerChatWindow) {
  for (int i = 0; i < 5; ++i)
    room_does("lobby", room::Post{"bob", "m" + std::to_string(i), ""}, kT0 + i, "bob");
  RocksdbSnapshotStore snapshots(&store_->database());
  auto state = room::replay("lobby", *store_->journal().read_stream("room/lobby", 1), 3);
  ASSERT_TRUE(snapshots.write(room::to_snapshot(state, kT0)).is_ok());
  auto verify = ctl({"verify"});
  EXPECT_EQ(verify.code, kExitOk) << verify.out;
  EXPECT_TRUE(has(verify.out, "1 snapshots checked: ok")) << verify.out;
}

TEST_F(ChatVerbsTest, UsersAndRoomsAreListedAPageAtATime) {
  add_chat();
  auto first = ctl({"users", "--limit", "2"});
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_EQ(first.out, "alice v3 active roles=-\nbob v1 active roles=-\n");
  EXPECT_EQ(first.err, "more: gatehousectl users --after bob --limit 2\n");
  auto next = ctl({"users", "--after", "bob", "--limit", "2"});
  EXPECT_EQ(next.out, "carol v1 active roles=-\n");
  EXPECT_EQ(next.err, "");
  EXPECT_EQ(ctl({"users", "--after", "al"}).out.substr(0, 6), "alice ");
  EXPECT_EQ(ctl({"users", "--after", "carol"}).out, "");

  auto rooms = ctl({"rooms"});
  ASSERT_EQ(rooms.code, kExitOk) << rooms.err;
  EXPECT_EQ(rooms.out,
            "general v7 members=2 messages=2 creator=alice\n"
            "lobby v2 members=0 messages=1 creator=-\n"
            "quiet v4 members=1 messages=0 creator=carol\n"
            "random v3 members=1 messages=1 creator=bob\n");
  EXPECT_EQ(ctl({"rooms", "--after", "lobby", "--limit", "1"}).out,
            "quiet v4 members=1 messages=0 creator=carol\n");
  EXPECT_EQ(ctl({"users", "--limit", "0"}).code, kExitUsage);
  EXPECT_EQ(ctl({"users", "--limit"}).code, kExitUsage);
  EXPECT_EQ(ctl({"rooms", "extra"}).code, kExitUsage);
}

TEST_F(ChatVerbsTest, WriteVerbsRefuseWhileTheServerHoldsTheStore) {
  add_chat();  // store_ stays open read-write, as the server would hold it
  const auto before = everything();
  for (auto args : std::vector<std::vector<std::string>>{{"user", "grant", "bob", "operator"},
                                                         {"user", "revoke", "bob", "operator"},
                                                         {"user", "erase", "alice", "--yes"}}) {
    auto refused = ctl(args);
    EXPECT_EQ(refused.code, kExitFailed) << args[1];
    EXPECT_TRUE(has(refused.err, "locked by a running gatehouse")) << refused.err;
    EXPECT_TRUE(has(refused.err, "stop the server first")) << refused.err;
  }
  EXPECT_EQ(everything(), before);
  // Read verbs work meanwhile.
  EXPECT_EQ(ctl({"users"}).code, kExitOk);
  EXPECT_EQ(ctl({"rooms"}).code, kExitOk);
  EXPECT_EQ(ctl({"user", "show", "alice"}).code, kExitOk);
}

TEST_F(ChatVerbsTest, NewVerbsHaveHelp) {
  for (const char* verb : {"users", "rooms", "user"}) {
    auto help = ctl({verb, "--help"});
    EXPECT_EQ(help.code, kExitOk) << verb;
    EXPECT_TRUE(has(help.out, std::string("usage: gatehousectl ") + verb)) << help.out;
  }
  EXPECT_TRUE(has(ctl({"user", "erase", "--help"}).out, "user erase NAME [--yes]"));
  std::ostringstream out, err;
  ASSERT_EQ(run({"--help"}, out, err), kExitOk);
  EXPECT_TRUE(has(out.str(), "user erase NAME"));
  EXPECT_TRUE(has(out.str(), "users [--after NAME]"));
}

}  // namespace
}  // namespace gh::ctl
