// Golden files guard schema evolution (DESIGN.md): bytes written by an older build must keep
// decoding to the same events. tests/data/v<N>/ holds, for schema version N, a log with every
// event type new in that version and snapshots of the entity kinds new in it, as the journal
// and the snapshot store wrote them, plus their expected decoding as Protobuf text, and
// damaged copies that must read as data loss (tests/data/README.md).
//   v1: devices and API tokens (events 100-110, 400-401), a device snapshot.
//   v2: chat users and rooms (events 200-209, 300-308), a user and a room snapshot.
//   v3: scripted actions (events 450-454), no snapshot.
//   v4: door credentials and provisioning keys (events 500-503, Cause PROVISIONING_KEY), no
//       snapshot.
//   v5: unexpected lock reports and dropped pictures (events 111-112), a device snapshot with
//       the kept pictures and the unexpected report.
//   v7: no new type: ActionInvoked with its excerpts apart (fields 14-15, actions.runs-retain)
//       after one written inline, as in a store upgraded to v7; no snapshot.
//
// Regenerate (only when adding a schema version, never to "fix" a failing test):
//   GH_WRITE_GOLDEN=v2 build/tests/events/events_test --gtest_filter=GoldenTest.Generate
// writes tests/data/v2/. For a new schema version add write_v<N>_log and v<N>_snapshots, a
// row of golden_versions(), and tests mirroring the V2 ones.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "events/keys.h"
#include "events/lease_manager.h"
#include "events/pg_journal.h"
#include "events/shard.h"
#include "snapshots/rocksdb_snapshot_store.h"
#include "snapshots/snapshot_store.h"
#include "tests/events/golden_format.h"
#include "tests/events/temp_postgres.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using testing::decode_records;
using testing::read_file;

const std::string kDataDir = std::string(GH_SOURCE_DIR) + "/tests/data";
const std::string kV1Dir = kDataDir + "/v1";
const std::string kV2Dir = kDataDir + "/v2";
const std::string kV3Dir = kDataDir + "/v3";
const std::string kV4Dir = kDataDir + "/v4";
const std::string kV5Dir = kDataDir + "/v5";
const std::string kV6Dir = kDataDir + "/v6";
const std::string kV7Dir = kDataDir + "/v7";
const std::string kV8Dir = kDataDir + "/v8";
const std::string kV10Dir = kDataDir + "/v10";
const std::string kV11Dir = kDataDir + "/v11";

std::string one_line(const google::protobuf::Message& message) {
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  std::string out;
  printer.PrintToString(message, &out);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string line;
  for (char c : text) {
    if (c == '\n') {
      out.push_back(line);
      line.clear();
    } else {
      line.push_back(c);
    }
  }
  if (!line.empty()) out.push_back(line);
  return out;
}

events::Cause cause(events::Cause::Kind kind, const std::string& name, const std::string& via) {
  events::Cause c;
  c.set_kind(kind);
  c.set_name(name);
  c.set_channel(via);
  return c;
}

// Appends through the real journal, each append one second after the previous one.
class LogWriter {
 public:
  LogWriter(Journal& journal, int64_t start_unix_ms) : journal_(journal), time_(start_unix_ms) {}

  void append(const std::string& stream, const events::Cause& by, const std::string& command_id,
              std::vector<Envelope> list, std::vector<Blob> blobs = {}) {
    AppendRequest request;
    request.stream = stream;
    request.expected_version = *journal_.stream_version(stream);
    request.command_id = command_id;
    request.cause = by;
    request.events = std::move(list);
    request.blobs = std::move(blobs);
    request.time_unix_ms = (time_ += 1000);
    auto result = journal_.append_and_wait(std::move(request));
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  }

 private:
  Journal& journal_;
  int64_t time_;
};

// ---- schema v1 ----

// Every event type of schema v1, through the real journal.
void write_v1_log(Journal& journal) {
  const auto device = cause(events::Cause::DEVICE, "front-door", "mqtt");
  const auto user = cause(events::Cause::USER, "alice", "http");
  LogWriter log(journal, 1763884800000);  // 2025-11-23T08:00:00Z
  auto append = [&](const std::string& stream, const events::Cause& by,
                    const std::string& command_id, std::vector<Envelope> list,
                    std::vector<Blob> blobs = {}) {
    log.append(stream, by, command_id, std::move(list), std::move(blobs));
  };
  const std::string door = "device/front-door";
  Envelope e;
  e.mutable_device_registered()->set_type("lock");
  e.mutable_device_registered()->set_name("Front door");
  e.mutable_device_registered()->set_firmware("1.0.0");
  e.mutable_device_registered()->set_provisioned(true);
  Envelope online;
  online.mutable_device_came_online();
  append(door, cause(events::Cause::OPERATOR, "root", "tool"), "provision-1", {e, online});
  e.Clear();
  e.mutable_device_info_changed()->set_type("lock");
  e.mutable_device_info_changed()->set_name("Front door");
  e.mutable_device_info_changed()->set_firmware("1.1.0");
  append(door, device, "", {e});
  e.Clear();
  e.mutable_lock_state_reported()->set_state(events::UNLOCKED);
  append(door, device, "", {e});
  e.Clear();
  e.mutable_lock_command_requested()->set_action(events::LOCK);
  e.mutable_lock_command_requested()->set_timeout_ms(10000);
  Envelope sent;
  sent.mutable_lock_command_sent()->set_command_id("cmd-1");
  append(door, user, "cmd-1", {e, sent});
  e.Clear();
  e.mutable_lock_command_confirmed()->set_command_id("cmd-1");
  e.mutable_lock_command_confirmed()->set_state(events::LOCKED);
  append(door, device, "", {e});
  e.Clear();
  e.mutable_lock_command_requested()->set_action(events::UNLOCK);
  e.mutable_lock_command_requested()->set_timeout_ms(5000);
  append(door, cause(events::Cause::API_TOKEN, "ci-bot", "http"), "cmd-2", {e});
  e.Clear();
  e.mutable_lock_command_failed()->set_command_id("cmd-2");
  e.mutable_lock_command_failed()->set_reason("jammed");
  append(door, device, "", {e});
  e.Clear();
  e.mutable_lock_command_requested()->set_action(events::LOCK);
  e.mutable_lock_command_requested()->set_timeout_ms(5000);
  append(door, cause(events::Cause::ACTION, "night-lock", "system"), "cmd-3", {e});
  e.Clear();
  e.mutable_lock_command_timed_out()->set_command_id("cmd-3");
  append(door, cause(events::Cause::SYSTEM, "", "system"), "", {e});
  e.Clear();
  e.mutable_stranger_seen()->set_picture_id("9f86d081884c7d65");
  e.mutable_stranger_seen()->set_content_type("image/jpeg");
  e.mutable_stranger_seen()->set_size_bytes(4);
  e.mutable_stranger_seen()->set_alert_id("alert-1");
  append(door, device, "", {e}, {{"9f86d081884c7d65", "\xff\xd8\xff\xd9"}});
  e.Clear();
  e.mutable_device_went_offline();
  append(door, cause(events::Cause::KIND_UNSPECIFIED, "", ""), "", {e});
  e.Clear();
  e.mutable_lock_state_reported()->set_state(events::JAMMED);
  append("device/back-door", device, "", {e});
  e.Clear();
  e.mutable_api_token_created()->set_name("ci-bot");
  e.mutable_api_token_created()->set_sha256(std::string(32, '\x5a'));
  append("system/tokens", cause(events::Cause::OPERATOR, "root", "tool"), "", {e});
  e.Clear();
  e.mutable_api_token_revoked()->set_name("ci-bot");
  append("system/tokens", cause(events::Cause::OPERATOR, "root", "tool"), "", {e});
}

// A device snapshot with every field of schema v1 set.
snapshots::Snapshot v1_snapshot() {
  snapshots::Snapshot s;
  s.set_stream("device/front-door");
  s.set_version(12);
  s.set_taken_at_unix_ms(1763884900000);
  auto* d = s.mutable_device();
  d->set_id("front-door");
  d->set_registered(true);
  d->set_provisioned(true);
  d->set_type("lock");
  d->set_name("Front door");
  d->set_firmware("1.1.0");
  d->set_registered_at_ms(1763884801000);
  d->set_online(false);
  d->set_last_seen_ms(1763884811000);
  d->set_desired(events::LOCKED);
  d->set_reported(events::LOCKED);
  auto fill = [](snapshots::CommandRecord* c, const std::string& id, int status) {
    c->set_id(id);
    c->set_action(events::LOCK);
    c->set_status(status);
    c->mutable_requested_by()->set_kind(events::Cause::USER);
    c->mutable_requested_by()->set_name("alice");
    c->mutable_requested_by()->set_channel("http");
    c->set_requested_at_ms(1763884804000);
    c->set_sent_at_ms(1763884804000);
    c->set_finished_at_ms(status >= 2 ? 1763884805000 : 0);
    c->set_timeout_ms(10000);
    c->set_reason(status == 3 ? "jammed" : "");
  };
  fill(d->mutable_pending(), "cmd-4", 1);
  fill(d->add_recent(), "cmd-1", 2);
  fill(d->add_recent(), "cmd-2", 3);
  d->set_strangers_seen(1);
  auto* stranger = d->mutable_last_stranger();
  stranger->set_picture_id("9f86d081884c7d65");
  stranger->set_alert_id("alert-1");
  stranger->set_content_type("image/jpeg");
  stranger->set_size_bytes(4);
  stranger->set_seen_at_ms(1763884810000);
  d->set_version(12);
  d->set_updated_at_ms(1763884811000);
  return s;
}

std::vector<snapshots::Snapshot> v1_snapshots() { return {v1_snapshot()}; }

// ---- schema v2 ----

// crypto_pwhash_str-shaped strings, each one distinct so that a swapped field shows.
const std::string kAliceHash = "$argon2id$v=19$m=65536,t=2,p=1$YWxpY2Utc2FsdA$YWxpY2UtMQ";
const std::string kAliceChangedHash = "$argon2id$v=19$m=65536,t=2,p=1$YWxpY2Utc2FsdA$YWxpY2UtMg";
const std::string kAliceResetHash = "$argon2id$v=19$m=65536,t=2,p=1$YWxpY2Utc2FsdA$YWxpY2UtMw";
const std::string kAnswerHash = "$argon2id$v=19$m=65536,t=2,p=1$YW5zd2VyLXNhbHQ$cGVwcGVy";
const std::string kBobHash = "$argon2id$v=19$m=65536,t=2,p=1$Ym9iLXNhbHQ$Ym9iLTE";
const std::string kQuestion = "Name of your first cat?";
const std::string kHello = "Grüße aus dem Garten!";  // UTF-8 beyond ASCII
const std::string kTomatoes = "The tomatoes are ripe.";
const std::string kBye = "Bye, and thanks for all the basil.";

// A 32-byte SHA-256-sized value: first, first + 1, ..., so that byte order shows.
std::string sha256_like(unsigned char first) {
  std::string out;
  for (int i = 0; i < 32; ++i) out.push_back(static_cast<char>(first + i));
  return out;
}

// Every event type new in schema v2 (chat users and rooms), every field set, through the
// real journal. Streams interleave as they would live: alice and bob register, alice creates
// a room, they chat, bob leaves and is erased, and the room anonymises him.
void write_v2_log(Journal& journal) {
  const auto alice = cause(events::Cause::USER, "alice", "http");
  const auto bob = cause(events::Cause::USER, "bob", "mqtt");
  const auto root = cause(events::Cause::OPERATOR, "root", "tool");
  LogWriter log(journal, 1763971200000);  // 2025-11-24T08:00:00Z
  const std::string user_alice = "user/alice", user_bob = "user/bob", room = "room/garden";
  Envelope e;
  e.mutable_user_registered()->set_password_hash(kAliceHash);
  log.append(user_alice, alice, "register-alice", {e});
  e.Clear();
  e.mutable_room_created()->set_creator("alice");
  Envelope joined;
  joined.mutable_room_member_joined()->set_user("alice");
  log.append(room, alice, "create-garden", {e, joined});
  e.Clear();
  e.mutable_user_security_question_set()->set_question(kQuestion);
  e.mutable_user_security_question_set()->set_answer_hash(kAnswerHash);
  log.append(user_alice, alice, "question-1", {e});
  e.Clear();
  e.mutable_user_login_failed()->set_reason("password");
  e.mutable_user_login_failed()->set_locked_until_unix_ms(1763971264000);
  log.append(user_alice, cause(events::Cause::USER, "alice", "legacy"), "", {e});
  e.Clear();
  e.mutable_user_logged_in()->set_session_sha256(sha256_like(0xa0));
  e.mutable_user_logged_in()->set_expires_at_unix_ms(1764576000000);
  log.append(user_alice, alice, "login-1", {e});
  e.Clear();
  e.mutable_user_registered()->set_password_hash(kBobHash);
  log.append(user_bob, bob, "register-bob", {e});
  e.Clear();
  e.mutable_room_member_joined()->set_user("bob");
  log.append(room, bob, "join-bob", {e});
  e.Clear();
  e.mutable_message_posted()->set_message_id(1);
  e.mutable_message_posted()->set_author("alice");
  e.mutable_message_posted()->set_text(kHello);
  e.mutable_message_posted()->set_client_msg_id("c-a11ce-1");
  log.append(room, alice, "post-1", {e});
  e.Clear();
  e.mutable_message_posted()->set_message_id(2);
  e.mutable_message_posted()->set_author("bob");
  e.mutable_message_posted()->set_text(kTomatoes);
  e.mutable_message_posted()->set_client_msg_id("c-b0b-2");
  log.append(room, bob, "post-2", {e});
  e.Clear();
  e.mutable_message_posted()->set_message_id(3);
  e.mutable_message_posted()->set_author("bob");
  e.mutable_message_posted()->set_text(kBye);
  e.mutable_message_posted()->set_client_msg_id("c-b0b-3");
  log.append(room, bob, "post-3", {e});
  e.Clear();
  e.mutable_message_liked()->set_message_id(1);
  e.mutable_message_liked()->set_user("bob");
  log.append(room, bob, "like-1", {e});
  e.Clear();
  e.mutable_message_unliked()->set_message_id(1);
  e.mutable_message_unliked()->set_user("bob");
  log.append(room, bob, "unlike-1", {e});
  e.Clear();
  e.mutable_message_liked()->set_message_id(3);
  e.mutable_message_liked()->set_user("alice");
  log.append(room, alice, "like-3", {e});
  e.Clear();
  e.mutable_message_liked_anonymously()->set_message_id(1);
  log.append(room, cause(events::Cause::KIND_UNSPECIFIED, "", "legacy"), "", {e});
  e.Clear();
  e.mutable_message_deleted()->set_message_id(2);
  e.mutable_message_deleted()->set_deleted_by("bob");
  log.append(room, bob, "delete-2", {e});
  e.Clear();
  e.mutable_user_password_changed()->set_password_hash(kAliceChangedHash);
  e.mutable_user_password_changed()->set_kept_session_sha256(sha256_like(0xa0));
  log.append(user_alice, alice, "password-1", {e});
  e.Clear();
  e.mutable_user_logged_out()->set_session_sha256(sha256_like(0xa0));
  log.append(user_alice, alice, "logout-1", {e});
  e.Clear();
  e.mutable_user_password_reset()->set_password_hash(kAliceResetHash);
  log.append(user_alice, alice, "reset-1", {e});
  e.Clear();
  e.mutable_user_role_granted()->set_role("operator");
  log.append(user_alice, root, "grant-1", {e});
  e.Clear();
  e.mutable_user_role_revoked()->set_role("operator");
  log.append(user_alice, root, "revoke-1", {e});
  e.Clear();
  e.mutable_room_member_left()->set_user("bob");
  log.append(room, bob, "leave-bob", {e});
  e.Clear();
  e.mutable_user_erased();
  log.append(user_bob, bob, "erase-bob", {e});
  e.Clear();
  e.mutable_room_author_anonymised()->set_user("bob");
  log.append(room, cause(events::Cause::SYSTEM, "erase", "system"), "erase-bob", {e});
}

// A user snapshot with every field of schema v2 set. Not a reachable state (an erased user
// keeps no hashes): its purpose is to pin the bytes of every field.
snapshots::Snapshot v2_user_snapshot() {
  snapshots::Snapshot s;
  s.set_stream("user/alice");
  s.set_version(9);
  s.set_taken_at_unix_ms(1763971300000);
  auto* u = s.mutable_user();
  u->set_name("alice");
  u->set_registered(true);
  u->set_registered_at_ms(1763971201000);
  u->set_password_hash(kAliceResetHash);
  u->add_roles("operator");
  auto* session = u->add_sessions();
  session->set_sha256(sha256_like(0xb0));
  session->set_expires_at_ms(1764576100000);
  session = u->add_sessions();
  session->set_sha256(sha256_like(0xc0));
  session->set_expires_at_ms(1764576200000);
  u->add_failure_times_ms(1763971204000);
  u->add_failure_times_ms(1763971250000);
  u->set_locked_until_ms(1763971264000);
  u->set_locks_in_a_row(2);
  u->set_question(kQuestion);
  u->set_answer_hash(kAnswerHash);
  u->set_erased(true);
  u->set_last_login_ms(1763971205000);
  u->set_version(9);
  u->set_updated_at_ms(1763971220000);
  return s;
}

// The room of write_v2_log() after its last event; together its messages set every field.
snapshots::Snapshot v2_room_snapshot() {
  snapshots::Snapshot s;
  s.set_stream("room/garden");
  s.set_version(13);
  s.set_taken_at_unix_ms(1763971300001);
  auto* r = s.mutable_room();
  r->set_name("garden");
  r->set_created(true);
  r->set_creator("alice");
  r->set_created_at_ms(1763971202000);
  r->add_members("alice");
  auto* m = r->add_messages();
  m->set_id(1);
  m->set_author("alice");
  m->set_text(kHello);
  m->set_posted_at_ms(1763971208000);
  m->set_client_msg_id("c-a11ce-1");
  m->set_anonymous_likes(1);
  m = r->add_messages();
  m->set_id(2);
  m->set_author("[erased]");
  m->set_posted_at_ms(1763971209000);
  m->set_client_msg_id("c-b0b-2");
  m->set_deleted(true);
  m = r->add_messages();
  m->set_id(3);
  m->set_author("[erased]");
  m->set_text(kBye);
  m->set_posted_at_ms(1763971210000);
  m->set_client_msg_id("c-b0b-3");
  m->add_likes("alice");
  r->set_next_message_id(4);
  r->add_anonymised("bob");
  r->set_version(13);
  r->set_updated_at_ms(1763971223000);
  return s;
}

std::vector<snapshots::Snapshot> v2_snapshots() { return {v2_user_snapshot(), v2_room_snapshot()}; }

// ---- schema v3 ----

const std::string kGreetV1 = "function handle(msg)\n  return 'hello ' .. msg.args\nend\n";
const std::string kGreetV2 =
    "function handle(msg)\n  gh.lock(msg.args)\n  return 'locked ' .. msg.args\nend\n";

// Every event type new in schema v3 (scripted actions), every field set, through the real
// journal: an operator installs an action, it runs (a reply, then a failure), gatehouse
// disables it, the operator replaces and enables it, and finally removes it.
void write_v3_log(Journal& journal) {
  const auto root = cause(events::Cause::OPERATOR, "root", "tool");
  const auto alice = cause(events::Cause::USER, "alice", "http");
  const auto by_gatehouse = cause(events::Cause::SYSTEM, "actions", "system");
  const auto legacy = cause(events::Cause::KIND_UNSPECIFIED, "", "legacy");
  LogWriter log(journal, 1764057600000);  // 2025-11-25T08:00:00Z
  const std::string table = "system/actions", runs = "system/action-runs.greet";
  Envelope e;
  e.mutable_action_installed()->set_name("greet");
  e.mutable_action_installed()->set_source(kGreetV1);
  e.mutable_action_installed()->set_sha256(sha256_like(0x30));
  log.append(table, root, "install-greet-1", {e});
  e.Clear();
  auto* run = e.mutable_action_invoked();
  run->set_name("greet");
  run->set_source_sha256(sha256_like(0x30));
  run->set_topic("server");
  run->set_input("greet bob");
  run->set_outcome(events::ACTION_REPLIED);
  run->set_output("hello bob");
  run->set_instructions(12000);
  run->set_peak_memory_bytes(23456);
  run->add_effects("log said hello");
  run->add_effects("publish actions/out/greetings (9 bytes)");
  log.append(runs, legacy, "", {e});
  e.Clear();
  run = e.mutable_action_invoked();
  run->set_name("greet");
  run->set_source_sha256(sha256_like(0x30));
  run->set_topic("server");
  run->set_input(std::string("greet \xff\x00", 8));
  run->set_outcome(events::ACTION_BUDGET_EXCEEDED);
  run->set_error("instruction budget of 1000000 exceeded");
  run->set_instructions(1000000);
  run->set_peak_memory_bytes(34567);
  log.append(runs, legacy, "", {e});
  e.Clear();
  e.mutable_action_disabled()->set_name("greet");
  e.mutable_action_disabled()->set_reason(
      "failed 5 calls in a row: instruction budget of 1000000 exceeded");
  log.append(table, by_gatehouse, "", {e});
  e.Clear();
  e.mutable_action_installed()->set_name("greet");
  e.mutable_action_installed()->set_source(kGreetV2);
  e.mutable_action_installed()->set_sha256(sha256_like(0x50));
  log.append(table, alice, "install-greet-2", {e});
  e.Clear();
  e.mutable_action_disabled()->set_name("greet");
  e.mutable_action_disabled()->set_reason("operator");
  log.append(table, root, "disable-greet", {e});
  e.Clear();
  e.mutable_action_enabled()->set_name("greet");
  log.append(table, root, "enable-greet", {e});
  e.Clear();
  e.mutable_action_removed()->set_name("greet");
  log.append(table, root, "remove-greet", {e});
}

std::vector<snapshots::Snapshot> v3_snapshots() { return {}; }

// ---- schema v4 ----

// Every event type new in schema v4 (door credentials and provisioning keys), every field
// set, through the real journal: an operator creates a provisioning key and gives a door its
// credential, a second door provisions itself with the key, the first door's credential is
// rotated, the second's revoked, and the key revoked.
void write_v4_log(Journal& journal) {
  const auto root = cause(events::Cause::OPERATOR, "root", "tool");
  const auto ops = cause(events::Cause::API_TOKEN, "ops", "http");
  const auto by_key = cause(events::Cause::PROVISIONING_KEY, "factory-1", "mqtt");
  LogWriter log(journal, 1764144000000);  // 2025-11-26T08:00:00Z
  const std::string doors = "system/door-credentials", keys = "system/provisioning-keys";
  Envelope e;
  e.mutable_provisioning_key_created()->set_name("factory-1");
  e.mutable_provisioning_key_created()->set_secret_sha256(sha256_like(0x60));
  log.append(keys, ops, "create-key-factory-1", {e});
  e.Clear();
  auto* issued = e.mutable_door_credential_issued();
  issued->set_device_id("front-door");
  issued->set_secret_sha256(sha256_like(0x70));
  log.append(doors, root, "", {e});
  e.Clear();
  issued = e.mutable_door_credential_issued();
  issued->set_device_id("back-door");
  issued->set_secret_sha256(sha256_like(0x80));
  log.append(doors, by_key, "", {e});
  e.Clear();
  issued = e.mutable_door_credential_issued();
  issued->set_device_id("front-door");
  issued->set_secret_sha256(sha256_like(0x90));
  issued->set_replaced(true);
  log.append(doors, ops, "rotate-front-door", {e});
  e.Clear();
  e.mutable_door_credential_revoked()->set_device_id("back-door");
  log.append(doors, ops, "", {e});
  e.Clear();
  e.mutable_provisioning_key_revoked()->set_name("factory-1");
  log.append(keys, root, "", {e});
}

std::vector<snapshots::Snapshot> v4_snapshots() { return {}; }
// Every event type new in schema v5, every field set, through the real journal: the back
// door unlocks with nobody asking (a hand, a key or a fake), then its oldest pictures go over
// the quota and, later, past the retention.
void write_v5_log(Journal& journal) {
  const auto door = cause(events::Cause::DEVICE, "back-door", "mqtt");
  const auto by_gatehouse = cause(events::Cause::SYSTEM, "pictures", "system");
  LogWriter log(journal, 1764144000000);  // 2025-11-26T08:00:00Z
  const std::string stream = "device/back-door";
  Envelope e;
  e.mutable_lock_state_unexpected()->set_reported(events::UNLOCKED);
  e.mutable_lock_state_unexpected()->set_desired_at_the_time(events::LOCKED);
  log.append(stream, door, "report-17", {e});
  e.Clear();
  e.mutable_stranger_pictures_dropped()->add_picture_ids("0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  e.mutable_stranger_pictures_dropped()->add_picture_ids("1a1b2c3d4e5f60718293a4b5c6d7e8f9");
  e.mutable_stranger_pictures_dropped()->set_reason("quota");
  log.append(stream, door, "", {e});
  e.Clear();
  e.mutable_stranger_pictures_dropped()->add_picture_ids("2a1b2c3d4e5f60718293a4b5c6d7e8f9");
  e.mutable_stranger_pictures_dropped()->set_reason("retention");
  log.append(stream, by_gatehouse, "", {e});
}

// A device snapshot with every field of schema v5 set (the kept pictures, the picture times,
// the unexpected report and the format marker are new).
std::vector<snapshots::Snapshot> v5_snapshots() {
  snapshots::Snapshot s = v1_snapshot();
  s.set_stream("device/back-door");
  s.set_version(21);
  s.set_taken_at_unix_ms(1764144100000);
  auto* d = s.mutable_device();
  d->set_id("back-door");
  d->set_online(true);
  d->set_version(21);
  d->set_desired(events::LOCKED);
  d->set_reported(events::UNLOCKED);
  auto* u = d->mutable_unexpected();
  u->set_reported(events::UNLOCKED);
  u->set_desired(events::LOCKED);
  u->set_at_ms(1764144001000);
  u->set_version(19);
  for (int i = 0; i < 2; ++i) {
    auto* p = d->add_pictures();
    p->set_picture_id(std::to_string(3 + i) + "a1b2c3d4e5f60718293a4b5c6d7e8f9");
    p->set_size_bytes(2097152 - i);
    p->set_seen_at_ms(1764144002000 + i * 1000);
    d->add_picture_times(1764144002000 + i * 1000);
  }
  d->set_device_format(1);
  return {s};
}

// Schema v6 adds no event type: the user's origin is the cause's channel of UserRegistered
// ("legacy": a legacy user, who alone may set a first question over the legacy topics),
// and UserState keeps it (registered_via_legacy). Three users register over the legacy
// topics, one over HTTP.
void write_v6_log(Journal& journal) {
  LogWriter log(journal, 1764921600000);  // 2025-12-05T08:00:00Z
  const std::pair<const char*, const char*> users[] = {
      {"lee", "legacy"}, {"lin", "legacy"}, {"hal", "http"}, {"lou", "legacy"}};
  unsigned char fill = 0x40;
  for (const auto& [name, channel] : users) {
    Envelope e;
    e.mutable_user_registered()->set_password_hash("$argon2id$v=19$m=19456,t=2,p=1$" +
                                                   std::string(22, 'a' + (fill & 0x0f)));
    log.append(std::string("user/") + name, cause(events::Cause::USER, name, channel),
               std::string("register-") + name, {e});
    fill++;
  }
}

// v2's user snapshot, of a user registered over the legacy topics.
snapshots::Snapshot v6_user_snapshot() {
  snapshots::Snapshot s = v2_user_snapshot();
  s.set_stream("user/lee");
  s.mutable_user()->set_name("lee");
  s.mutable_user()->set_registered_via_legacy(true);
  return s;
}

std::vector<snapshots::Snapshot> v6_snapshots() { return {v6_user_snapshot()}; }

// ---- schema v7 ----

// ActionInvoked's fields 14-15 (the excerpts kept apart, retention), through the real journal:
// a store that recorded run 1 inline (before v7) records run 2 with its excerpts in a blob and
// says that the excerpts up to run 1 are past the retention of 1 (run 1's, inline, stay); run 3
// then drops run 2's.
void write_v7_log(Journal& journal) {
  const auto by_action = cause(events::Cause::ACTION, "echo", "legacy");
  LogWriter log(journal, 1764921600000);  // 2025-12-05T08:00:00Z
  const std::string runs = "system/action-runs.echo";
  Envelope e;
  auto* run = e.mutable_action_invoked();
  run->set_name("echo");
  run->set_source_sha256(sha256_like(0xa0));
  run->set_topic("server");
  run->set_input("echo one");
  run->set_outcome(events::ACTION_ERROR);
  run->set_output("half an answer");
  run->set_error("action:1: boom");
  run->set_instructions(321);
  run->set_peak_memory_bytes(4321);
  run->add_effects("log one");
  run->set_input_bytes(8);
  run->set_input_sha256(sha256_like(0xb0));
  log.append(runs, by_action, "run-echo-1", {e});
  e.Clear();
  run = e.mutable_action_invoked();
  run->set_name("echo");
  run->set_source_sha256(sha256_like(0xa0));
  run->set_topic("server");
  run->set_outcome(events::ACTION_REPLIED);
  run->set_output_bytes(8);
  run->set_instructions(123);
  run->set_peak_memory_bytes(1234);
  run->set_input_bytes(8);
  run->set_input_sha256(sha256_like(0xc0));
  run->set_excerpts_blob("action-run/echo/2");
  run->set_excerpts_dropped_through(1);
  log.append(runs, by_action, "", {e});
  // Run 3 pushes run 2 out of a retention of 1: its blob is deleted with this write.
  run->set_input_sha256(sha256_like(0xd0));
  run->set_excerpts_blob("action-run/echo/3");
  run->set_excerpts_dropped_through(2);
  log.append(runs, by_action, "", {e});
}

std::vector<snapshots::Snapshot> v7_snapshots() { return {}; }
// ---- schema v10 (issue 13; v7-v9 are other branches' numbers) ----

// Every event type new in schema v10, every field set, through the real journal: an
// operator's session and an API token each review one of the front door's stranger alerts,
// the operator's tool one of the back door's.
void write_v10_log(Journal& journal) {
  LogWriter log(journal, 1796169600000);  // 2026-12-01T00:00:00Z
  const std::string stream = "device/front-door";
  Envelope e;
  e.mutable_stranger_alert_reviewed()->set_alert_id("5d0c9a1e7b3f4a62");
  log.append(stream, cause(events::Cause::USER, "olga", "http"), "review-5d0c9a1e7b3f4a62", {e});
  e.Clear();
  e.mutable_stranger_alert_reviewed()->set_alert_id("6e1dab2f8c4a5b73");
  log.append(stream, cause(events::Cause::API_TOKEN, "wall-tablet", "http"), "", {e});
  e.Clear();
  e.mutable_stranger_alert_reviewed()->set_alert_id("9b4ade5cbf7d8ea6");
  log.append("device/back-door", cause(events::Cause::OPERATOR, "root", "tool"), "", {e});
}

// The v5 device snapshot with the unreviewed alerts and their format marker (fields 50-51).
std::vector<snapshots::Snapshot> v10_snapshots() {
  auto snapshots = v5_snapshots();
  auto* d = snapshots[0].mutable_device();
  d->add_unreviewed_alerts("7f2ebc3a9d5b6c84");
  d->add_unreviewed_alerts("8a3fcd4bae6c7d95");
  d->set_alerts_format(1);
  return snapshots;
}

// ---- schema v8 (issue 11: drift and removal) ----

// Every event type new in schema v8, every field set, through the real journal: the side
// door was told to LOCK, stayed UNLOCKED past the 10 s timeout (DoorDrifted), later reported
// LOCKED (DoorDriftEnded), and was then removed by an operator (DeviceRemoved).
void write_v8_log(Journal& journal) {
  LogWriter log(journal, 1796342400000);  // 2026-12-03T00:00:00Z
  const std::string stream = "device/side-door";
  Envelope e;
  auto* drifted = e.mutable_door_drifted();
  drifted->set_desired(events::LOCKED);
  drifted->set_reported(events::UNLOCKED);
  drifted->set_differs_since_ms(1796342390000);
  drifted->set_timeout_ms(10000);
  log.append(stream, cause(events::Cause::SYSTEM, "gatehouse", "timer"), "", {e});
  e.Clear();
  e.mutable_door_drift_ended()->set_state(events::LOCKED);
  log.append(stream, cause(events::Cause::DEVICE, "side-door", "mqtt"), "", {e});
  e.Clear();
  e.mutable_device_removed()->set_name("Side door");
  log.append(stream, cause(events::Cause::OPERATOR, "root", "admin"), "remove-side-door", {e});
}

// The v10 device snapshot with the drift and removal fields and their format marker
// (DeviceState fields 52-56).
std::vector<snapshots::Snapshot> v8_snapshots() {
  auto snapshots = v10_snapshots();
  auto* d = snapshots[0].mutable_device();
  d->set_differs_since_ms(1764144001000);
  d->set_drifting(true);
  d->set_removed(true);
  d->set_removed_at_ms(1764144009000);
  d->set_drift_format(1);
  return snapshots;
}

// ---- schema v11 (issue 14, step 2; v8, v9 are other branches' numbers) ----

// Envelope.lease_epoch: written by cluster mode's fenced PostgreSQL journal (Generate runs
// this version through one, node gh-a holding every shard at epoch 1).
void write_v11_log(Journal& journal) {
  LogWriter log(journal, 1796256000000);  // 2026-12-02T00:00:00Z
  Envelope e;
  e.mutable_lock_state_reported()->set_state(events::LOCKED);
  log.append("device/front-door", cause(events::Cause::DEVICE, "front-door", "mqtt"), "lsr-1", {e});
  e.mutable_lock_state_reported()->set_state(events::UNLOCKED);
  log.append("device/front-door", cause(events::Cause::DEVICE, "front-door", "mqtt"), "", {e});
  log.append("device/back-door", cause(events::Cause::DEVICE, "back-door", "mqtt"), "", {e});
}

std::vector<snapshots::Snapshot> v11_snapshots() { return {}; }

// ---- the versions ----

struct GoldenVersion {
  std::string name;  // its directory under tests/data
  void (*write_log)(Journal&);
  std::vector<snapshots::Snapshot> (*snapshots)();
  // The generator checks that the log and the snapshots set every field of every message
  // they contain (v1 predates the rule: its device snapshot is offline).
  bool every_field_set;
  // Written through a fenced PostgreSQL journal (cluster mode) instead of RocksDB.
  bool fenced = false;
};

const std::vector<GoldenVersion>& golden_versions() {
  static const auto* versions = new std::vector<GoldenVersion>{
      {"v1", write_v1_log, v1_snapshots, false},
      {"v2", write_v2_log, v2_snapshots, true},
      {"v3", write_v3_log, v3_snapshots, true},
      {"v4", write_v4_log, v4_snapshots, true},
      {"v5", write_v5_log, v5_snapshots, true},
      {"v6", write_v6_log, v6_snapshots, true},
      {"v7", write_v7_log, v7_snapshots, true},
      {"v8", write_v8_log, v8_snapshots, true},
      {"v10", write_v10_log, v10_snapshots, true},
      {"v11", write_v11_log, v11_snapshots, true, /*fenced=*/true},
  };
  return *versions;
}

// Adds to `set` the full name of every field of `message`, and of the messages in it, that
// holds a value, and to `known` every field that could: all fields of each message met except
// the members of a oneof other than the one set.
void collect_fields(const google::protobuf::Message& message, std::set<std::string>& set,
                    std::set<std::string>& known) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    const bool has = field->is_repeated() ? reflection->FieldSize(message, field) > 0
                                          : reflection->HasField(message, field);
    if (field->real_containing_oneof() != nullptr && !has) continue;
    known.insert(field->full_name());
    if (!has) continue;
    set.insert(field->full_name());
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!field->is_repeated()) {
      collect_fields(reflection->GetMessage(message, field), set, known);
      continue;
    }
    for (int j = 0; j < reflection->FieldSize(message, field); ++j)
      collect_fields(reflection->GetRepeatedMessage(message, field, j), set, known);
  }
}

// Fails naming every field that none of `messages` sets.
template <typename M>
void expect_every_field_set(const std::vector<M>& messages, const std::string& what) {
  std::set<std::string> set, known;
  for (const auto& m : messages) collect_fields(m, set, known);
  for (const auto& name : known)
    EXPECT_TRUE(set.count(name)) << what << ": no golden record sets " << name;
}

TEST(GoldenTest, Generate) {
  const char* which = std::getenv("GH_WRITE_GOLDEN");
  if (which == nullptr)
    GTEST_SKIP() << "set GH_WRITE_GOLDEN=v<N> to rewrite " << kDataDir << "/v<N>";
  const GoldenVersion* version = nullptr;
  for (const auto& v : golden_versions())
    if (v.name == which) version = &v;
  ASSERT_NE(version, nullptr) << "GH_WRITE_GOLDEN=" << which << " names no golden version";
  const std::string dir = kDataDir + "/" + version->name;
  testing::TempStore store;
  Journal* journal = &store.journal();
  std::unique_ptr<LeaseManager> leases;
  std::unique_ptr<PgJournal> fenced;
  if (version->fenced) {
    auto& cluster = testing::TempPostgres::shared();
    ASSERT_TRUE(cluster.running()) << cluster.problem();
    LeaseOptions options;
    options.conninfo = cluster.fresh_database();
    options.node = "gh-a";
    auto opened = LeaseManager::open(options);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    leases = std::move(*opened);
    std::vector<uint32_t> all(shards::kShardCount);
    for (uint32_t shard = 0; shard < shards::kShardCount; ++shard) all[shard] = shard;
    ASSERT_EQ(leases->acquire(all)->size(), size_t(shards::kShardCount));
    auto journal_opened = PgJournal::open({options.conninfo, {}, leases.get()});
    ASSERT_TRUE(journal_opened.is_ok()) << journal_opened.status().to_string();
    fenced = std::move(*journal_opened);
    journal = fenced.get();
  }
  ASSERT_NO_FATAL_FAILURE(version->write_log(*journal));
  std::vector<Envelope> envelopes;
  std::vector<std::string> records;
  std::string text;
  ASSERT_TRUE(journal
                  ->read_all(0,
                             [&](const Envelope& e) {
                               envelopes.push_back(e);
                               records.push_back(e.SerializeAsString());
                               text += one_line(e) + "\n";
                               return true;
                             })
                  .is_ok());
  RocksdbSnapshotStore snapshot_store(&store.database());
  std::vector<snapshots::Snapshot> stored;
  for (const auto& snapshot : version->snapshots()) {
    ASSERT_TRUE(snapshot_store.write(snapshot).is_ok()) << snapshot.stream();
    auto listing = snapshot_store.list(snapshot.stream());
    ASSERT_TRUE(listing.is_ok());
    ASSERT_EQ(listing->valid.size(), 1u) << snapshot.stream();
    stored.push_back(listing->valid[0]);
  }
  if (version->every_field_set) {
    expect_every_field_set(envelopes, version->name + " events");
    expect_every_field_set(stored, version->name + " snapshots");
    ASSERT_FALSE(HasFailure()) << "nothing written to " << dir;
  }

  std::filesystem::create_directories(dir);
  const std::string log = testing::encode_records(records);
  ASSERT_TRUE(testing::write_file(dir + "/events.bin", log));
  ASSERT_TRUE(testing::write_file(dir + "/events.txt", text));
  std::vector<std::string> snapshot_records;
  std::string snapshot_text;
  for (const auto& s : stored) {
    snapshot_records.push_back(s.SerializeAsString());
    snapshot_text += one_line(s) + "\n";
  }
  ASSERT_TRUE(
      testing::write_file(dir + "/snapshot.bin", testing::encode_records(snapshot_records)));
  ASSERT_TRUE(testing::write_file(dir + "/snapshot.txt", snapshot_text));
  // Damaged copies: the last record cut short, and one byte of the third record's body flipped.
  ASSERT_TRUE(testing::write_file(dir + "/events_truncated.bin", log.substr(0, log.size() - 5)));
  std::string flipped = log;
  size_t third = 0;
  for (int i = 0; i < 2; ++i) third += 8 + testing::get_be32(log, third);
  flipped[third + 8 + 3] = static_cast<char>(flipped[third + 8 + 3] ^ 0x01);
  ASSERT_TRUE(testing::write_file(dir + "/events_flipped.bin", flipped));
}

// ---- checks shared by the versions ----

// The records of `dir`/`name`, or a failure.
std::vector<std::string> records_of(const std::string& dir, const std::string& name) {
  auto file = read_file(dir + "/" + name);
  EXPECT_TRUE(file.is_ok()) << file.status().to_string();
  if (!file.is_ok()) return {};
  auto records = decode_records(*file);
  EXPECT_TRUE(records.is_ok()) << dir << "/" << name << ": " << records.status().to_string();
  if (!records.is_ok()) return {};
  return *records;
}

std::vector<Envelope> envelopes_of(const std::string& dir) {
  std::vector<Envelope> out;
  for (const auto& r : records_of(dir, "events.bin")) {
    out.emplace_back();
    EXPECT_TRUE(out.back().ParseFromString(r)) << dir << " record " << out.size();
  }
  return out;
}

std::vector<snapshots::Snapshot> snapshots_of(const std::string& dir) {
  std::vector<snapshots::Snapshot> out;
  for (const auto& r : records_of(dir, "snapshot.bin")) {
    out.emplace_back();
    EXPECT_TRUE(out.back().ParseFromString(r)) << dir << " snapshot " << out.size();
  }
  return out;
}

// events.bin decodes, record by record, to the lines of events.txt, with positions 1, 2, ...
// and gapless versions per stream.
void expect_events_decode_as_written(const std::string& dir) {
  auto file = read_file(dir + "/events.bin");
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  auto records = decode_records(*file);
  ASSERT_TRUE(records.is_ok()) << records.status().to_string();
  auto expected = read_file(dir + "/events.txt");
  ASSERT_TRUE(expected.is_ok());
  auto lines = lines_of(*expected);
  ASSERT_EQ(records->size(), lines.size());
  std::map<std::string, uint64_t> last_version;
  for (size_t i = 0; i < records->size(); ++i) {
    Envelope e;
    ASSERT_TRUE(e.ParseFromString((*records)[i])) << "record " << i + 1;
    // A field this build does not know would mean a number was removed or reused.
    EXPECT_TRUE(e.GetReflection()->GetUnknownFields(e).empty()) << "record " << i + 1;
    EXPECT_NE(e.event_case(), Envelope::EVENT_NOT_SET) << "record " << i + 1;
    EXPECT_EQ(one_line(e), lines[i]) << "record " << i + 1;
    EXPECT_EQ(e.position(), i + 1);
    EXPECT_EQ(e.version(), ++last_version[e.stream()]);
  }
}

// The old bytes of `dir`, laid out as the journal lays them out (keys.h), read back through
// the journal's own read path, with its placement and gap checks; `streams` gives the
// expected number of events of some streams.
void expect_events_read_back(const std::string& dir, const std::map<std::string, size_t>& streams) {
  auto records = decode_records(*read_file(dir + "/events.bin"));
  ASSERT_TRUE(records.is_ok());
  testing::TempStore store;
  auto* db = store.database().db();
  for (const auto& bytes : *records) {
    Envelope e;
    ASSERT_TRUE(e.ParseFromString(bytes));
    auto key = keys::versioned(e.stream(), e.version());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), store.database().events(), key, bytes).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), store.database().positions(),
                        keys::be64(e.position()), key)
                    .ok());
  }
  store.reopen(OpenMode::kReadOnly);
  std::vector<std::string> read_back;
  ASSERT_TRUE(store.journal()
                  .read_all(0,
                            [&](const Envelope& e) {
                              read_back.push_back(e.SerializeAsString());
                              return true;
                            })
                  .is_ok());
  EXPECT_EQ(read_back, *records);
  EXPECT_EQ(store.journal().last_position(), records->size());
  for (const auto& [stream, size] : streams) {
    auto events = store.journal().read_stream(stream, 0);
    ASSERT_TRUE(events.is_ok()) << stream << ": " << events.status().to_string();
    EXPECT_EQ(events->size(), size) << stream;
    auto version = store.journal().stream_version(stream);
    ASSERT_TRUE(version.is_ok());
    EXPECT_EQ(*version, size) << stream;
  }
}

// snapshot.bin decodes, record by record, to the lines of snapshot.txt.
void expect_snapshots_decode_as_written(const std::string& dir, size_t count) {
  auto records = decode_records(*read_file(dir + "/snapshot.bin"));
  ASSERT_TRUE(records.is_ok()) << records.status().to_string();
  auto lines = lines_of(*read_file(dir + "/snapshot.txt"));
  ASSERT_EQ(records->size(), count);
  ASSERT_EQ(lines.size(), count);
  for (size_t i = 0; i < count; ++i) {
    snapshots::Snapshot s;
    ASSERT_TRUE(s.ParseFromString((*records)[i])) << "snapshot " << i + 1;
    EXPECT_TRUE(s.GetReflection()->GetUnknownFields(s).empty()) << "snapshot " << i + 1;
    EXPECT_NE(s.state_case(), snapshots::Snapshot::STATE_NOT_SET) << "snapshot " << i + 1;
    EXPECT_EQ(one_line(s), lines[i]) << "snapshot " << i + 1;
  }
}

void expect_damaged_copies_are_data_loss(const std::string& dir) {
  auto truncated = decode_records(*read_file(dir + "/events_truncated.bin"));
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.status().code(), Code::kDataLoss);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
  auto flipped = decode_records(*read_file(dir + "/events_flipped.bin"));
  ASSERT_FALSE(flipped.is_ok());
  EXPECT_EQ(flipped.status().code(), Code::kDataLoss);
  EXPECT_EQ(flipped.status().message(), "record 3: checksum mismatch");
}

// ---- v1 ----

TEST(GoldenTest, V1EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV1Dir); }

TEST(GoldenTest, V1EventsReadBackThroughTheJournal) {
  expect_events_read_back(
      kV1Dir, {{"device/front-door", 13}, {"device/back-door", 1}, {"system/tokens", 2}});
}

TEST(GoldenTest, V1EventsSpotChecks) {
  auto records = decode_records(*read_file(kV1Dir + "/events.bin"));
  ASSERT_TRUE(records.is_ok());
  ASSERT_GE(records->size(), 14u);
  Envelope first, stranger, token;
  ASSERT_TRUE(first.ParseFromString((*records)[0]));
  EXPECT_EQ(first.stream(), "device/front-door");
  EXPECT_EQ(first.command_id(), "provision-1");
  EXPECT_EQ(first.cause().kind(), events::Cause::OPERATOR);
  EXPECT_EQ(first.time_unix_ms(), 1763884801000);
  EXPECT_EQ(first.device_registered().firmware(), "1.0.0");
  EXPECT_TRUE(first.device_registered().provisioned());
  for (const auto& r : *records) {
    Envelope e;
    ASSERT_TRUE(e.ParseFromString(r));
    if (e.has_stranger_seen()) stranger = e;
    if (e.has_api_token_created()) token = e;
  }
  EXPECT_EQ(stranger.stranger_seen().size_bytes(), 4u);
  EXPECT_EQ(stranger.stranger_seen().content_type(), "image/jpeg");
  EXPECT_EQ(token.api_token_created().sha256(), std::string(32, '\x5a'));
}

TEST(GoldenTest, V1SnapshotStillDecodesToTheSameFields) {
  ASSERT_NO_FATAL_FAILURE(expect_snapshots_decode_as_written(kV1Dir, 1));
  auto stored = snapshots_of(kV1Dir);
  ASSERT_EQ(stored.size(), 1u);
  const auto& s = stored[0];
  ASSERT_TRUE(s.has_device());
  EXPECT_EQ(s.device().recent_size(), 2);
  EXPECT_EQ(s.device().pending().id(), "cmd-4");
  EXPECT_EQ(s.device().version(), s.version());
}

TEST(GoldenTest, DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV1Dir); }

// ---- v2 ----

TEST(GoldenTest, V2EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV2Dir); }

TEST(GoldenTest, V2EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV2Dir, {{"user/alice", 9}, {"user/bob", 2}, {"room/garden", 13}});
}

TEST(GoldenTest, V2EventsSpotChecks) {
  auto envelopes = envelopes_of(kV2Dir);
  ASSERT_EQ(envelopes.size(), 24u);
  const Envelope& first = envelopes[0];
  EXPECT_EQ(first.stream(), "user/alice");
  EXPECT_EQ(first.version(), 1u);
  EXPECT_EQ(first.command_id(), "register-alice");
  EXPECT_EQ(first.cause().kind(), events::Cause::USER);
  EXPECT_EQ(first.cause().name(), "alice");
  EXPECT_EQ(first.time_unix_ms(), 1763971201000);
  EXPECT_EQ(first.user_registered().password_hash(), kAliceHash);
  std::map<int, Envelope> by_type;  // the last envelope of each event type
  for (const auto& e : envelopes) by_type[e.event_case()] = e;
  const auto& login = by_type[Envelope::kUserLoggedIn].user_logged_in();
  EXPECT_EQ(login.session_sha256(), sha256_like(0xa0));
  EXPECT_EQ(login.expires_at_unix_ms(), 1764576000000);
  const auto& failed = by_type[Envelope::kUserLoginFailed];
  EXPECT_EQ(failed.user_login_failed().reason(), "password");
  EXPECT_EQ(failed.user_login_failed().locked_until_unix_ms(), 1763971264000);
  EXPECT_EQ(failed.cause().channel(), "legacy");
  EXPECT_EQ(by_type[Envelope::kUserSecurityQuestionSet].user_security_question_set().question(),
            kQuestion);
  EXPECT_EQ(by_type[Envelope::kUserPasswordChanged].user_password_changed().kept_session_sha256(),
            sha256_like(0xa0));
  const auto& erased = by_type[Envelope::kUserErased];
  EXPECT_EQ(erased.stream(), "user/bob");
  EXPECT_EQ(erased.command_id(), "erase-bob");
  const auto& created = by_type[Envelope::kRoomCreated];
  EXPECT_EQ(created.stream(), "room/garden");
  EXPECT_EQ(created.room_created().creator(), "alice");
  std::vector<std::string> texts;
  for (const auto& e : envelopes)
    if (e.has_message_posted()) texts.push_back(e.message_posted().text());
  EXPECT_EQ(texts, (std::vector<std::string>{kHello, kTomatoes, kBye}));
  const auto& anonymous = by_type[Envelope::kMessageLikedAnonymously];
  EXPECT_EQ(anonymous.message_liked_anonymously().message_id(), 1u);
  EXPECT_EQ(anonymous.cause().kind(), events::Cause::KIND_UNSPECIFIED);
  EXPECT_EQ(by_type[Envelope::kMessageDeleted].message_deleted().deleted_by(), "bob");
  const auto& anonymised = by_type[Envelope::kRoomAuthorAnonymised];
  EXPECT_EQ(anonymised.room_author_anonymised().user(), "bob");
  EXPECT_EQ(anonymised.cause().kind(), events::Cause::SYSTEM);
}

TEST(GoldenTest, V2SnapshotsStillDecodeToTheSameFields) {
  ASSERT_NO_FATAL_FAILURE(expect_snapshots_decode_as_written(kV2Dir, 2));
  auto stored = snapshots_of(kV2Dir);
  ASSERT_EQ(stored.size(), 2u);
  std::map<std::string, uint64_t> stream_versions;
  for (const auto& e : envelopes_of(kV2Dir)) stream_versions[e.stream()] = e.version();
  const auto& user = stored[0];
  ASSERT_TRUE(user.has_user());
  EXPECT_EQ(user.stream(), "user/alice");
  EXPECT_EQ(user.version(), stream_versions["user/alice"]);
  EXPECT_EQ(user.user().version(), user.version());
  EXPECT_EQ(user.user().sessions_size(), 2);
  EXPECT_EQ(user.user().sessions(1).sha256(), sha256_like(0xc0));
  EXPECT_EQ(user.user().failure_times_ms_size(), 2);
  EXPECT_TRUE(user.user().erased());
  const auto& room = stored[1];
  ASSERT_TRUE(room.has_room());
  EXPECT_EQ(room.stream(), "room/garden");
  EXPECT_EQ(room.version(), stream_versions["room/garden"]);
  EXPECT_EQ(room.room().version(), room.version());
  ASSERT_EQ(room.room().messages_size(), 3);
  EXPECT_EQ(room.room().messages(0).text(), kHello);
  EXPECT_TRUE(room.room().messages(1).deleted());
  EXPECT_EQ(room.room().messages(2).likes_size(), 1);
  EXPECT_EQ(room.room().next_message_id(), 4u);
}

TEST(GoldenTest, V2DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV2Dir); }

// ---- v3 ----

TEST(GoldenTest, V3EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV3Dir); }

TEST(GoldenTest, V3EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV3Dir, {{"system/actions", 6}, {"system/action-runs.greet", 2}});
}

TEST(GoldenTest, V3EventsSpotChecks) {
  auto envelopes = envelopes_of(kV3Dir);
  ASSERT_EQ(envelopes.size(), 8u);
  const Envelope& first = envelopes[0];
  EXPECT_EQ(first.stream(), "system/actions");
  EXPECT_EQ(first.command_id(), "install-greet-1");
  EXPECT_EQ(first.cause().kind(), events::Cause::OPERATOR);
  EXPECT_EQ(first.time_unix_ms(), 1764057601000);
  EXPECT_EQ(first.action_installed().source(), kGreetV1);
  EXPECT_EQ(first.action_installed().sha256(), sha256_like(0x30));
  const Envelope& replied = envelopes[1];
  EXPECT_EQ(replied.stream(), "system/action-runs.greet");
  EXPECT_EQ(replied.action_invoked().outcome(), events::ACTION_REPLIED);
  EXPECT_EQ(replied.action_invoked().output(), "hello bob");
  EXPECT_EQ(replied.action_invoked().effects_size(), 2);
  const Envelope& failed = envelopes[2];
  EXPECT_EQ(failed.action_invoked().input(), std::string("greet \xff\x00", 8));
  EXPECT_EQ(failed.action_invoked().outcome(), events::ACTION_BUDGET_EXCEEDED);
  EXPECT_EQ(failed.action_invoked().instructions(), 1000000u);
  EXPECT_EQ(envelopes[3].cause().kind(), events::Cause::SYSTEM);
  EXPECT_EQ(envelopes[4].action_installed().source(), kGreetV2);
  EXPECT_EQ(envelopes[4].cause().name(), "alice");
  EXPECT_EQ(envelopes[5].action_disabled().reason(), "operator");
  EXPECT_TRUE(envelopes[6].has_action_enabled());
  EXPECT_EQ(envelopes[7].action_removed().name(), "greet");
}

TEST(GoldenTest, V3HasNoSnapshots) { expect_snapshots_decode_as_written(kV3Dir, 0); }

TEST(GoldenTest, V3DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV3Dir); }

// ---- v4 ----

TEST(GoldenTest, V4EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV4Dir); }

TEST(GoldenTest, V4EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV4Dir,
                          {{"system/door-credentials", 4}, {"system/provisioning-keys", 2}});
}

TEST(GoldenTest, V4EventsSpotChecks) {
  auto envelopes = envelopes_of(kV4Dir);
  ASSERT_EQ(envelopes.size(), 6u);
  const Envelope& key = envelopes[0];
  EXPECT_EQ(key.stream(), "system/provisioning-keys");
  EXPECT_EQ(key.command_id(), "create-key-factory-1");
  EXPECT_EQ(key.time_unix_ms(), 1764144001000);
  EXPECT_EQ(key.provisioning_key_created().name(), "factory-1");
  EXPECT_EQ(key.provisioning_key_created().secret_sha256(), sha256_like(0x60));
  const Envelope& first = envelopes[1];
  EXPECT_EQ(first.stream(), "system/door-credentials");
  EXPECT_EQ(first.version(), 1u);
  EXPECT_EQ(first.door_credential_issued().device_id(), "front-door");
  EXPECT_FALSE(first.door_credential_issued().replaced());
  const Envelope& provisioned = envelopes[2];
  EXPECT_EQ(provisioned.cause().kind(), events::Cause::PROVISIONING_KEY);
  EXPECT_EQ(provisioned.cause().name(), "factory-1");
  EXPECT_EQ(provisioned.cause().channel(), "mqtt");
  EXPECT_EQ(provisioned.door_credential_issued().secret_sha256(), sha256_like(0x80));
  const Envelope& rotated = envelopes[3];
  EXPECT_TRUE(rotated.door_credential_issued().replaced());
  EXPECT_EQ(rotated.door_credential_issued().secret_sha256(), sha256_like(0x90));
  EXPECT_EQ(envelopes[4].door_credential_revoked().device_id(), "back-door");
  EXPECT_EQ(envelopes[4].version(), 4u);
  EXPECT_EQ(envelopes[5].provisioning_key_revoked().name(), "factory-1");
  EXPECT_EQ(envelopes[5].version(), 2u);
}

TEST(GoldenTest, V4HasNoSnapshots) { expect_snapshots_decode_as_written(kV4Dir, 0); }

TEST(GoldenTest, V4DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV4Dir); }

// ---- v5 ----

TEST(GoldenTest, V5EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV5Dir); }

TEST(GoldenTest, V5EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV5Dir, {{"device/back-door", 3}});
}

TEST(GoldenTest, V5EventsSpotChecks) {
  auto envelopes = envelopes_of(kV5Dir);
  ASSERT_EQ(envelopes.size(), 3u);
  const Envelope& unexpected = envelopes[0];
  EXPECT_EQ(unexpected.stream(), "device/back-door");
  EXPECT_EQ(unexpected.command_id(), "report-17");
  EXPECT_EQ(unexpected.cause().kind(), events::Cause::DEVICE);
  EXPECT_EQ(unexpected.time_unix_ms(), 1764144001000);
  EXPECT_EQ(unexpected.lock_state_unexpected().reported(), events::UNLOCKED);
  EXPECT_EQ(unexpected.lock_state_unexpected().desired_at_the_time(), events::LOCKED);
  EXPECT_EQ(envelopes[1].stranger_pictures_dropped().picture_ids_size(), 2);
  EXPECT_EQ(envelopes[1].stranger_pictures_dropped().reason(), "quota");
  EXPECT_EQ(envelopes[2].stranger_pictures_dropped().picture_ids(0),
            "2a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_EQ(envelopes[2].stranger_pictures_dropped().reason(), "retention");
  EXPECT_EQ(envelopes[2].cause().kind(), events::Cause::SYSTEM);
}

TEST(GoldenTest, V5SnapshotsStillDecodeToTheSameFields) {
  expect_snapshots_decode_as_written(kV5Dir, 1);
  auto snapshots = snapshots_of(kV5Dir);
  ASSERT_EQ(snapshots.size(), 1u);
  const auto& d = snapshots[0].device();
  EXPECT_EQ(d.unexpected().reported(), events::UNLOCKED);
  EXPECT_EQ(d.pictures_size(), 2);
  EXPECT_EQ(d.pictures(1).size_bytes(), 2097151u);
  EXPECT_EQ(d.picture_times_size(), 2);
  EXPECT_EQ(d.device_format(), 1u);
}

TEST(GoldenTest, V5DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV5Dir); }

// ---- v6 ----

TEST(GoldenTest, V6EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV6Dir); }

TEST(GoldenTest, V6EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV6Dir,
                          {{"user/lee", 1}, {"user/lin", 1}, {"user/hal", 1}, {"user/lou", 1}});
}

TEST(GoldenTest, V6EventsSpotChecks) {
  auto envelopes = envelopes_of(kV6Dir);
  ASSERT_EQ(envelopes.size(), 4u);
  EXPECT_EQ(envelopes[0].stream(), "user/lee");
  EXPECT_EQ(envelopes[0].cause().channel(), "legacy");
  EXPECT_EQ(envelopes[0].command_id(), "register-lee");
  EXPECT_TRUE(envelopes[0].has_user_registered());
  EXPECT_EQ(envelopes[2].stream(), "user/hal");
  EXPECT_EQ(envelopes[2].cause().channel(), "http");
}

TEST(GoldenTest, V6SnapshotsStillDecodeToTheSameFields) {
  ASSERT_NO_FATAL_FAILURE(expect_snapshots_decode_as_written(kV6Dir, 1));
  auto snapshots = snapshots_of(kV6Dir);
  ASSERT_EQ(snapshots.size(), 1u);
  EXPECT_TRUE(snapshots[0].user().registered_via_legacy());
  EXPECT_EQ(snapshots[0].user().name(), "lee");
}

TEST(GoldenTest, V6DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV6Dir); }

// ---- v7 ----

TEST(GoldenTest, V7EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV7Dir); }

TEST(GoldenTest, V7EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV7Dir, {{"system/action-runs.echo", 3}});
}

TEST(GoldenTest, V7EventsSpotChecks) {
  auto envelopes = envelopes_of(kV7Dir);
  ASSERT_EQ(envelopes.size(), 3u);
  EXPECT_EQ(envelopes[0].action_invoked().input(), "echo one");
  EXPECT_TRUE(envelopes[0].action_invoked().excerpts_blob().empty());
  const auto& apart = envelopes[1].action_invoked();
  EXPECT_EQ(envelopes[1].version(), 2u);
  EXPECT_TRUE(apart.input().empty());
  EXPECT_EQ(apart.excerpts_blob(), "action-run/echo/2");
  EXPECT_EQ(apart.excerpts_dropped_through(), 1u);
  EXPECT_EQ(apart.input_sha256(), sha256_like(0xc0));
  EXPECT_EQ(envelopes[2].action_invoked().excerpts_dropped_through(), 2u);
}

TEST(GoldenTest, V7HasNoSnapshots) { expect_snapshots_decode_as_written(kV7Dir, 0); }

TEST(GoldenTest, V7DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV7Dir); }
// ---- v10 ----

TEST(GoldenTest, V10EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV10Dir); }

TEST(GoldenTest, V10EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV10Dir, {{"device/front-door", 2}, {"device/back-door", 1}});
}

TEST(GoldenTest, V10EventsSpotChecks) {
  auto envelopes = envelopes_of(kV10Dir);
  ASSERT_EQ(envelopes.size(), 3u);
  EXPECT_EQ(envelopes[0].stranger_alert_reviewed().alert_id(), "5d0c9a1e7b3f4a62");
  EXPECT_EQ(envelopes[0].cause().kind(), events::Cause::USER);
  EXPECT_EQ(envelopes[0].cause().name(), "olga");
  EXPECT_EQ(envelopes[0].command_id(), "review-5d0c9a1e7b3f4a62");
  EXPECT_EQ(envelopes[1].stranger_alert_reviewed().alert_id(), "6e1dab2f8c4a5b73");
  EXPECT_EQ(envelopes[1].cause().kind(), events::Cause::API_TOKEN);
  EXPECT_EQ(envelopes[1].version(), 2u);
  EXPECT_EQ(envelopes[2].stream(), "device/back-door");
  EXPECT_EQ(envelopes[2].cause().kind(), events::Cause::OPERATOR);
}

TEST(GoldenTest, V10SnapshotsStillDecodeToTheSameFields) {
  ASSERT_NO_FATAL_FAILURE(expect_snapshots_decode_as_written(kV10Dir, 1));
  auto snapshots = snapshots_of(kV10Dir);
  ASSERT_EQ(snapshots.size(), 1u);
  const auto& d = snapshots[0].device();
  ASSERT_EQ(d.unreviewed_alerts_size(), 2);
  EXPECT_EQ(d.unreviewed_alerts(1), "8a3fcd4bae6c7d95");
  EXPECT_EQ(d.alerts_format(), 1u);
  EXPECT_EQ(d.device_format(), 1u);
}

TEST(GoldenTest, V10DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV10Dir); }

// ---- v8 ----

TEST(GoldenTest, V8EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV8Dir); }

TEST(GoldenTest, V8EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV8Dir, {{"device/side-door", 3}});
}

TEST(GoldenTest, V8EventsSpotChecks) {
  auto envelopes = envelopes_of(kV8Dir);
  ASSERT_EQ(envelopes.size(), 3u);
  EXPECT_EQ(envelopes[0].door_drifted().desired(), events::LOCKED);
  EXPECT_EQ(envelopes[0].door_drifted().reported(), events::UNLOCKED);
  EXPECT_EQ(envelopes[0].door_drifted().differs_since_ms(), 1796342390000);
  EXPECT_EQ(envelopes[0].door_drifted().timeout_ms(), 10000);
  EXPECT_EQ(envelopes[1].door_drift_ended().state(), events::LOCKED);
  EXPECT_EQ(envelopes[2].device_removed().name(), "Side door");
  EXPECT_EQ(envelopes[2].cause().kind(), events::Cause::OPERATOR);
  EXPECT_EQ(envelopes[2].version(), 3u);
  EXPECT_EQ(envelopes[2].command_id(), "remove-side-door");
}

TEST(GoldenTest, V8SnapshotsStillDecodeToTheSameFields) {
  ASSERT_NO_FATAL_FAILURE(expect_snapshots_decode_as_written(kV8Dir, 1));
  auto snapshots = snapshots_of(kV8Dir);
  ASSERT_EQ(snapshots.size(), 1u);
  const auto& d = snapshots[0].device();
  EXPECT_EQ(d.differs_since_ms(), 1764144001000);
  EXPECT_TRUE(d.drifting());
  EXPECT_TRUE(d.removed());
  EXPECT_EQ(d.drift_format(), 1u);
  EXPECT_EQ(d.alerts_format(), 1u);
}

TEST(GoldenTest, V8DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV8Dir); }

// ---- v11 ----

TEST(GoldenTest, V11EventsStillDecodeToTheSameFields) { expect_events_decode_as_written(kV11Dir); }

TEST(GoldenTest, V11EventsReadBackThroughTheJournal) {
  expect_events_read_back(kV11Dir, {{"device/front-door", 2}, {"device/back-door", 1}});
}

TEST(GoldenTest, V11EventsSpotChecks) {
  auto envelopes = envelopes_of(kV11Dir);
  ASSERT_EQ(envelopes.size(), 3u);
  for (const auto& e : envelopes) EXPECT_EQ(e.lease_epoch(), 1u) << e.stream();
  EXPECT_EQ(envelopes[0].lock_state_reported().state(), events::LOCKED);
  EXPECT_EQ(envelopes[0].command_id(), "lsr-1");
  EXPECT_EQ(envelopes[2].stream(), "device/back-door");
  EXPECT_EQ(envelopes[2].position(), 3u);
}

// Logs written before v11 carry no epoch: they read as 0, "written without a lease".
TEST(GoldenTest, OlderEventsCarryNoLeaseEpoch) {
  for (const auto& dir : {kV1Dir, kV5Dir, kV10Dir})
    for (const auto& e : envelopes_of(dir)) EXPECT_EQ(e.lease_epoch(), 0u) << dir;
}

TEST(GoldenTest, V11HasNoSnapshots) { expect_snapshots_decode_as_written(kV11Dir, 0); }

TEST(GoldenTest, V11DamagedGoldenFilesAreDataLoss) { expect_damaged_copies_are_data_loss(kV11Dir); }

// ---- all versions ----

// Every directory of tests/data is a version the generator knows, and the other way round.
TEST(GoldenTest, EveryGoldenDirectoryIsAKnownVersion) {
  std::set<std::string> dirs, known;
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir))
    if (entry.is_directory()) dirs.insert(entry.path().filename().string());
  for (const auto& v : golden_versions()) known.insert(v.name);
  EXPECT_EQ(dirs, known);
}

// A new event type needs golden bytes too: extend the generator and add tests/data/v<N+1>.
TEST(GoldenTest, EveryEventTypeOfTheSchemaHasGoldenBytes) {
  std::set<int> covered;
  for (const auto& version : golden_versions()) {
    SCOPED_TRACE(version.name);
    for (const auto& e : envelopes_of(kDataDir + "/" + version.name))
      covered.insert(e.event_case());
  }
  const auto* oneof = Envelope::descriptor()->FindOneofByName("event");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i)
    EXPECT_TRUE(covered.count(oneof->field(i)->number()))
        << "event type " << oneof->field(i)->name() << " has no golden record in " << kDataDir;
}

// Likewise for every kind of snapshot state.
TEST(GoldenTest, EverySnapshotStateOfTheSchemaHasGoldenBytes) {
  std::set<int> covered;
  for (const auto& version : golden_versions()) {
    SCOPED_TRACE(version.name);
    for (const auto& s : snapshots_of(kDataDir + "/" + version.name))
      covered.insert(s.state_case());
  }
  const auto* oneof = snapshots::Snapshot::descriptor()->FindOneofByName("state");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i)
    EXPECT_TRUE(covered.count(oneof->field(i)->number()))
        << "snapshot state " << oneof->field(i)->name() << " has no golden snapshot in "
        << kDataDir;
}

}  // namespace
}  // namespace gh
