// Given (events) / when (command) / then (events or rejection) for the pure device model.
#include "actors/device/device_model.h"

#include <gtest/gtest.h>

#include <random>

#include "actors/device/device_alerts.h"
#include "actors/device/device_audit.h"
#include "actors/device/device_snapshot.h"
#include "tests/snapshot_property.h"

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
  auto events = when(Hello{{"lock", "front", "1.0"}, true, {}});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_device_registered());
  EXPECT_TRUE(events[1].has_device_came_online());
  EXPECT_TRUE(state_.registered);
  EXPECT_TRUE(state_.online);
  EXPECT_EQ(state_.name, "front");
  EXPECT_EQ(state_.last_seen_ms, kNow);
}

TEST_F(DeviceGiven, HelloWithoutAutoRegistrationIsRefused) {
  auto status = rejected(Hello{{}, false, {}});
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
}

TEST_F(DeviceGiven, RepeatedHelloChangesNothing) {
  when(Hello{{"lock", "front", "1.0"}, true, {}});
  EXPECT_TRUE(when(Hello{{"lock", "front", "1.0"}, true, {}}).empty());
  auto changed = when(Hello{{"", "", "1.1"}, true, {}});
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
  EXPECT_EQ(rejected(ReportState{events::LOCKED, {}}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(rejected(RequestLock{events::LOCK, "c1", 1000}).code(), Code::kFailedPrecondition);
}

TEST_F(DeviceGiven, LockOnlineIsSentThenConfirmedByMatchingReport) {
  when(Hello{{}, true, {}});
  auto events = lock(events::LOCK, "c1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_lock_command_requested());
  EXPECT_TRUE(events[1].has_lock_command_sent());
  EXPECT_EQ(state_.desired, events::LOCKED);
  ASSERT_TRUE(state_.pending);
  EXPECT_EQ(state_.pending->status, CommandStatus::kSent);
  EXPECT_EQ(state_.pending->requested_by.kind(), events::Cause::API_TOKEN);

  when(ReportState{events::LOCKING, {}});
  ASSERT_TRUE(state_.pending) << "LOCKING is progress, not confirmation";
  when(ReportState{events::LOCKED, {}});
  EXPECT_FALSE(state_.pending);
  EXPECT_EQ(state_.reported, events::LOCKED);
  ASSERT_NE(state_.find_command("c1"), nullptr);
  EXPECT_EQ(state_.find_command("c1")->status, CommandStatus::kConfirmed);
}

TEST_F(DeviceGiven, JammedFailsTheCommand) {
  when(Hello{{}, true, {}});
  lock(events::UNLOCK, "c1");
  when(ReportState{events::JAMMED, {}});
  EXPECT_EQ(state_.find_command("c1")->status, CommandStatus::kFailed);
  EXPECT_EQ(state_.find_command("c1")->reason, "jammed");
}

TEST_F(DeviceGiven, CommandForOfflineDeviceWaitsUntilItReturns) {
  when(Hello{{}, true, {}});
  when(SetAvailability{false, {}});
  auto events = lock(events::LOCK, "c1");
  ASSERT_EQ(events.size(), 1u) << "requested, not sent";
  EXPECT_EQ(state_.pending->status, CommandStatus::kRequested);
  EXPECT_FALSE(pending_deadline(state_)) << "no timeout runs while nobody can receive it";
  auto back = when(SetAvailability{true, {}});
  ASSERT_EQ(back.size(), 2u);
  EXPECT_TRUE(back[1].has_lock_command_sent());
  EXPECT_EQ(state_.pending->status, CommandStatus::kSent);
}

TEST_F(DeviceGiven, HelloAlsoDeliversTheWaitingCommand) {
  when(Hello{{}, true, {}});
  when(SetAvailability{false, {}});
  lock(events::LOCK, "c1");
  auto back = when(Hello{{}, true, {}});
  ASSERT_FALSE(back.empty());
  EXPECT_TRUE(back.back().has_lock_command_sent());
}

// ---- presence (docs/protocol.md "Presence") ----

TEST_F(DeviceGiven, ADoorHeardBeforeTheEpochIsUnknownUntilHeardAgain) {
  when(Hello{{}, true, {}}, kNow);
  when(ReportState{events::LOCKED, {}}, kNow);
  EXPECT_EQ(presence(state_, {kNow - 1, 0}, kNow + 5), Presence::kOnline);
  // gatehouse (or its broker) restarted at kNow + 10: what the log says is history.
  const PresenceRule restarted{kNow + 10, 0};
  EXPECT_EQ(presence(state_, restarted, kNow + 20), Presence::kUnknown);
  EXPECT_EQ(state_.last_seen_ms, kNow) << "last_seen is kept";
  // The door answers `GET` with the same state: no state change, but it is news.
  auto answer = when(ReportState{events::LOCKED, {kNow + 10, 0}}, kNow + 30);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_TRUE(answer[0].has_device_came_online());
  EXPECT_EQ(presence(state_, restarted, kNow + 31), Presence::kOnline);
  EXPECT_TRUE(when(ReportState{events::LOCKED, {kNow + 10, 0}}, kNow + 40).empty())
      << "heard again within the same session: nothing to record";
}

TEST_F(DeviceGiven, ANeverHeardDoorIsUnknownAndOneThatSaidOfflineIsOffline) {
  state_.registered = true;
  EXPECT_EQ(presence(state_, {}, kNow), Presence::kUnknown);
  when(Hello{{}, true, {}}, kNow);
  when(SetAvailability{false, {}}, kNow + 1);
  EXPECT_EQ(presence(state_, {kNow - 1, 0}, kNow + 2), Presence::kOffline);
}

TEST_F(DeviceGiven, ASilentDoorIsOfflineAfterTheConfiguredTimeAndATalkingOneIsRefreshed) {
  when(Hello{{}, true, {}}, kNow);
  const PresenceRule rule{kNow - 1, 1000};
  EXPECT_EQ(presence(state_, rule, kNow + 1000), Presence::kOnline);
  EXPECT_EQ(presence(state_, rule, kNow + 1001), Presence::kOffline);
  EXPECT_EQ(state_.last_seen_ms, kNow);
  // A door that keeps reporting the same state is re-recorded once half the time passed.
  const Heard heard{kNow - 1, 500};
  EXPECT_TRUE(when(ReportState{events::LOCKED, heard}, kNow + 100).size() == 1u)
      << "its first report: LockStateReported";
  EXPECT_TRUE(when(ReportState{events::LOCKED, heard}, kNow + 200).empty());
  auto refreshed = when(ReportState{events::LOCKED, heard}, kNow + 600);
  ASSERT_EQ(refreshed.size(), 1u);
  EXPECT_TRUE(refreshed[0].has_device_came_online());
  EXPECT_EQ(presence(state_, rule, kNow + 1500), Presence::kOnline);
}

TEST_F(DeviceGiven, ExpireOnlyAfterTheDeadline) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1", kNow);
  EXPECT_TRUE(when(ExpireCommand{"c1"}, kNow + 4999).empty());
  auto events = when(ExpireCommand{"c1"}, kNow + 5000);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(state_.find_command("c1")->status, CommandStatus::kTimedOut);
  EXPECT_TRUE(when(ExpireCommand{"c1"}, kNow + 9000).empty()) << "already finished";
}

TEST_F(DeviceGiven, NewCommandSupersedesThePendingOne) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1");
  auto events = lock(events::UNLOCK, "c2");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(state_.find_command("c1")->reason, "superseded");
  EXPECT_EQ(state_.pending->id, "c2");
  EXPECT_EQ(state_.desired, events::UNLOCKED);
}

TEST_F(DeviceGiven, RepeatedCommandIdStartsNothing) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1");
  EXPECT_TRUE(lock(events::LOCK, "c1").empty());
}

TEST_F(DeviceGiven, StrangerIsRecorded) {
  when(Hello{{}, true, {}});
  when(RecordStranger{"abc", "image/png", 42, "alert1", {}});
  EXPECT_EQ(state_.strangers_seen, 1u);
  ASSERT_TRUE(state_.last_stranger);
  EXPECT_EQ(state_.last_stranger->picture_id, "abc");
  EXPECT_EQ(rejected(RecordStranger{"", "image/png", 1, "a", {}}).code(), Code::kInvalidArgument);
}

// ---- issue 13: stranger alerts are reviewed by someone, once ----

TEST_F(DeviceGiven, AnAlertIsReviewedOnceAndTheRestStayUnreviewed) {
  when(Hello{{}, true, {}});
  when(RecordStranger{"p1", "image/png", 1, "alert1", {}});
  when(RecordStranger{"p2", "image/png", 1, "alert2", {}});
  EXPECT_EQ(state_.unreviewed, (std::vector<std::string>{"alert1", "alert2"}));
  auto events = when(ReviewAlert{"alert1"}, kNow, events::Cause::USER);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].stranger_alert_reviewed().alert_id(), "alert1");
  EXPECT_EQ(state_.unreviewed, (std::vector<std::string>{"alert2"}));
  EXPECT_EQ(rejected(ReviewAlert{"alert1"}).code(), Code::kNotFound);  // reviewed already
  EXPECT_EQ(rejected(ReviewAlert{"never"}).code(), Code::kNotFound);

  auto alerts = alerts_of("door1", history_);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_TRUE(alerts[0].reviewed);
  EXPECT_EQ(alerts[0].reviewed_by.name(), "ops");
  EXPECT_EQ(alerts[0].reviewed_by.kind(), events::Cause::USER);
  EXPECT_FALSE(alerts[1].reviewed);
  EXPECT_TRUE(newer_first(alerts[1], alerts[0]) || alerts[1].seen_at_ms == alerts[0].seen_at_ms);

  auto entries = timeline(history_);
  ASSERT_EQ(entries.size(), history_.size());
  EXPECT_EQ(entries.back().event, "StrangerAlertReviewed");
  EXPECT_EQ(entries.back().cause.name(), "ops");
  EXPECT_EQ(entries.front().event, "DeviceRegistered");
}

TEST_F(DeviceGiven, OnlyTheNewestUnreviewedAlertsAreKept) {
  when(Hello{{}, true, {}});
  for (size_t i = 0; i <= State::kUnreviewed; ++i)
    when(
        RecordStranger{
            "p" + std::to_string(i), "image/png", 1, "a" + std::to_string(i), {0, 0, 0, 0}},
        kNow + static_cast<int64_t>(i));
  EXPECT_EQ(state_.unreviewed.size(), State::kUnreviewed);
  EXPECT_EQ(state_.unreviewed.front(), "a1");
  EXPECT_EQ(rejected(ReviewAlert{"a0"}).code(), Code::kNotFound);
}

// A device snapshot written before schema v10 cannot tell which alerts are unreviewed.
TEST(DeviceSnapshot, SnapshotWithoutAlertsFormatIsIgnored) {
  State state;
  state.id = "d1";
  state.version = 4;
  state.unreviewed = {"a1"};
  auto snapshot = to_snapshot(state, kNow);
  auto restored = from_snapshot(snapshot);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->unreviewed, state.unreviewed);
  snapshot.mutable_device()->clear_alerts_format();
  EXPECT_FALSE(from_snapshot(snapshot));
}

// ---- item 4 of issue 9: a report no command explains is recorded as such ----

TEST_F(DeviceGiven, DoorUnlockingItselfIsRecordedAsUnexpected) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1");
  when(ReportState{events::LOCKED, {}});  // confirms c1
  ASSERT_EQ(state_.desired, events::LOCKED);

  auto events = when(ReportState{events::UNLOCKED, {}}, kNow + 1000);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_lock_state_unexpected());
  EXPECT_EQ(events[0].lock_state_unexpected().reported(), events::UNLOCKED);
  EXPECT_EQ(events[0].lock_state_unexpected().desired_at_the_time(), events::LOCKED);
  EXPECT_EQ(state_.desired, events::LOCKED) << "desired must not follow an unexplained report";
  EXPECT_EQ(state_.reported, events::UNLOCKED);
  ASSERT_TRUE(state_.unexpected);
  EXPECT_EQ(state_.unexpected->reported, events::UNLOCKED);
  EXPECT_EQ(state_.unexpected->at_ms, kNow + 1000);

  EXPECT_TRUE(when(ReportState{events::UNLOCKED, {}}).empty()) << "a repeat is explained";
  EXPECT_TRUE(state_.unexpected) << "still unexplained";

  events = when(ReportState{events::LOCKED, {}});  // back where it should be
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].has_lock_state_reported());
  EXPECT_FALSE(state_.unexpected);
}

TEST_F(DeviceGiven, ReportsTowardsTheSentCommandAreExplained) {
  when(Hello{{}, true, {}});
  EXPECT_TRUE(when(ReportState{events::UNLOCKED, {}})[0].has_lock_state_reported())
      << "the first report of a new door";
  lock(events::LOCK, "c1");
  EXPECT_TRUE(when(ReportState{events::LOCKING, {}})[0].has_lock_state_reported());
  auto events = when(ReportState{events::LOCKED, {}});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_lock_state_reported());
  EXPECT_TRUE(events[1].has_lock_command_confirmed());
  lock(events::UNLOCK, "c2");
  events = when(ReportState{events::JAMMED, {}});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_lock_state_reported());
  EXPECT_TRUE(events[1].has_lock_command_failed());
  EXPECT_FALSE(state_.unexpected);
}

TEST_F(DeviceGiven, ReportsNoCommandExplainsAreUnexpected) {
  when(Hello{{}, true, {}});
  when(ReportState{events::LOCKED, {}});
  // Never commanded (desired UNKNOWN): opened by hand.
  EXPECT_TRUE(when(ReportState{events::UNLOCKING, {}})[0].has_lock_state_unexpected());
  // A LOCK towards the other way does not explain UNLOCKED.
  lock(events::LOCK, "c1");
  EXPECT_TRUE(when(ReportState{events::UNLOCKED, {}})[0].has_lock_state_unexpected());
  // JAMMED without a command in flight.
  when(ReportState{events::LOCKED, {}});  // confirms c1
  EXPECT_TRUE(when(ReportState{events::JAMMED, {}})[0].has_lock_state_unexpected());
  // A command the door was never sent (it was offline) explains nothing.
  when(SetAvailability{false, {}});
  lock(events::LOCK, "c2");
  ASSERT_EQ(state_.pending->status, CommandStatus::kRequested);
  auto events = when(ReportState{events::LOCKING, {}});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_device_came_online());
  EXPECT_TRUE(events[1].has_lock_state_unexpected());
  EXPECT_EQ(events[1].lock_state_unexpected().desired_at_the_time(), events::LOCKED);
}

TEST_F(DeviceGiven, ConfirmedCommandClearsTheUnexpectedReport) {
  when(Hello{{}, true, {}});
  when(ReportState{events::LOCKED, {}});
  when(ReportState{events::UNLOCKED, {}});
  ASSERT_TRUE(state_.unexpected);
  lock(events::LOCK, "c1");
  EXPECT_TRUE(state_.unexpected);
  when(ReportState{events::LOCKED, {}});
  EXPECT_FALSE(state_.unexpected);
  auto entries = audit(history_);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind, AuditKind::kUnexpected);
  EXPECT_EQ(entries[0].unexpected.reported, events::UNLOCKED);
  EXPECT_EQ(entries[0].unexpected.version, 4u);
  EXPECT_EQ(entries[1].kind, AuditKind::kCommand);
  EXPECT_EQ(entries[1].command.status, CommandStatus::kConfirmed);
}

// ---- pictures: quota, retention, rate limit ----

std::vector<std::string> dropped_ids(const std::vector<Envelope>& events, const char* reason) {
  std::vector<std::string> out;
  for (const auto& e : events)
    if (e.has_stranger_pictures_dropped() && e.stranger_pictures_dropped().reason() == reason)
      for (const auto& id : e.stranger_pictures_dropped().picture_ids()) out.push_back(id);
  return out;
}

TEST_F(DeviceGiven, PicturesOverTheCountQuotaDropTheOldest) {
  when(Hello{{}, true, {}});
  PictureLimits limits{3, 0, 0, 0};
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(when(RecordStranger{"p" + std::to_string(i), "image/jpeg", 10, "a", limits}).size(),
              1u);
  auto events = when(RecordStranger{"p3", "image/jpeg", 10, "a", limits});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_stranger_seen());
  EXPECT_EQ(dropped_ids(events, "quota"), std::vector<std::string>{"p0"});
  EXPECT_EQ(dropped_pictures(state_, events), std::vector<std::string>{"p0"});
  ASSERT_EQ(state_.pictures.size(), 3u);
  EXPECT_EQ(state_.pictures.front().picture_id, "p1");
  EXPECT_EQ(state_.strangers_seen, 4u) << "the StrangerSeen events stay";
}

TEST_F(DeviceGiven, PicturesOverTheByteQuotaDropTheOldestButNeverTheNewOne) {
  when(Hello{{}, true, {}});
  PictureLimits limits{0, 100, 0, 0};
  when(RecordStranger{"a", "image/jpeg", 40, "x", limits});
  when(RecordStranger{"b", "image/jpeg", 40, "x", limits});
  auto events = when(RecordStranger{"c", "image/jpeg", 40, "x", limits});
  EXPECT_EQ(dropped_ids(events, "quota"), std::vector<std::string>{"a"});
  events = when(RecordStranger{"huge", "image/jpeg", 500, "x", limits});
  EXPECT_EQ(dropped_ids(events, "quota"), (std::vector<std::string>{"b", "c"}));
  ASSERT_EQ(state_.pictures.size(), 1u);
  EXPECT_EQ(state_.pictures[0].picture_id, "huge");
}

TEST_F(DeviceGiven, AResentPictureIsKeptOnceAndItsBytesAreNotDeleted) {
  when(Hello{{}, true, {}});
  PictureLimits limits{2, 0, 0, 0};
  when(RecordStranger{"a", "image/jpeg", 1, "x", limits});
  when(RecordStranger{"b", "image/jpeg", 1, "x", limits});
  auto events = when(RecordStranger{"a", "image/jpeg", 1, "x", limits});
  EXPECT_TRUE(dropped_ids(events, "quota").empty());
  ASSERT_EQ(state_.pictures.size(), 2u);
  EXPECT_EQ(state_.pictures[1].picture_id, "a") << "moved to the newest place";
  events = when(RecordStranger{"c", "image/jpeg", 1, "x", limits});
  EXPECT_EQ(dropped_ids(events, "quota"), std::vector<std::string>{"b"});
}

TEST_F(DeviceGiven, PicturesPastTheRetentionAreDropped) {
  when(Hello{{}, true, {}});
  PictureLimits limits{0, 0, 1000, 0};
  when(RecordStranger{"old", "image/jpeg", 1, "x", limits}, kNow);
  when(RecordStranger{"new", "image/jpeg", 1, "x", limits}, kNow + 500);
  EXPECT_TRUE(when(PrunePictures{limits}, kNow + 1000).empty()) << "not older than 1000 ms yet";
  auto events = when(PrunePictures{limits}, kNow + 1001, events::Cause::SYSTEM);
  EXPECT_EQ(dropped_ids(events, "retention"), std::vector<std::string>{"old"});
  events = when(RecordStranger{"newest", "image/jpeg", 1, "x", limits}, kNow + 5000);
  EXPECT_EQ(dropped_ids(events, "retention"), std::vector<std::string>{"new"});
  ASSERT_EQ(state_.pictures.size(), 1u);
  EXPECT_TRUE(when(PrunePictures{limits}, kNow + 5000).empty());
}

TEST_F(DeviceGiven, PicturesOverTheRateLimitAreRefused) {
  when(Hello{{}, true, {}});
  PictureLimits limits{0, 0, 0, 6};
  for (int i = 0; i < 6; ++i)
    when(RecordStranger{"p" + std::to_string(i), "image/jpeg", 1, "x", limits}, kNow + i * 1000);
  auto refused = decide(state_, RecordStranger{"p6", "image/jpeg", 1, "x", limits}, kNow + 59999);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Code::kTooLarge);
  // A minute after the first, one more is allowed.
  EXPECT_EQ(when(RecordStranger{"p6", "image/jpeg", 1, "x", limits}, kNow + 60000).size(), 1u);
}

TEST_F(DeviceGiven, AuditShowsWhoAskedAndTheOutcome) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1");
  when(ReportState{events::LOCKED, {}});
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
  const PictureLimits limits{4, 30, 40000, 0};
  when(Hello{{"lock", "front", "1"}, true, {}});
  for (int i = 0; i < 400; ++i) {
    int64_t now = kNow + i * 1000;
    switch (random() % 8) {
      case 0:
        (void)lock(events::LOCK, "c" + std::to_string(i), now);
        break;
      case 1:
        (void)lock(events::UNLOCK, "c" + std::to_string(i), now);
        break;
      case 2:
        (void)when(ReportState{random() % 2 == 0 ? events::LOCKED : events::UNLOCKED, {}}, now);
        break;
      case 3:
        (void)when(ReportState{events::JAMMED, {}}, now);
        break;
      case 4:
        (void)when(SetAvailability{random() % 2 == 0, {}}, now);
        break;
      case 5:
        if (state_.pending) (void)when(ExpireCommand{state_.pending->id}, now + 100000);
        (void)when(CheckDrift{}, now + 100000, events::Cause::SYSTEM);
        break;
      case 6:
        (void)when(RecordStranger{"p" + std::to_string(i % 50), "image/jpeg", 9,
                                  "a" + std::to_string(i), limits},
                   now);
        break;
      case 7:
        (void)when(PrunePictures{limits}, now);
        if (!state_.unreviewed.empty() && i % 2 == 0)
          (void)when(ReviewAlert{state_.unreviewed.front()}, now, events::Cause::USER);
        break;
    }
  }
  ASSERT_GT(history_.size(), 200u);
  property::SnapshotCodec<State> codec{
      [](const std::vector<Envelope>& events) { return replay("door1", events); },
      [](const State& s) { return to_snapshot(s, kNow); },
      [](const snapshots::Snapshot& s) { return from_snapshot(s); },
      [](State& s, const Envelope& e) { apply(s, e); }};
  property::expect_snapshot_plus_tail_equals_replay(codec, history_, state_, 37);
}

// ---- issue 11: drift (desired != reported for longer than the command timeout) ----

TEST_F(DeviceGiven, ADoorThatNeverReportsTheDesiredStateDriftsAfterTheCommandTimeout) {
  when(Hello{{}, true, {}});
  when(ReportState{events::UNLOCKED, {}});
  lock(events::LOCK, "c1", kNow + 1000);
  EXPECT_EQ(state_.differs_since_ms, kNow + 1000);
  ASSERT_EQ(drift_deadline(state_), kNow + 6000) << "differs since + the command's 5 s timeout";
  EXPECT_TRUE(when(CheckDrift{}, kNow + 5999, events::Cause::SYSTEM).empty()) << "not yet";
  auto events = when(CheckDrift{}, kNow + 6000, events::Cause::SYSTEM);
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].has_door_drifted());
  EXPECT_EQ(events[0].door_drifted().desired(), events::LOCKED);
  EXPECT_EQ(events[0].door_drifted().reported(), events::UNLOCKED);
  EXPECT_EQ(events[0].door_drifted().differs_since_ms(), kNow + 1000);
  EXPECT_EQ(events[0].door_drifted().timeout_ms(), 5000);
  EXPECT_TRUE(state_.drifting);
  EXPECT_FALSE(drift_deadline(state_)) << "one drift event per drift";
  EXPECT_TRUE(when(CheckDrift{}, kNow + 9000, events::Cause::SYSTEM).empty());
}

TEST_F(DeviceGiven, AnOfflineDoorThatNeverGetsItsCommandDriftsToo) {
  when(Provision{{"lock", "back", ""}}, kNow, events::Cause::OPERATOR);
  lock(events::UNLOCK, "c1");
  EXPECT_EQ(state_.pending->status, CommandStatus::kRequested);
  auto events = when(CheckDrift{}, kNow + 5000, events::Cause::SYSTEM);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].door_drifted().reported(), events::LOCK_STATE_UNKNOWN);
}

TEST_F(DeviceGiven, ADoorThatCatchesUpInTimeNeverDrifts) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1");
  when(ReportState{events::LOCKED, {}}, kNow + 4000);
  EXPECT_EQ(state_.differs_since_ms, 0);
  EXPECT_FALSE(drift_deadline(state_));
  EXPECT_TRUE(when(CheckDrift{}, kNow + 60000, events::Cause::SYSTEM).empty());
  EXPECT_FALSE(state_.drifting);
}

TEST_F(DeviceGiven, NothingDesiredNeverDrifts) {
  when(Hello{{}, true, {}});
  when(ReportState{events::UNLOCKED, {}});
  EXPECT_FALSE(differs(state_));
  EXPECT_TRUE(when(CheckDrift{}, kNow + 600000, events::Cause::SYSTEM).empty());
}

TEST_F(DeviceGiven, TheDriftEndsWhenTheDoorReportsTheDesiredState) {
  when(Hello{{}, true, {}});
  lock(events::LOCK, "c1");
  when(CheckDrift{}, kNow + 5000, events::Cause::SYSTEM);
  ASSERT_TRUE(state_.drifting);
  when(ReportState{events::JAMMED, {}}, kNow + 7000);
  EXPECT_TRUE(state_.drifting) << "still not what is desired";
  auto events = when(ReportState{events::LOCKED, {}}, kNow + 8000);
  ASSERT_FALSE(events.empty());
  ASSERT_TRUE(events.back().has_door_drift_ended());
  EXPECT_EQ(events.back().door_drift_ended().state(), events::LOCKED);
  EXPECT_FALSE(state_.drifting);
  EXPECT_EQ(state_.differs_since_ms, 0);
}

TEST_F(DeviceGiven, TheDriftEndsWhenACommandAsksForWhatTheDoorReports) {
  when(Hello{{}, true, {}});
  when(ReportState{events::UNLOCKED, {}});
  lock(events::LOCK, "c1");
  when(CheckDrift{}, kNow + 5000, events::Cause::SYSTEM);
  ASSERT_TRUE(state_.drifting);
  auto events = lock(events::UNLOCK, "c2", kNow + 6000);
  ASSERT_TRUE(events.back().has_door_drift_ended());
  EXPECT_FALSE(state_.drifting);
}

TEST(DeviceSnapshot, SnapshotWithoutDriftFormatIsIgnored) {
  State state;
  state.id = "d1";
  state.version = 4;
  state.differs_since_ms = kNow;
  state.drifting = true;
  auto snapshot = to_snapshot(state, kNow);
  auto restored = from_snapshot(snapshot);
  ASSERT_TRUE(restored);
  EXPECT_TRUE(restored->drifting);
  EXPECT_EQ(restored->differs_since_ms, kNow);
  snapshot.mutable_device()->clear_drift_format();
  EXPECT_FALSE(from_snapshot(snapshot));
}

// ---- issue 11: an operator removes a door ----

TEST_F(DeviceGiven, RemovalFailsTheCommandInFlightAndUnregistersTheDoor) {
  when(Hello{{"lock", "front", "1"}, true, {}});
  lock(events::LOCK, "c1");
  auto events = when(RemoveDevice{}, kNow + 10, events::Cause::OPERATOR);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].lock_command_failed().reason(), "removed");
  ASSERT_TRUE(events[1].has_device_removed());
  EXPECT_EQ(events[1].device_removed().name(), "front");
  EXPECT_FALSE(state_.registered);
  EXPECT_TRUE(state_.removed);
  EXPECT_EQ(state_.removed_at_ms, kNow + 10);
  EXPECT_FALSE(state_.pending);
  EXPECT_FALSE(drift_deadline(state_)) << "a removed door never drifts";
  auto refused = rejected(ReportState{events::LOCKED, {}});
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.message().find("removed"), std::string::npos) << refused.to_string();
  EXPECT_EQ(rejected(RequestLock{events::LOCK, "c2", 1000}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(rejected(RemoveDevice{}).code(), Code::kFailedPrecondition) << "removed already";
  when(Provision{{"lock", "front", ""}}, kNow + 20, events::Cause::OPERATOR);
  EXPECT_TRUE(state_.registered) << "provisioning again brings it back";
  EXPECT_FALSE(state_.removed);
}

TEST_F(DeviceGiven, ADoorNeverRegisteredCannotBeRemoved) {
  EXPECT_EQ(rejected(RemoveDevice{}).code(), Code::kFailedPrecondition);
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

// A snapshot written before schema v4 lacks the kept pictures: replaying is the only way to
// know which picture bytes are still stored.
TEST(DeviceSnapshot, SnapshotWithoutDeviceFormatIsIgnored) {
  State state;
  state.id = "d1";
  state.version = 4;
  auto snapshot = to_snapshot(state, kNow);
  EXPECT_TRUE(from_snapshot(snapshot));
  snapshot.mutable_device()->clear_device_format();
  EXPECT_FALSE(from_snapshot(snapshot));
}

}  // namespace
}  // namespace gh::device
