// Given (events) / when (command) / then (events or rejection) for the pure room model.
#include "actors/room/room_model.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "actors/room/room_snapshot.h"
#include "tests/snapshot_property.h"

namespace gh::room {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

// Stamps and applies what decide() returned, as the actor does after the append.
class RoomGiven : public ::testing::Test {
 protected:
  void SetUp() override { state_.name = "kitchen"; }

  std::vector<Envelope> when(const Command& command, int64_t now = kNow) {
    auto result = decide(state_, command, now);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    if (!result) return {};
    for (auto& e : *result) {
      e.set_stream(room_stream(state_.name));
      e.set_version(state_.version + 1);
      e.set_time_unix_ms(now);
      e.mutable_cause()->set_kind(events::Cause::USER);
      e.mutable_cause()->set_channel("mqtt");
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

  // alice created the room, bob joined.
  void created() {
    when(Create{"alice"});
    when(Join{"bob"});
  }

  // Posts `text` as `author` and returns the new message's id.
  uint64_t post(const std::string& author, const std::string& text,
                const std::string& client_msg_id = "") {
    auto events = when(Post{author, text, client_msg_id, kDefaultMaxTextBytes});
    if (events.empty() || !events.back().has_message_posted()) return 0;
    return events.back().message_posted().message_id();
  }

  State state_;
  std::vector<Envelope> history_;
};

std::vector<uint64_t> ids(const HistoryPage& page) {
  std::vector<uint64_t> out;
  for (const auto& m : page.messages) out.push_back(m.id);
  return out;
}

TEST_F(RoomGiven, CreateMakesTheCreatorTheFirstMember) {
  auto events = when(Create{"alice"});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_room_created());
  EXPECT_TRUE(events[1].has_room_member_joined());
  EXPECT_TRUE(state_.created);
  EXPECT_EQ(state_.creator, "alice");
  EXPECT_EQ(members(state_), std::vector<std::string>{"alice"});
}

TEST_F(RoomGiven, CreateRefusesBadNamesAndExistingRooms) {
  EXPECT_EQ(rejected(Create{"bad name"}).code(), Code::kInvalidArgument);
  state_.name = "no/slash";
  EXPECT_EQ(rejected(Create{"alice"}).code(), Code::kInvalidArgument);
  state_.name = "kitchen";
  when(Create{"alice"});
  EXPECT_EQ(rejected(Create{"bob"}).code(), Code::kAlreadyExists);
}

TEST_F(RoomGiven, AnUncreatedRoomIsNotFound) {
  EXPECT_EQ(rejected(Join{"bob"}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(Post{"bob", "hi", "", 100}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(LikeAnonymously{1}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(AnonymiseAuthor{"bob"}).code(), Code::kNotFound);
}

TEST_F(RoomGiven, TheLobbyAlwaysExistsAndItsFirstEventCreatesIt) {
  state_.name = std::string(kLobby);
  EXPECT_TRUE(state_.exists());
  EXPECT_EQ(rejected(Create{"alice"}).code(), Code::kAlreadyExists);
  EXPECT_TRUE(history(state_, 0, 10).messages.empty());
  EXPECT_FALSE(history(state_, 0, 10).needs_log);
  auto events = when(Post{"alice", "hello", "", kDefaultMaxTextBytes});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].has_room_created());
  EXPECT_EQ(events[0].room_created().creator(), "");
  EXPECT_EQ(events[1].message_posted().message_id(), 1u);
  EXPECT_TRUE(state_.created);
  EXPECT_EQ(post("bob", "hi"), 2u) << "in the lobby nobody needs to join; created once";
  EXPECT_EQ(history_.size(), 3u);
}

TEST_F(RoomGiven, NothingWrittenForTheLobbyCreatesNothing) {
  state_.name = std::string(kLobby);
  EXPECT_TRUE(when(Leave{"alice"}).empty());
  EXPECT_FALSE(state_.created);
}

TEST_F(RoomGiven, JoinAndLeaveAreIdempotent) {
  created();
  EXPECT_TRUE(when(Join{"bob"}).empty());
  when(Join{"carol"});
  EXPECT_EQ(members(state_), (std::vector<std::string>{"alice", "bob", "carol"}));
  ASSERT_EQ(when(Leave{"bob"}).size(), 1u);
  EXPECT_TRUE(when(Leave{"bob"}).empty());
  EXPECT_EQ(members(state_), (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ(rejected(Join{"not a name"}).code(), Code::kInvalidArgument);
}

TEST_F(RoomGiven, PostsGetSequentialIdsPerRoom) {
  created();
  EXPECT_EQ(post("alice", "one"), 1u);
  EXPECT_EQ(post("bob", "two"), 2u);
  EXPECT_EQ(post("alice", "three"), 3u);
  const Message* m = state_.find(2);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->author, "bob");
  EXPECT_EQ(m->text, "two");
  EXPECT_EQ(m->posted_at_ms, kNow);
  EXPECT_EQ(state_.next_message_id, 4u);
}

TEST_F(RoomGiven, PostTextIsBoundedNonEmptyUtf8) {
  created();
  EXPECT_EQ(when(Post{"alice", std::string(10, 'x'), "", 10}).size(), 1u);
  EXPECT_EQ(rejected(Post{"alice", std::string(11, 'x'), "", 10}).code(), Code::kTooLarge);
  EXPECT_EQ(rejected(Post{"alice", "", "", 10}).code(), Code::kInvalidArgument);
  EXPECT_EQ(rejected(Post{"alice", "bad \xFF byte", "", 100}).code(), Code::kInvalidArgument);
  EXPECT_EQ(rejected(Post{"alice", "hi", std::string(kMaxClientMsgIdBytes + 1, 'c'), 100}).code(),
            Code::kInvalidArgument);
}

TEST_F(RoomGiven, OnlyMembersPostOutsideTheLobby) {
  created();
  EXPECT_EQ(rejected(Post{"carol", "hi", "", 100}).code(), Code::kPermissionDenied);
  when(Join{"carol"});
  EXPECT_EQ(post("carol", "hi"), 1u);
}

TEST_F(RoomGiven, ARetriedPostWritesNothingAndNamesTheOriginal) {
  created();
  EXPECT_EQ(post("alice", "hello", "c-1"), 1u);
  EXPECT_TRUE(when(Post{"alice", "hello", "c-1", kDefaultMaxTextBytes}).empty());
  EXPECT_EQ(find_post(state_, "alice", "c-1"), 1u);
  EXPECT_EQ(post("bob", "hello", "c-1"), 2u) << "client ids are per author";
  EXPECT_EQ(post("alice", "hello", ""), 3u) << "no client id, no retry detection";
  EXPECT_EQ(post("alice", "hello", ""), 4u);
  EXPECT_FALSE(find_post(state_, "alice", ""));
  EXPECT_FALSE(find_post(state_, "alice", "c-2"));
}

TEST_F(RoomGiven, OneLikePerUserAndMessage) {
  created();
  post("alice", "like me");
  ASSERT_EQ(when(Like{"bob", 1}).size(), 1u);
  EXPECT_EQ(state_.find(1)->like_count(), 1u);
  EXPECT_TRUE(when(Like{"bob", 1}).empty()) << "liking twice writes nothing";
  when(Like{"alice", 1});
  EXPECT_EQ(state_.find(1)->like_count(), 2u);
  ASSERT_EQ(when(Unlike{"bob", 1}).size(), 1u);
  EXPECT_TRUE(when(Unlike{"bob", 1}).empty()) << "unliking without a like writes nothing";
  EXPECT_EQ(state_.find(1)->likes, std::set<std::string>{"alice"});
  EXPECT_EQ(rejected(Like{"bob", 7}).code(), Code::kNotFound);
  EXPECT_EQ(rejected(Like{"carol", 1}).code(), Code::kPermissionDenied) << "not a member";
}

TEST_F(RoomGiven, AnonymousLikesAreCountedNotAttributed) {
  created();
  post("alice", "like me");
  when(LikeAnonymously{1});
  when(LikeAnonymously{1});
  when(Like{"bob", 1});
  EXPECT_EQ(state_.find(1)->anonymous_likes, 2u);
  EXPECT_EQ(state_.find(1)->like_count(), 3u);
  EXPECT_EQ(rejected(LikeAnonymously{2}).code(), Code::kNotFound);
}

TEST_F(RoomGiven, OnlyTheAuthorDeletesAndTheTextIsGone) {
  created();
  post("alice", "oops");
  post("bob", "fine");
  when(Like{"bob", 1});
  EXPECT_EQ(rejected(Delete{"bob", 1}).code(), Code::kPermissionDenied);
  ASSERT_EQ(when(Delete{"alice", 1}).size(), 1u);
  const Message* m = state_.find(1);
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->deleted);
  EXPECT_TRUE(m->text.empty());
  EXPECT_EQ(m->like_count(), 0u);
  EXPECT_TRUE(when(Delete{"alice", 1}).empty()) << "deleting twice writes nothing";
  EXPECT_EQ(rejected(Like{"bob", 1}).code(), Code::kNotFound);
  EXPECT_EQ(ids(history(state_, 0, 10)), std::vector<uint64_t>{2});
  EXPECT_EQ(rejected(Delete{"alice", 9}).code(), Code::kNotFound);
  EXPECT_EQ(post("alice", "again"), 3u) << "a deleted id is never reused";
}

TEST_F(RoomGiven, HistoryPagesNewestFirstWithinBounds) {
  created();
  for (int i = 0; i < 250; ++i) post(i % 2 ? "alice" : "bob", "m" + std::to_string(i + 1));
  auto page = history(state_, 0, 3);
  EXPECT_EQ(ids(page), (std::vector<uint64_t>{250, 249, 248}));
  EXPECT_EQ(page.messages[0].text, "m250");
  EXPECT_EQ(page.next_before_id, 248u);
  EXPECT_FALSE(page.needs_log);
  EXPECT_EQ(ids(history(state_, page.next_before_id, 2)), (std::vector<uint64_t>{247, 246}));
  EXPECT_EQ(history(state_, 0, 0).messages.size(), 1u) << "at least one";
  EXPECT_EQ(history(state_, 0, 100000).messages.size(), kMaxPageSize) << "at most a page";
  auto last = history(state_, 5, 10);
  EXPECT_EQ(ids(last), (std::vector<uint64_t>{4, 3, 2, 1}));
  EXPECT_EQ(last.next_before_id, 0u);
  EXPECT_FALSE(last.needs_log);
  auto exact = history(state_, 4, 3);
  EXPECT_EQ(ids(exact), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(exact.next_before_id, 0u) << "message 1 is the oldest";
  EXPECT_TRUE(history(state_, 1, 10).messages.empty());
}

TEST_F(RoomGiven, StateKeepsTheNewestMessagesAndOlderPagesNeedTheLog) {
  state_.max_messages = 50;
  created();
  for (int i = 0; i < 120; ++i) post("alice", "m" + std::to_string(i + 1));
  ASSERT_EQ(state_.messages.size(), 50u);
  EXPECT_EQ(state_.messages.front().id, 71u);
  EXPECT_EQ(state_.find(70), nullptr);
  EXPECT_EQ(rejected(Like{"bob", 70}).code(), Code::kNotFound) << "too old to like";
  auto page = history(state_, 0, 100);
  EXPECT_EQ(page.messages.size(), 50u);
  EXPECT_TRUE(page.needs_log);
  EXPECT_EQ(page.log_before_id, 71u);
  auto older = history(state_, 60, 10);
  EXPECT_TRUE(older.messages.empty());
  EXPECT_TRUE(older.needs_log);
  EXPECT_EQ(older.log_before_id, 60u);
  auto full = history(state_, 0, 50);
  EXPECT_FALSE(full.needs_log) << "a full page needs nothing more";
  EXPECT_EQ(full.next_before_id, 71u);
  EXPECT_EQ(post("alice", "new"), 121u);
}

TEST_F(RoomGiven, OlderPagesAreFoldedFromTheLog) {
  state_.max_messages = 50;
  created();
  when(Join{"carol"});
  for (int i = 0; i < 120; ++i) {
    post(i % 2 ? "alice" : "carol", "m" + std::to_string(i + 1));
    if (i + 1 == 30) when(Like{"bob", 30});
    if (i + 1 == 31) when(LikeAnonymously{30});
    if (i + 1 == 40) when(Delete{"carol", 39});
  }
  when(AnonymiseAuthor{"carol"});
  auto page = history(state_, 0, 100);
  ASSERT_TRUE(page.needs_log);
  auto older = history_from_log(state_, history_, page.log_before_id, 40);
  EXPECT_FALSE(older.needs_log);
  ASSERT_EQ(older.messages.size(), 40u);
  EXPECT_EQ(older.messages.front().id, 70u);
  EXPECT_EQ(older.messages.back().id, 30u) << "39 was deleted and is skipped";
  EXPECT_EQ(older.messages.back().like_count(), 2u);
  EXPECT_EQ(older.messages.back().author, "alice");
  EXPECT_EQ(older.messages[1].author, kErasedAuthor) << "69 was carol's";
  EXPECT_EQ(older.next_before_id, 30u);
  auto oldest = history_from_log(state_, history_, older.next_before_id, 100);
  EXPECT_EQ(oldest.messages.size(), 29u);
  EXPECT_EQ(oldest.messages.back().id, 1u);
  EXPECT_EQ(oldest.next_before_id, 0u);
  EXPECT_FALSE(oldest.needs_log);
  std::vector<Envelope> tail(history_.begin() + 60, history_.end());
  EXPECT_TRUE(history_from_log(state_, tail, 30, 10).needs_log) << "the log read starts late";
}

TEST_F(RoomGiven, AnErasedAuthorBecomesAPlaceholderEverywhere) {
  created();
  when(Join{"carol"});
  post("bob", "mine", "c1");
  post("alice", "yours");
  when(Like{"bob", 2});
  when(Like{"carol", 2});
  ASSERT_EQ(when(AnonymiseAuthor{"bob"}).size(), 1u);
  EXPECT_EQ(state_.find(1)->author, kErasedAuthor);
  EXPECT_EQ(state_.find(1)->text, "mine") << "messages stay, their author does not";
  EXPECT_EQ(state_.find(2)->likes, std::set<std::string>{"carol"});
  EXPECT_EQ(state_.find(2)->like_count(), 2u) << "bob's like still counts";
  EXPECT_EQ(members(state_), (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ(history(state_, 0, 10).messages[1].author, kErasedAuthor);
  EXPECT_EQ(shown_author(state_, "bob"), kErasedAuthor);
  EXPECT_EQ(shown_author(state_, "alice"), "alice");
  EXPECT_TRUE(when(AnonymiseAuthor{"bob"}).empty());
  EXPECT_EQ(rejected(Post{"bob", "back", "", 100}).code(), Code::kPermissionDenied);
  EXPECT_EQ(rejected(Join{"bob"}).code(), Code::kPermissionDenied);
  EXPECT_EQ(rejected(Delete{"bob", 1}).code(), Code::kPermissionDenied);
}

TEST_F(RoomGiven, ApplyIgnoresOtherEventsAndUnknownMessages) {
  created();
  const uint64_t version = state_.version;
  Envelope other;
  other.set_version(99);
  other.mutable_user_erased();
  apply(state_, other);
  EXPECT_EQ(state_.version, version);
  Envelope like;
  like.set_version(version + 1);
  like.mutable_message_liked()->set_message_id(42);
  like.mutable_message_liked()->set_user("bob");
  apply(state_, like);
  EXPECT_EQ(state_.version, version + 1) << "a like of a message not held still counts as seen";
}

// Generated histories: snapshot at any point + the tail == full replay (with a small message
// window, so messages leave the state on the way); snapshots and every event survive
// encode/decode unchanged.
TEST_F(RoomGiven, SnapshotPlusTailEqualsFullReplayOverGeneratedHistories) {
  constexpr size_t kWindow = 40;
  std::mt19937 random(5);
  state_.max_messages = kWindow;
  created();
  const std::vector<std::string> users = {"alice", "bob", "carol", "dave"};
  for (int i = 0; i < 1200; ++i) {
    const auto& user = users[random() % users.size()];
    const uint64_t newest = state_.next_message_id - 1;
    const uint64_t target = newest == 0 ? 1 : newest - random() % std::min<uint64_t>(newest, 30);
    const Message* m = state_.find(target);
    const bool live = m && !m->deleted;
    const bool member = state_.members.count(user) > 0;
    switch (random() % 9) {
      case 0:
        if (!state_.anonymised.count(user)) (void)when(Join{user});
        break;
      case 1:
        if (random() % 4 == 0) (void)when(Leave{user});
        break;
      case 2:
      case 3:
        if (member)
          (void)when(Post{user, "text " + std::to_string(i), "c" + std::to_string(random() % 900),
                          kDefaultMaxTextBytes},
                     kNow + i);
        break;
      case 4:
        if (live && member) (void)when(Like{user, target});
        break;
      case 5:
        if (live) (void)when(Unlike{user, target});
        break;
      case 6:
        if (live) (void)when(LikeAnonymously{target});
        break;
      case 7:
        if (m && m->author == user) (void)when(Delete{user, target});
        break;
      case 8:
        if (live && m->author == "dave") (void)when(AnonymiseAuthor{"dave"});
        break;
    }
  }
  ASSERT_GT(history_.size(), 300u);
  std::set<int> kinds;
  for (const auto& e : history_) kinds.insert(e.event_case());
  EXPECT_EQ(kinds.size(), 9u) << "the history holds every kind of event";
  ASSERT_EQ(state_.messages.size(), kWindow);
  property::SnapshotCodec<State> codec{
      [&](const std::vector<Envelope>& events) { return replay("kitchen", events, kWindow); },
      [](const State& s) { return to_snapshot(s, kNow); },
      [&](const snapshots::Snapshot& s) { return from_snapshot(s, kWindow); },
      [](State& s, const Envelope& e) { apply(s, e); }};
  property::expect_snapshot_plus_tail_equals_replay(codec, history_, state_, 29);
}

TEST_F(RoomGiven, ASnapshotIsCutToASmallerWindow) {
  created();
  for (int i = 0; i < 30; ++i) post("alice", "m");
  auto restored = from_snapshot(to_snapshot(state_, kNow), 10);
  ASSERT_TRUE(restored);
  ASSERT_EQ(restored->messages.size(), 10u);
  EXPECT_EQ(restored->messages.front().id, 21u);
  EXPECT_EQ(restored->max_messages, 10u);
}

TEST(RoomSnapshot, InconsistentSnapshotIsRejected) {
  State state;
  state.name = "kitchen";
  state.version = 4;
  state.next_message_id = 3;
  for (uint64_t id : {1, 2}) {
    Message message;
    message.id = id;
    state.messages.push_back(message);
  }
  auto snapshot = to_snapshot(state, kNow);
  EXPECT_TRUE(from_snapshot(snapshot));
  snapshot.set_version(5);
  EXPECT_FALSE(from_snapshot(snapshot));
  snapshot = to_snapshot(state, kNow);
  snapshot.mutable_room()->mutable_messages(1)->set_id(1);
  EXPECT_FALSE(from_snapshot(snapshot)) << "ids must increase";
  snapshot = to_snapshot(state, kNow);
  snapshot.mutable_room()->set_next_message_id(2);
  EXPECT_FALSE(from_snapshot(snapshot)) << "the next id must be fresh";
  EXPECT_FALSE(from_snapshot(snapshots::Snapshot{}));
}

}  // namespace
}  // namespace gh::room
