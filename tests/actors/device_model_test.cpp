// Given (events) / when (command) / then (events or rejection) for the pure device model.
#include "actors/device/device_model.h"

#include <gtest/gtest.h>

#include <random>

#include "actors/device/device_audit.h"
#include "actors/device/device_snapshot.h"

namespace gh::device {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

// Stamps and applies what decide() returned, as the actor does after the append.
class DeviceGiven : public ::testing::Test {
 protected:
  void SetUp() override { state_.id = "door1"; }

  std::vector<Envelope> when(const Command& command, int64_t now = kNow,
                             events::Cause::Kind kind = events::Cause::DEVICE,
                             const std::string& command_id = "") {
    auto result = decide(state_, command, now);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    if (!result) return {};
    for (auto& e : *result) {
      e.set_stream("device/door1");
      e.set_version(state_.version + 1);
      e.set_time_unix_ms(now);
      e.set_command_id(command_id);
      e.mutable_cause()->set_kind(kind);
      e.mutable_cause()->set_name(kind == events::Cause::DEVICE ? "door1" : "ops");
      e.mutable_cause()->set_channel(kind == events::Cause::DEVICE ? "mqtt" : "http");
      apply(state_, e);
      history_.push_back(e);
    }
    return *result;
  }

  Status rejected(const Command& command) {
    auto result = decide(state_, command, kNow);
    EXPECT_FALSE(result.is_ok());
    return result.status();
  }

  std::vector<Envelope> lock(LockAction action, const std::string& id, int64_t now = kNow) {
    return when(RequestLock{action, id, 5000}, now, events::Cause::API_TOKEN, id);
  }

  State state_;
  std::vector<Envelope> history_;
};

TEST_F(DeviceGiven, FirstHelloRegistersAndComesOnline) {
  auto events = when(Hello{{"lock", "front", "1.0"}, true});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_device_registered());
  EXPECT_TRUE(events[1].has_device_came_online());
  EXPECT_TRUE(state_.registered);
  EXPECT_TRUE(state_.online);
  EXPECT_EQ(state_.name, "front");
  EXPECT_EQ(state_.last_seen_ms, kNow);
}

TEST_F(DeviceGiven, HelloWithoutAutoRegistrationIsRefused) {
  auto status = rejected(Hello{{}, false});
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
}

TEST_F(DeviceGiven, RepeatedHelloChangesNothing) {
  when(Hello{{"lock", "front", "1.0"}, true});
  EXPECT_TRUE(when(Hello{{"lock", "front", "1.0"}, true}).empty());
  auto changed = when(Hello{{"", "", "1.1"}, true});
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(state_.firmware, "1.1");
  EXPECT_EQ(state_.name, "front") << "an omitted field keeps its value";
}

TEST_F(DeviceGiven, ProvisionTwiceIsAlreadyExists) {
  when(Provision{{"lock", "back", ""}}, kNow, events::Cause::OPERATOR);
  EXPECT_TRUE(state_.provisioned);
  EXPECT_FALSE(state_.online);
  EXPECT_EQ(rejected(Provision{{}}).code(), Code::kAlreadyExists);
}

TEST_F(DeviceGiven, UnregisteredDeviceCannotReportOrBeCommanded) {
  EXPECT_EQ(rejected(ReportState{events::LOCKED}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(rejected(RequestLock{events::LOCK, "c1", 1000}).code(), Code::kFailedPrecondition);
}

TEST_F(DeviceGiven, LockOnlineIsSentThenConfirmedByMatchingReport) {
  when(Hello{{}, true});
  auto events = lock(events::LOCK, "c1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_lock_command_requested());
  EXPECT_TRUE(events[1].has_lock_command_sent());
  EXPECT_EQ(state_.desired, events::LOCKED);
  ASSERT_TRUE(state_.pending);
  EXPECT_EQ(state_.pending->status, CommandStatus::kSent);
  EXPECT_EQ(state_.pending->requested_by.kind(), events::Cause::API_TOKEN);

  when(ReportState{events::LOCKING});
  ASSERT_TRUE(state_.pending) << "LOCKING is progress, not confirmation";
  when(ReportState{events::LOCKED});
  EXPECT_FALSE(state_.pending);
  EXPECT_EQ(state_.reported, events::LOCKED);
  ASSERT_NE(state_.find_command("c1"), nullptr);
  EXPECT_EQ(state_.find_command("c1")->status, CommandStatus::kConfirmed);
}

TEST_F(DeviceGiven, JammedFailsTheCommand) {
  when(Hello{{}, true});
  lock(events::UNLOCK, "c1");
  when(ReportState{events::JAMMED});
  EXPECT_EQ(state_.find_command("c1")->status, CommandStatus::kFailed);
  EXPECT_EQ(state_.find_command("c1")->reason, "jammed");
}

TEST_F(DeviceGiven, CommandForOfflineDeviceWaitsUntilItReturns) {
  when(Hello{{}, true});
  when(SetAvailability{false});
  auto events = lock(events::LOCK, "c1");
  ASSERT_EQ(events.size(), 1u) << "requested, not sent";
  EXPECT_EQ(state_.pending->status, CommandStatus::kRequested);
  EXPECT_FALSE(pending_deadline(state_)) << "no timeout runs while nobody can receive it";
  auto back = when(SetAvailability{true});
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(back[1].has_lock_command_sent());
  EXPECT_EQ(state_.pending->status, CommandStatus::kSent);
}

TEST_F(DeviceGiven, HelloAlsoDeliversTheWaitingCommand) {
  when(Hello{{}, true});
  when(SetAvailability{false});
  lock(events::LOCK, "c1");
  auto back = when(Hello{{}, true});
  ASSERT_FALSE(back.empty());
  EXPECT_TRUE(back.back().has_lock_command_sent());
}

TEST_F(DeviceGiven, ExpireOnlyAfterTheDeadline) {
  when(Hello{{}, true});
  lock(events::LOCK, "c1", kNow);
  EXPECT_TRUE(when(ExpireCommand{"c1"}, kNow + 4999).empty());
  auto events = when(ExpireCommand{"c1"}, kNow + 5000);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(state_.find_command("c1")->status, CommandStatus::kTimedOut);
  EXPECT_TRUE(when(ExpireCommand{"c1"}, kNow + 9000).empty()) << "already finished";
}

TEST_F(DeviceGiven, NewCommandSupersedesThePendingOne) {
  when(Hello{{}, true});
  lock(events::LOCK, "c1");
  auto events = lock(events::UNLOCK, "c2");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(state_.find_command("c1")->reason, "superseded");
  EXPECT_EQ(state_.pending->id, "c2");
  EXPECT_EQ(state_.desired, events::UNLOCKED);
}

TEST_F(DeviceGiven, RepeatedCommandIdStartsNothing) {
  when(Hello{{}, true});
  lock(events::LOCK, "c1");
  EXPECT_TRUE(lock(events::LOCK, "c1").empty());
}

TEST_F(DeviceGiven, StrangerIsRecorded) {
  when(Hello{{}, true});
  when(RecordStranger{"abc", "image/png", 42, "alert1"});
  EXPECT_EQ(state_.strangers_seen, 1u);
  ASSERT_TRUE(state_.last_stranger);
  EXPECT_EQ(state_.last_stranger->picture_id, "abc");
  EXPECT_EQ(rejected(RecordStranger{"", "image/png", 1, "a"}).code(), Code::kInvalidArgument);
}

TEST_F(DeviceGiven, AuditShowsWhoAskedAndTheOutcome) {
  when(Hello{{}, true});
  lock(events::LOCK, "c1");
  when(ReportState{events::LOCKED});
  lock(events::UNLOCK, "c2");
  lock(events::LOCK, "c3");
  auto entries = audit(history_);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].command.status, CommandStatus::kConfirmed);
  EXPECT_EQ(entries[0].command.requested_by.channel(), "http");
  EXPECT_EQ(entries[1].command.status, CommandStatus::kFailed);
  EXPECT_EQ(entries[2].command.status, CommandStatus::kSent);
}

TEST(DeviceModel, ParsesLockStatesAndActions) {
  EXPECT_EQ(parse_lock_state("locked"), events::LOCKED);
  EXPECT_EQ(parse_lock_state("JAMMED"), events::JAMMED);
  EXPECT_FALSE(parse_lock_state("OPEN"));
  EXPECT_FALSE(parse_lock_state(""));
  EXPECT_EQ(parse_action("unlock"), events::UNLOCK);
  EXPECT_FALSE(parse_action("toggle"));
}

// Generated histories: snapshot at any point + the tail == full replay, and the snapshot
// survives encode/decode.
TEST_F(DeviceGiven, SnapshotPlusTailEqualsFullReplayOverGeneratedHistories) {
  std::mt19937 random(7);
  when(Hello{{"lock", "front", "1"}, true});
  for (int i = 0; i < 400; ++i) {
    int64_t now = kNow + i * 1000;
    switch (random() % 7) {
      case 0:
        (void)lock(events::LOCK, "c" + std::to_string(i), now);
        break;
      case 1:
        (void)lock(events::UNLOCK, "c" + std::to_string(i), now);
        break;
      case 2:
        (void)when(ReportState{events::LOCKED}, now);
        break;
      case 3:
        (void)when(ReportState{events::JAMMED}, now);
        break;
      case 4:
        (void)when(SetAvailability{random() % 2 == 0}, now);
        break;
      case 5:
        if (state_.pending) (void)when(ExpireCommand{state_.pending->id}, now + 100000);
        break;
      case 6:
        (void)when(RecordStranger{"p" + std::to_string(i), "image/jpeg", 9, "a"}, now);
        break;
    }
  }
  ASSERT_GT(history_.size(), 200u);
  const auto full = replay("door1", history_);
  for (size_t cut = 0; cut <= history_.size(); cut += 37) {
    std::vector<Envelope> head(history_.begin(), history_.begin() + cut);
    auto snapshot = to_snapshot(replay("door1", head), kNow);
    snapshots::Snapshot decoded;
    ASSERT_TRUE(decoded.ParseFromString(snapshot.SerializeAsString()));
    auto restored = from_snapshot(decoded);
    ASSERT_TRUE(restored) << "cut " << cut;
    for (size_t i = cut; i < history_.size(); ++i) apply(*restored, history_[i]);
    EXPECT_EQ(to_snapshot(*restored, kNow).SerializeAsString(),
              to_snapshot(full, kNow).SerializeAsString())
        << "cut " << cut;
  }
}

TEST(DeviceSnapshot, InconsistentSnapshotIsRejected) {
  State state;
  state.id = "d1";
  state.version = 4;
  auto snapshot = to_snapshot(state, kNow);
  snapshot.set_version(5);
  EXPECT_FALSE(from_snapshot(snapshot));
  snapshots::Snapshot empty;
  EXPECT_FALSE(from_snapshot(empty));
}

}  // namespace
}  // namespace gh::device
