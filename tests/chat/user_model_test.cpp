// Given (events) / when (command) / then (events or rejection) for the pure user model.
#include "actors/user/user_model.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "actors/user/user_snapshot.h"
#include "tests/snapshot_property.h"

namespace gh::user {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMinute = 60'000;
const std::string kHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
const std::string kAnswerHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$YW5zd2Vy";

// A session token's SHA-256 as the actor would compute it: 32 bytes.
std::string token(int i) { return std::string(31, 't') + static_cast<char>('A' + i % 50); }

// Stamps and applies what decide() returned, as the actor does after the append.
class UserGiven : public ::testing::Test {
 protected:
  void SetUp() override { state_.name = "alice"; }

  std::vector<Envelope> when(const Command& command, int64_t now = kNow,
                             events::Cause::Kind kind = events::Cause::USER) {
    auto result = decide(state_, command, now, policy_);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    if (!result) return {};
    for (auto& e : *result) {
      e.set_stream("user/" + state_.name);
      e.set_version(state_.version + 1);
      e.set_time_unix_ms(now);
      e.mutable_cause()->set_kind(kind);
      e.mutable_cause()->set_name(kind == events::Cause::OPERATOR ? "root" : state_.name);
      e.mutable_cause()->set_channel(kind == events::Cause::OPERATOR ? "tool" : channel_);
      apply(state_, e);
      history_.push_back(e);
    }
    return *result;
  }

  Status rejected(const Command& command, int64_t now = kNow) {
    auto result = decide(state_, command, now, policy_);
    EXPECT_FALSE(result.is_ok());
    return result.status();
  }

  void registered() { when(Register{kHash}); }

  // `n` wrong passwords at `now`; returns the last event's lock (0: none).
  int64_t fail(int n, int64_t now = kNow) {
    int64_t until = 0;
    for (int i = 0; i < n; ++i) {
      auto events = when(LoginFailed{}, now);
      if (events.size() == 1) until = events[0].user_login_failed().locked_until_unix_ms();
    }
    return until;
  }

  State state_;
  UserPolicy policy_;
  std::string channel_ = "mqtt";  // the channel of the user's own commands
  std::vector<Envelope> history_;
};

Status no_question_of_unknown() { return no_question(); }

TEST_F(UserGiven, RegisterStoresTheHashItWasGiven) {
  auto events = when(Register{kHash});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].has_user_registered());
  EXPECT_TRUE(state_.registered);
  EXPECT_EQ(state_.password_hash, kHash);
  EXPECT_EQ(state_.registered_at_ms, kNow);
  EXPECT_EQ(state_.version, 1u);
}

TEST_F(UserGiven, RegisterRefusesBadNamesTwiceAndEmptyHashes) {
  for (const std::string& bad :
       {std::string(), std::string(".x"), std::string("a b"), std::string(65, 'n')}) {
    state_.name = bad;
    EXPECT_EQ(rejected(Register{kHash}).code(), Code::kInvalidArgument) << bad;
  }
  state_.name = "alice";
  EXPECT_EQ(rejected(Register{""}).code(), Code::kInvalidArgument);
  EXPECT_EQ(rejected(Register{std::string(kMaxHashBytes + 1, 'h')}).code(), Code::kInvalidArgument);
  registered();
  EXPECT_EQ(rejected(Register{kHash}).code(), Code::kAlreadyExists);
}

TEST_F(UserGiven, LoginStartsASessionThatExpires) {
  registered();
  auto events = when(LoginSucceeded{token(1), 0});
  ASSERT_EQ(events.size(), 1u);
  const int64_t expires = kNow + policy_.session_ttl_ms;
  EXPECT_EQ(events[0].user_logged_in().expires_at_unix_ms(), expires);
  EXPECT_EQ(events[0].user_logged_in().session_sha256(), token(1));
  EXPECT_TRUE(session_valid(state_, token(1), expires - 1));
  EXPECT_FALSE(session_valid(state_, token(1), expires));
  EXPECT_FALSE(session_valid(state_, token(2), kNow));
  EXPECT_EQ(state_.last_login_ms, kNow);
}

TEST_F(UserGiven, LoginExpiryIsCutToTheTtlAndMustBeInTheFuture) {
  registered();
  auto events = when(LoginSucceeded{token(1), kNow + 10 * policy_.session_ttl_ms});
  EXPECT_EQ(events[0].user_logged_in().expires_at_unix_ms(), kNow + policy_.session_ttl_ms);
  events = when(LoginSucceeded{token(2), kNow + kMinute});
  EXPECT_EQ(events[0].user_logged_in().expires_at_unix_ms(), kNow + kMinute);
  EXPECT_EQ(rejected(LoginSucceeded{token(3), kNow}).code(), Code::kInvalidArgument);
  EXPECT_EQ(rejected(LoginSucceeded{"short", 0}).code(), Code::kInvalidArgument);
}

TEST_F(UserGiven, UnknownUserReadsExactlyLikeAWrongPassword) {
  auto unknown = rejected(LoginFailed{});
  EXPECT_EQ(unknown.code(), Code::kUnauthenticated);
  EXPECT_EQ(unknown.message(), kBadCredentials);
  EXPECT_EQ(rejected(LoginSucceeded{token(1), 0}).message(), kBadCredentials);
  EXPECT_TRUE(history_.empty()) << "nothing is written for a user that does not exist";
}

TEST_F(UserGiven, FailuresAreRecordedButNeverLock) {
  registered();
  for (int i = 0; i < 40; ++i) {
    auto events = when(LoginFailed{}, kNow + i);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].user_login_failed().reason(), kReasonPassword);
    EXPECT_EQ(events[0].user_login_failed().locked_until_unix_ms(), 0) << "no lock, ever";
  }
  EXPECT_EQ(state_.failure_times_ms.size(), State::kMaxFailureTimes) << "bounded";
  EXPECT_EQ(state_.locked_until_ms, 0);
  // Forty wrong passwords (from anyone) do not keep the owner out.
  ASSERT_EQ(when(LoginSucceeded{token(1), 0}, kNow + 40).size(), 1u);
  EXPECT_TRUE(state_.failure_times_ms.empty());
}

TEST_F(UserGiven, LocksOfOlderVersionsReplayButRefuseNothing) {
  registered();
  Envelope old;  // as written before the lock was replaced by the throttle's back-off
  old.set_version(2);
  old.set_time_unix_ms(kNow);
  old.mutable_user_login_failed()->set_reason("password");
  old.mutable_user_login_failed()->set_locked_until_unix_ms(kNow + kMinute);
  apply(state_, old);
  EXPECT_EQ(state_.locked_until_ms, kNow + kMinute) << "kept for the record";
  EXPECT_EQ(state_.locks_in_a_row, 1u);
  ASSERT_EQ(when(LoginSucceeded{token(1), 0}, kNow + 1).size(), 1u);
  EXPECT_EQ(state_.locks_in_a_row, 0u);
}

TEST_F(UserGiven, LogoutEndsOneSession) {
  registered();
  when(LoginSucceeded{token(1), 0});
  when(LoginSucceeded{token(2), 0});
  ASSERT_EQ(when(Logout{token(1)}).size(), 1u);
  EXPECT_FALSE(session_valid(state_, token(1), kNow));
  EXPECT_TRUE(session_valid(state_, token(2), kNow));
  EXPECT_EQ(rejected(Logout{token(1)}), unauthenticated(std::string(kBadSession)))
      << "an ended session ends once";
  EXPECT_EQ(rejected(Logout{token(9)}), unauthenticated(std::string(kBadSession)));
}

// Log out everywhere (issue 13): every session of the user ends, one UserLoggedOut each; an
// unknown session ends nothing.
TEST_F(UserGiven, LogoutEverywhereEndsEverySession) {
  registered();
  when(LoginSucceeded{token(1), 0});
  when(LoginSucceeded{token(2), 0});
  when(LoginSucceeded{token(3), 0});
  auto unknown = decide(state_, Logout{token(9), true}, kNow, policy_);
  ASSERT_FALSE(unknown.is_ok()) << "an unknown session ends nothing";
  EXPECT_EQ(unknown.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(state_.sessions.size(), 3u);
  auto events = when(Logout{token(2), true});
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) EXPECT_TRUE(e.has_user_logged_out());
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(session_valid(state_, token(i), kNow)) << i;
  EXPECT_TRUE(state_.sessions.empty());
}

TEST_F(UserGiven, SessionsAreBoundedAndExpiredOnesGo) {
  registered();
  when(LoginSucceeded{token(0), kNow + kMinute});
  when(LoginSucceeded{token(1), 0}, kNow + 2 * kMinute);
  EXPECT_EQ(state_.sessions.size(), 1u) << "the expired session went with the next login";
  for (int i = 2; i < 2 + static_cast<int>(State::kMaxSessions); ++i)
    when(LoginSucceeded{token(i), 0}, kNow + 2 * kMinute);
  EXPECT_EQ(state_.sessions.size(), State::kMaxSessions);
  EXPECT_FALSE(session_valid(state_, token(1), kNow + 2 * kMinute)) << "the oldest one ended";
  EXPECT_TRUE(session_valid(state_, token(2), kNow + 2 * kMinute));
}

TEST_F(UserGiven, ChangePasswordKeepsOnlyTheCallersSession) {
  registered();
  when(LoginSucceeded{token(1), 0});
  when(LoginSucceeded{token(2), 0});
  auto events = when(ChangePassword{"$argon2id$new", token(2)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(state_.password_hash, "$argon2id$new");
  EXPECT_FALSE(session_valid(state_, token(1), kNow));
  EXPECT_TRUE(session_valid(state_, token(2), kNow));
  when(ChangePassword{"$argon2id$newer", ""});
  EXPECT_TRUE(state_.sessions.empty());
  EXPECT_EQ(rejected(ChangePassword{"", ""}).code(), Code::kInvalidArgument);
}

TEST_F(UserGiven, ChangePasswordKeepsNoSessionThatIsNotLive) {
  registered();
  when(LoginSucceeded{token(1), kNow + kMinute});
  auto events = when(ChangePassword{"$argon2id$new", token(1)}, kNow + kMinute);
  EXPECT_TRUE(events[0].user_password_changed().kept_session_sha256().empty());
  EXPECT_TRUE(state_.sessions.empty());
}

TEST_F(UserGiven, SecurityQuestionIsSetAndAskedFor) {
  registered();
  EXPECT_EQ(security_question(state_).status().code(), Code::kNotFound);
  when(SetSecurityQuestion{"First pet?", kAnswerHash});
  ASSERT_TRUE(security_question(state_).is_ok());
  EXPECT_EQ(*security_question(state_), "First pet?");
  EXPECT_EQ(state_.answer_hash, kAnswerHash);
  EXPECT_EQ(rejected(SetSecurityQuestion{"", kAnswerHash}).code(), Code::kInvalidArgument);
  EXPECT_EQ(rejected(SetSecurityQuestion{"Q?", ""}).code(), Code::kInvalidArgument);
  EXPECT_EQ(
      rejected(SetSecurityQuestion{std::string(kMaxQuestionBytes + 1, 'q'), kAnswerHash}).code(),
      Code::kTooLarge);
}

TEST_F(UserGiven, ResetWithoutAQuestionReadsLikeAWrongAnswerOrAnUnknownUser) {
  const Status unknown = rejected(ResetPassword{false, kHash});
  registered();
  const Status without = rejected(ResetPassword{true, kHash});
  EXPECT_EQ(without.code(), Code::kUnauthenticated);
  EXPECT_EQ(without.message(), kBadAnswer);
  EXPECT_EQ(unknown, without) << "the same code and message";
  EXPECT_EQ(rejected(ResetPassword{false, kHash}), without);
  EXPECT_EQ(history_.size(), 1u) << "only the registration: nothing to record";
  EXPECT_EQ(security_question(state_).status(), no_question_of_unknown());
}

TEST_F(UserGiven, ResetWithTheRightAnswerEndsEverySession) {
  registered();
  when(SetSecurityQuestion{"First pet?", kAnswerHash});
  when(LoginSucceeded{token(1), 0});
  when(LoginSucceeded{token(2), 0});
  fail(3);
  auto events = when(ResetPassword{true, "$argon2id$reset"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].has_user_password_reset());
  EXPECT_EQ(state_.password_hash, "$argon2id$reset");
  EXPECT_TRUE(state_.sessions.empty());
  EXPECT_FALSE(session_valid(state_, token(2), kNow));
  EXPECT_TRUE(state_.failure_times_ms.empty());
  EXPECT_EQ(rejected(ResetPassword{true, ""}).code(), Code::kInvalidArgument);
}

TEST_F(UserGiven, WrongAnswersAreRecordedAsFailedLoginsWithoutALock) {
  registered();
  when(SetSecurityQuestion{"First pet?", kAnswerHash});
  fail(2);
  for (int i = 0; i < 6; ++i) {
    auto events = when(ResetPassword{false, kHash});
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].user_login_failed().reason(), kReasonSecurityAnswer);
    EXPECT_EQ(events[0].user_login_failed().locked_until_unix_ms(), 0);
  }
  EXPECT_EQ(state_.password_hash, kHash);
  ASSERT_EQ(when(ResetPassword{true, "$argon2id$reset"}).size(), 1u);
  EXPECT_EQ(state_.password_hash, "$argon2id$reset");
}

// ---- the security question over the legacy topics (no session, no password) ----

TEST_F(UserGiven, LegacyUserMaySetAFirstQuestionOverLegacyOnly) {
  channel_ = "legacy";
  registered();
  EXPECT_TRUE(state_.registered_via_legacy);
  EXPECT_TRUE(may_set_question(state_, true).is_ok());
  auto events = when(SetSecurityQuestion{"First pet?", kAnswerHash, /*via_legacy=*/true});
  ASSERT_EQ(events.size(), 1u);
  const Status again = rejected(SetSecurityQuestion{"Other?", kAnswerHash, true});
  EXPECT_EQ(again.code(), Code::kPermissionDenied);
  EXPECT_EQ(again.message(), kLegacyQuestionRefused);
  EXPECT_EQ(state_.question, "First pet?");
  // With a session and the password (not via legacy) it may be replaced.
  ASSERT_EQ(when(SetSecurityQuestion{"Other?", kAnswerHash}).size(), 1u);
}

TEST_F(UserGiven, LegacyQuestionIsRefusedAlikeForEveryoneElse) {
  const Status unknown = rejected(SetSecurityQuestion{"Pet?", kAnswerHash, true});
  EXPECT_EQ(unknown.code(), Code::kPermissionDenied);
  EXPECT_EQ(unknown.message(), kLegacyQuestionRefused);
  registered();  // over MQTT
  EXPECT_FALSE(state_.registered_via_legacy);
  EXPECT_EQ(rejected(SetSecurityQuestion{"Pet?", kAnswerHash, true}), unknown)
      << "a user registered over MQTT or HTTP";

  State op;
  op.name = "root";
  std::swap(state_, op);
  channel_ = "legacy";
  registered();
  when(GrantRole{"operator"}, kNow, events::Cause::OPERATOR);
  EXPECT_EQ(rejected(SetSecurityQuestion{"Pet?", kAnswerHash, true}), unknown)
      << "an operator, even one registered over legacy";
  EXPECT_TRUE(state_.question.empty());
}

TEST_F(UserGiven, UsersOfOlderLogsAreNotLegacyUnlessTheirCauseSaysSo) {
  Envelope registered_event;  // the cause of older chat events had no channel
  registered_event.set_version(1);
  registered_event.mutable_cause()->set_kind(events::Cause::USER);
  registered_event.mutable_cause()->set_name("alice");
  registered_event.mutable_user_registered()->set_password_hash(kHash);
  EXPECT_FALSE(replay("alice", {registered_event}).registered_via_legacy);
  registered_event.mutable_cause()->set_channel("legacy");
  EXPECT_TRUE(replay("alice", {registered_event}).registered_via_legacy);
  // And the snapshot keeps it.
  auto restored = from_snapshot(to_snapshot(replay("alice", {registered_event}), kNow));
  ASSERT_TRUE(restored);
  EXPECT_TRUE(restored->registered_via_legacy);
}

TEST_F(UserGiven, RolesAreGrantedAndRevokedByOperatorsAndAudited) {
  registered();
  EXPECT_FALSE(has_role(state_, kOperatorRole));
  auto events = when(GrantRole{"operator"}, kNow, events::Cause::OPERATOR);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].cause().kind(), events::Cause::OPERATOR);
  EXPECT_EQ(events[0].cause().name(), "root");
  EXPECT_TRUE(has_role(state_, kOperatorRole));
  EXPECT_TRUE(when(GrantRole{"operator"}).empty());
  EXPECT_EQ(rejected(GrantRole{"oprator"}).code(), Code::kInvalidArgument);
  ASSERT_EQ(when(RevokeRole{"operator"}, kNow, events::Cause::OPERATOR).size(), 1u);
  EXPECT_FALSE(has_role(state_, kOperatorRole));
  EXPECT_TRUE(when(RevokeRole{"operator"}).empty());
}

TEST_F(UserGiven, CommandsForAnUnknownUserAreNotFound) {
  EXPECT_EQ(rejected(Logout{token(1)}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(ChangePassword{kHash, ""}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(SetSecurityQuestion{"Q?", kAnswerHash}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(ResetPassword{true, kHash}).code(), Code::kUnauthenticated);
  EXPECT_EQ(rejected(GrantRole{"operator"}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(Erase{}).code(), Code::kNotFound);
}

TEST_F(UserGiven, ErasedUserKeepsNothingAndCannotComeBack) {
  registered();
  when(SetSecurityQuestion{"First pet?", kAnswerHash});
  when(LoginSucceeded{token(1), 0});
  when(GrantRole{"operator"});
  fail(2);
  ASSERT_EQ(when(Erase{}, kNow, events::Cause::OPERATOR).size(), 1u);
  EXPECT_TRUE(state_.erased);
  EXPECT_FALSE(state_.active());
  EXPECT_TRUE(state_.password_hash.empty());
  EXPECT_TRUE(state_.answer_hash.empty());
  EXPECT_TRUE(state_.question.empty());
  EXPECT_TRUE(state_.roles.empty());
  EXPECT_TRUE(state_.sessions.empty());
  EXPECT_TRUE(state_.failure_times_ms.empty());
  EXPECT_FALSE(session_valid(state_, token(1), kNow));
  EXPECT_FALSE(has_role(state_, kOperatorRole));
  EXPECT_TRUE(when(Erase{}).empty()) << "erasing twice writes nothing";
  EXPECT_EQ(rejected(Register{kHash}).code(), Code::kFailedPrecondition);
  EXPECT_EQ(rejected(LoginFailed{}).message(), kBadCredentials);
  EXPECT_EQ(rejected(LoginSucceeded{token(2), 0}).code(), Code::kUnauthenticated);
  EXPECT_EQ(rejected(GrantRole{"operator"}).code(), Code::kNotFound);
  EXPECT_EQ(security_question(state_).status().code(), Code::kNotFound);
}

TEST_F(UserGiven, ApplyIgnoresOtherEvents) {
  registered();
  Envelope other;
  other.set_version(9);
  other.mutable_device_came_online();
  apply(state_, other);
  EXPECT_EQ(state_.version, 1u);
}

// Generated histories: snapshot at any point + the tail == full replay; snapshots and every
// event survive encode/decode unchanged.
TEST_F(UserGiven, SnapshotPlusTailEqualsFullReplayOverGeneratedHistories) {
  std::mt19937 random(11);
  channel_ = "legacy";  // registered_via_legacy must survive snapshots too
  registered();
  channel_ = "mqtt";
  int64_t now = kNow;
  for (int i = 0; i < 600; ++i) {
    now += (random() % 5) * 20'000;
    const int s = static_cast<int>(random() % 40);
    switch (random() % 9) {
      case 0:
      case 1: {
        const int64_t minutes = random() % 3;  // 0: the policy's ttl
        (void)when(LoginSucceeded{token(s), minutes == 0 ? 0 : now + minutes * kMinute}, now);
        break;
      }
      case 2:
      case 3:
        (void)when(LoginFailed{}, now);
        break;
      case 4:
        if (!state_.sessions.empty()) {
          const auto& session = state_.sessions[random() % state_.sessions.size()];
          if (session_valid(state_, session.sha256, now)) (void)when(Logout{session.sha256}, now);
        }
        break;
      case 5:
        (void)when(ChangePassword{"$argon2id$" + std::to_string(i), token(s)}, now);
        break;
      case 6:
        (void)when(SetSecurityQuestion{"Q" + std::to_string(i) + "?", kAnswerHash}, now);
        break;
      case 7:
        if (!state_.question.empty())
          (void)when(ResetPassword{random() % 2 == 0, "$argon2id$r" + std::to_string(i)}, now);
        break;
      case 8:
        if (random() % 2 == 0)
          (void)when(GrantRole{"operator"}, now, events::Cause::OPERATOR);
        else
          (void)when(RevokeRole{"operator"}, now, events::Cause::OPERATOR);
        break;
    }
  }
  when(Erase{}, now + 1, events::Cause::OPERATOR);
  ASSERT_GT(history_.size(), 300u);
  std::set<int> kinds;
  for (const auto& e : history_) kinds.insert(e.event_case());
  EXPECT_EQ(kinds.size(), 10u) << "the history holds every kind of event";
  property::SnapshotCodec<State> codec{
      [](const std::vector<Envelope>& events) { return replay("alice", events); },
      [](const State& s) { return to_snapshot(s, kNow); },
      [](const snapshots::Snapshot& s) { return from_snapshot(s); },
      [](State& s, const Envelope& e) { apply(s, e); }};
  property::expect_snapshot_plus_tail_equals_replay(codec, history_, state_, 23);
}

TEST(UserSnapshot, InconsistentSnapshotIsRejected) {
  State state;
  state.name = "alice";
  state.version = 4;
  auto snapshot = to_snapshot(state, kNow);
  EXPECT_TRUE(from_snapshot(snapshot));
  snapshot.set_version(5);
  EXPECT_FALSE(from_snapshot(snapshot));
  snapshot = to_snapshot(state, kNow);
  snapshot.set_stream("user/bob");
  EXPECT_FALSE(from_snapshot(snapshot));
  snapshot = to_snapshot(state, kNow);
  for (size_t i = 0; i <= State::kMaxSessions; ++i) snapshot.mutable_user()->add_sessions();
  EXPECT_FALSE(from_snapshot(snapshot));
  EXPECT_FALSE(from_snapshot(snapshots::Snapshot{}));
}

}  // namespace
}  // namespace gh::user
