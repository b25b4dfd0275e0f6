// Golden files guard schema evolution (DESIGN.md): bytes written by an older build must keep
// decoding to the same events. tests/data/v1/ holds a log with every event type of schema
// v1 and a device snapshot, as the journal and the snapshot store wrote them, plus their
// expected decoding as Protobuf text, and damaged copies that must read as data loss.
//
// Regenerate (only when adding a schema version, never to "fix" a failing test):
//   GH_WRITE_GOLDEN=1 build/tests/events/events_test --gtest_filter=GoldenTest.Generate
// writes tests/data/v1/; for a new schema version change kVersionDir and extend the log.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "events/keys.h"
#include "snapshots/snapshot_store.h"
#include "tests/events/golden_format.h"
#include "tests/events/temp_store.h"

namespace gh {
namespace {

using testing::decode_records;
using testing::read_file;

const std::string kDataDir = std::string(GH_SOURCE_DIR) + "/tests/data";
const std::string kVersionDir = kDataDir + "/v1";

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

// Every event type of schema v1, through the real journal.
void write_v1_log(Journal& journal) {
  const auto device = cause(events::Cause::DEVICE, "front-door", "mqtt");
  const auto user = cause(events::Cause::USER, "alice", "http");
  int64_t time = 1763884800000;  // 2025-11-23T08:00:00Z
  auto append = [&](const std::string& stream, const events::Cause& by,
                    const std::string& command_id, std::vector<Envelope> list,
                    std::vector<Blob> blobs = {}) {
    AppendRequest request;
    request.stream = stream;
    request.expected_version = *journal.stream_version(stream);
    request.command_id = command_id;
    request.cause = by;
    request.events = std::move(list);
    request.blobs = std::move(blobs);
    request.time_unix_ms = (time += 1000);
    auto result = journal.append_and_wait(std::move(request));
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
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

TEST(GoldenTest, Generate) {
  if (std::getenv("GH_WRITE_GOLDEN") == nullptr)
    GTEST_SKIP() << "set GH_WRITE_GOLDEN=1 to rewrite " << kVersionDir;
  testing::TempStore store;
  write_v1_log(store.journal());
  std::vector<std::string> records;
  std::string text;
  ASSERT_TRUE(store.journal()
                  .read_all(0,
                            [&](const Envelope& e) {
                              records.push_back(e.SerializeAsString());
                              text += one_line(e) + "\n";
                              return true;
                            })
                  .is_ok());
  SnapshotStore snapshots(&store.database());
  ASSERT_TRUE(snapshots.write(v1_snapshot()).is_ok());
  auto listing = snapshots.list("device/front-door");
  ASSERT_TRUE(listing.is_ok());
  ASSERT_EQ(listing->valid.size(), 1u);

  std::filesystem::create_directories(kVersionDir);
  const std::string log = testing::encode_records(records);
  ASSERT_TRUE(testing::write_file(kVersionDir + "/events.bin", log));
  ASSERT_TRUE(testing::write_file(kVersionDir + "/events.txt", text));
  ASSERT_TRUE(
      testing::write_file(kVersionDir + "/snapshot.bin",
                          testing::encode_records({listing->valid[0].SerializeAsString()})));
  ASSERT_TRUE(
      testing::write_file(kVersionDir + "/snapshot.txt", one_line(listing->valid[0]) + "\n"));
  // Damaged copies: the last record cut short, and one byte of the third record's body flipped.
  ASSERT_TRUE(
      testing::write_file(kVersionDir + "/events_truncated.bin", log.substr(0, log.size() - 5)));
  std::string flipped = log;
  size_t third = 0;
  for (int i = 0; i < 2; ++i) third += 8 + testing::get_be32(log, third);
  flipped[third + 8 + 3] = static_cast<char>(flipped[third + 8 + 3] ^ 0x01);
  ASSERT_TRUE(testing::write_file(kVersionDir + "/events_flipped.bin", flipped));
}

TEST(GoldenTest, V1EventsStillDecodeToTheSameFields) {
  auto file = read_file(kVersionDir + "/events.bin");
  ASSERT_TRUE(file.is_ok()) << file.status().to_string();
  auto records = decode_records(*file);
  ASSERT_TRUE(records.is_ok()) << records.status().to_string();
  auto expected = read_file(kVersionDir + "/events.txt");
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

// The old bytes laid out as the journal lays them out (keys.h) read back through the
// journal's own read path, with its placement and gap checks.
TEST(GoldenTest, V1EventsReadBackThroughTheJournal) {
  auto records = decode_records(*read_file(kVersionDir + "/events.bin"));
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
  auto door = store.journal().read_stream("device/front-door", 0);
  ASSERT_TRUE(door.is_ok()) << door.status().to_string();
  EXPECT_EQ(door->size(), 13u);
}

TEST(GoldenTest, V1EventsSpotChecks) {
  auto records = decode_records(*read_file(kVersionDir + "/events.bin"));
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
  auto records = decode_records(*read_file(kVersionDir + "/snapshot.bin"));
  ASSERT_TRUE(records.is_ok()) << records.status().to_string();
  ASSERT_EQ(records->size(), 1u);
  snapshots::Snapshot s;
  ASSERT_TRUE(s.ParseFromString((*records)[0]));
  EXPECT_TRUE(s.GetReflection()->GetUnknownFields(s).empty());
  EXPECT_EQ(one_line(s), lines_of(*read_file(kVersionDir + "/snapshot.txt")).at(0));
  EXPECT_EQ(s.device().recent_size(), 2);
  EXPECT_EQ(s.device().pending().id(), "cmd-4");
  EXPECT_EQ(s.device().version(), s.version());
}

TEST(GoldenTest, DamagedGoldenFilesAreDataLoss) {
  auto truncated = decode_records(*read_file(kVersionDir + "/events_truncated.bin"));
  ASSERT_FALSE(truncated.is_ok());
  EXPECT_EQ(truncated.status().code(), Code::kDataLoss);
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
  auto flipped = decode_records(*read_file(kVersionDir + "/events_flipped.bin"));
  ASSERT_FALSE(flipped.is_ok());
  EXPECT_EQ(flipped.status().code(), Code::kDataLoss);
  EXPECT_EQ(flipped.status().message(), "record 3: checksum mismatch");
}

// A new event type needs golden bytes too: extend the generator and add tests/data/v<N+1>.
TEST(GoldenTest, EveryEventTypeOfTheSchemaHasGoldenBytes) {
  std::set<int> covered;
  for (const auto& dir : std::filesystem::directory_iterator(kDataDir)) {
    auto file = read_file(dir.path().string() + "/events.bin");
    if (!file.is_ok()) continue;
    auto records = decode_records(*file);
    ASSERT_TRUE(records.is_ok()) << dir.path() << ": " << records.status().to_string();
    for (const auto& r : *records) {
      Envelope e;
      if (e.ParseFromString(r)) covered.insert(e.event_case());
    }
  }
  const auto* oneof = Envelope::descriptor()->FindOneofByName("event");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i)
    EXPECT_TRUE(covered.count(oneof->field(i)->number()))
        << "event type " << oneof->field(i)->name() << " has no golden record in " << kDataDir;
}

}  // namespace
}  // namespace gh
