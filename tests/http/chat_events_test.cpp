// Server-Sent Events: the hub on its own (frames, bounds, stop) and GET
// /api/rooms/{room}/events end to end: a client sees posts and likes live, is authenticated
// by header or ?token=, is refused beyond the stream cap, and every stream ends on stop().
#include "adapters/http/event_stream.h"
#include "tests/http/chat_fixture.h"

namespace gh::http::testing {
namespace {

using namespace std::chrono_literals;

chat::RoomUpdate posted(const std::string& room, uint64_t version, const std::string& text) {
  chat::RoomUpdate update;
  update.kind = chat::RoomUpdate::Kind::kPosted;
  update.room = room;
  update.version = version;
  update.user = "alice";
  update.message.room = room;
  update.message.id = version;
  update.message.author = "alice";
  update.message.text = text;
  update.message.posted_at_ms = 1'700'000'000'000;
  update.message.liked_by_viewer = true;
  update.time_unix_ms = 1'700'000'000'000;
  return update;
}

TEST(EventStreamHubTest, FramesCarryVersionKindAndOneLineOfJson) {
  const std::string frame = sse_frame(posted("lobby", 7, "two\nlines"));
  const std::string head = "id: 7\nevent: posted\ndata: ";
  ASSERT_EQ(frame.rfind(head, 0), 0u) << frame;
  ASSERT_EQ(frame.substr(frame.size() - 2), "\n\n");
  const std::string data = frame.substr(head.size(), frame.size() - head.size() - 2);
  EXPECT_EQ(data.find('\n'), std::string::npos) << frame;
  auto parsed = json::parse(data, nullptr, false);
  EXPECT_EQ(parsed["kind"], "posted");
  EXPECT_EQ(parsed["room"], "lobby");
  EXPECT_EQ(parsed["version"], 7);
  EXPECT_EQ(parsed["user"], "alice");
  EXPECT_EQ(parsed["message"]["text"], "two\nlines");
  EXPECT_EQ(parsed["message"]["id"], 7);
  EXPECT_FALSE(parsed["message"].contains("liked_by_viewer"));  // the same for every viewer
  EXPECT_EQ(parsed["time"], "2023-11-14T22:13:20.000Z");

  chat::RoomUpdate joined;
  joined.kind = chat::RoomUpdate::Kind::kJoined;
  joined.room = "garden";
  joined.version = 3;
  joined.user = "bob";
  const std::string join_frame = sse_frame(joined);
  EXPECT_EQ(join_frame.rfind("id: 3\nevent: joined\ndata: ", 0), 0u) << join_frame;
  EXPECT_NE(join_frame.find("\"message\":null"), std::string::npos) << join_frame;
}

TEST(EventStreamHubTest, DeliversToTheRoomsStreamsOnly) {
  EventStreamHub hub(4, 64 * 1024);
  auto lobby = hub.subscribe("lobby", "bob", "hello\n\n");
  auto garden = hub.subscribe("garden", "bob", "");
  ASSERT_TRUE(lobby.is_ok() && garden.is_ok());
  EXPECT_EQ(hub.open_streams(), 2u);
  std::string out;
  EXPECT_EQ((*lobby)->next(out, 0ms), Subscription::Next::kFrames);
  EXPECT_EQ(out, "hello\n\n");
  hub.on_room_update(posted("lobby", 1, "one"));
  hub.on_room_update(posted("lobby", 2, "two"));
  EXPECT_EQ((*lobby)->next(out, 10s), Subscription::Next::kFrames);
  EXPECT_NE(out.find("id: 1\n"), std::string::npos);
  EXPECT_NE(out.find("id: 2\n"), std::string::npos);
  EXPECT_EQ((*garden)->next(out, 0ms), Subscription::Next::kIdle);
  EXPECT_TRUE(out.empty());
  garden->reset();
  EXPECT_EQ(hub.open_streams(), 1u);
}

TEST(EventStreamHubTest, CapsStreamsAndDropsASlowReader) {
  EventStreamHub hub(2, 1024);
  auto a = hub.subscribe("lobby", "a", "");
  auto b = hub.subscribe("lobby", "b", "");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  auto c = hub.subscribe("lobby", "c", "");
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);

  // `b` reads; `a` does not and falls more than 1024 bytes behind.
  std::string out;
  for (uint64_t v = 1; v <= 20; ++v) {
    hub.on_room_update(posted("lobby", v, std::string(100, 'x')));
    EXPECT_EQ((*b)->next(out, 10s), Subscription::Next::kFrames) << v;
  }
  EXPECT_EQ((*a)->next(out, 10s), Subscription::Next::kEnded);
  EXPECT_EQ(out, "event: end\ndata: {\"reason\":\"too_slow\"}\n\n");
  EXPECT_EQ((*a)->next(out, 0ms), Subscription::Next::kEnded);
  EXPECT_TRUE(out.empty());

  // Freed places can be taken again.
  a->reset();
  auto again = hub.subscribe("lobby", "c", "");
  EXPECT_TRUE(again.is_ok());
}

TEST(EventStreamHubTest, LeavingEndsThatUsersStreamAfterTheFrame) {
  EventStreamHub hub(4, 64 * 1024);
  auto bob = hub.subscribe("garden", "bob", "");
  auto carol = hub.subscribe("garden", "carol", "");
  ASSERT_TRUE(bob.is_ok() && carol.is_ok());
  chat::RoomUpdate left;
  left.kind = chat::RoomUpdate::Kind::kLeft;
  left.room = "garden";
  left.version = 9;
  left.user = "bob";
  hub.on_room_update(left);
  std::string out;
  EXPECT_EQ((*bob)->next(out, 10s), Subscription::Next::kEnded);
  EXPECT_NE(out.find("event: left\n"), std::string::npos) << out;
  EXPECT_NE(out.find("event: end\ndata: {\"reason\":\"left\"}"), std::string::npos) << out;
  EXPECT_EQ((*carol)->next(out, 10s), Subscription::Next::kFrames);
  EXPECT_NE(out.find("event: left\n"), std::string::npos) << out;
}

TEST(EventStreamHubTest, StopEndsEveryStreamAndRefusesNewOnes) {
  EventStreamHub hub(4, 64 * 1024);
  auto sub = hub.subscribe("lobby", "bob", "");
  ASSERT_TRUE(sub.is_ok());
  std::string out;
  std::thread waiter([&] { EXPECT_EQ((*sub)->next(out, 300s), Subscription::Next::kEnded); });
  hub.stop();
  waiter.join();
  EXPECT_EQ(out, "event: end\ndata: {\"reason\":\"stopping\"}\n\n");
  EXPECT_FALSE(hub.subscribe("lobby", "bob", "").is_ok());
  hub.on_room_update(posted("lobby", 1, "ignored"));  // after stop: nothing, no crash
  EXPECT_FALSE(hub.wait_closed(0ms));
  std::thread closer([&] { sub->reset(); });
  EXPECT_TRUE(hub.wait_closed(300s));
  closer.join();
}

class ChatEventsTest : public ChatHttpTest {
 protected:
  std::string events_path(const std::string& room, const std::string& token = "") {
    std::string path = "/api/rooms/" + room + "/events";
    if (!token.empty()) path += "?token=" + token;
    return path;
  }
};

TEST_F(ChatEventsTest, ClientSeesPostsAndLikesLive) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string alice = user_session("alice");
  const std::string bob = user_session("bob");

  SseClient stream(port_, events_path("lobby"), bearer(bob));
  ASSERT_TRUE(stream.wait_for("event: ready\n")) << stream.text();
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.content_type(), "text/event-stream");
  EXPECT_EQ(stream.text().rfind("retry: 3000\n\n", 0), 0u) << stream.text();
  EXPECT_EQ(stream.frame_data("ready")["user"], "bob");

  const uint64_t id = post_message(alice, "lobby", "live hello");
  ASSERT_TRUE(stream.wait_for("live hello")) << stream.text();
  auto posted_data = stream.frame_data("posted", "live hello");
  EXPECT_EQ(posted_data["kind"], "posted");
  EXPECT_EQ(posted_data["user"], "alice");
  EXPECT_EQ(posted_data["message"]["id"], id);
  EXPECT_EQ(posted_data["message"]["author"], "alice");
  const uint64_t version = posted_data["version"];
  EXPECT_NE(stream.text().find("id: " + std::to_string(version) + "\nevent: posted\n"),
            std::string::npos)
      << stream.text();

  auto liked = client_->Put(("/api/rooms/lobby/messages/" + std::to_string(id) + "/like").c_str(),
                            bearer(bob), "", "application/json");
  ASSERT_TRUE(liked);
  ASSERT_EQ(liked->status, 200) << liked->body;
  ASSERT_TRUE(stream.wait_for("event: liked\n")) << stream.text();
  auto like_data = stream.frame_data("liked");
  EXPECT_EQ(like_data["user"], "bob");
  EXPECT_EQ(like_data["message"]["like_count"], 1);
  EXPECT_GT(like_data["version"].get<uint64_t>(), version);

  // Another room's updates do not show here.
  auto room = post("/api/rooms", {{"name", "garden"}}, bearer(alice));
  ASSERT_TRUE(room);
  ASSERT_EQ(room->status, 201) << room->body;
  post_message(alice, "garden", "elsewhere");
  post_message(alice, "lobby", "marker");
  ASSERT_TRUE(stream.wait_for("marker")) << stream.text();
  EXPECT_EQ(stream.text().find("elsewhere"), std::string::npos) << stream.text();
}

TEST_F(ChatEventsTest, TokenInTheQueryAndGzipAcceptingClients) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string alice = user_session("alice");
  // What a browser's EventSource sends: no Authorization header, Accept-Encoding gzip. A
  // gzipped stream would hold frames back until it ends (httplib 0.11.4 leaves
  // text/event-stream alone; this keeps it so).
  SseClient stream(port_, events_path("lobby", alice),
                   {{"Accept-Encoding", "gzip, deflate, br"}, {"Accept", "text/event-stream"}});
  ASSERT_TRUE(stream.wait_for("event: ready\n")) << stream.text();
  EXPECT_TRUE(stream.content_encoding().empty()) << stream.content_encoding();
  post_message(alice, "lobby", "not compressed");
  ASSERT_TRUE(stream.wait_for("not compressed")) << stream.text();
}

TEST_F(ChatEventsTest, RejectionsAreJson) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string alice = user_session("alice");
  const std::string bob = user_session("bob");
  auto room = post("/api/rooms", {{"name", "garden"}}, bearer(alice));
  ASSERT_TRUE(room);
  ASSERT_EQ(room->status, 201) << room->body;

  expect_error(client_->Get(events_path("lobby").c_str()), 401, "unauthenticated");
  expect_error(client_->Get(events_path("lobby", "alice.0000").c_str()), 401, "unauthenticated");
  expect_error(client_->Get(events_path("lobby").c_str(), bearer("nobody")), 401,
               "unauthenticated");
  expect_error(client_->Get(events_path("bad%20room", alice).c_str()), 400, "invalid_argument");
  expect_error(client_->Get(events_path("nowhere", alice).c_str()), 404, "not_found");
  // The stream shows what the room's history shows, to whom it shows it.
  auto history = client_->Get("/api/rooms/garden/messages", bearer(bob));
  ASSERT_TRUE(history);
  SseClient outsider(port_, events_path("garden", bob));
  if (history->status == 200) {
    EXPECT_TRUE(outsider.wait_for("event: ready\n")) << outsider.text();
  } else {
    ASSERT_TRUE(outsider.wait_finished());
    EXPECT_EQ(outsider.status(), history->status) << outsider.text();
  }
  outsider.close();
  ASSERT_TRUE(outsider.wait_finished());
}

TEST_F(ChatEventsTest, StreamsBeyondTheCapAre503) {
  HttpOptions options = default_options();
  options.max_event_streams = 2;
  ASSERT_NO_FATAL_FAILURE(start(options));
  const std::string alice = user_session("alice");
  {
    SseClient first(port_, events_path("lobby", alice));
    SseClient second(port_, events_path("lobby", alice));
    ASSERT_TRUE(first.wait_for("event: ready\n")) << first.text();
    ASSERT_TRUE(second.wait_for("event: ready\n")) << second.text();
    auto third = client_->Get(events_path("lobby", alice).c_str());
    expect_error(third, 503, "unavailable");
    EXPECT_FALSE(third->get_header_value("Retry-After").empty());
    // Ordinary requests still have workers of their own.
    auto me = client_->Get("/api/me", bearer(alice));
    ASSERT_TRUE(me);
    EXPECT_EQ(me->status, 200) << me->body;
  }
  // Closed streams give their places back once the server notices (at the next write: a
  // post, or a heartbeat).
  bool reopened = false;
  for (int attempt = 0; attempt < 600 && !reopened; ++attempt) {
    post_message(alice, "lobby", "wake " + std::to_string(attempt));
    SseClient again(port_, events_path("lobby", alice));
    reopened = again.wait_for("event: ready\n");
    if (!reopened) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reopened);
}

// One user cannot hold every stream (issue 9): beyond max_streams_per_user, 429.
TEST_F(ChatEventsTest, StreamsBeyondTheCapPerUserAre429) {
  HttpOptions options = default_options();
  options.max_event_streams = 8;
  options.max_streams_per_user = 2;
  ASSERT_NO_FATAL_FAILURE(start(options));
  const std::string alice = user_session("alice");
  const std::string bob = user_session("bob");
  SseClient first(port_, events_path("lobby", alice));
  SseClient second(port_, events_path("lobby", alice));
  ASSERT_TRUE(first.wait_for("event: ready\n")) << first.text();
  ASSERT_TRUE(second.wait_for("event: ready\n")) << second.text();
  auto third = client_->Get(events_path("lobby", alice).c_str());
  expect_error(third, 429, "unavailable");
  EXPECT_FALSE(third->get_header_value("Retry-After").empty());
  // Another user still gets one.
  SseClient bobs(port_, events_path("lobby", bob));
  EXPECT_TRUE(bobs.wait_for("event: ready\n")) << bobs.text();
}

TEST(EventStreamHubTest, CapsStreamsPerUser) {
  EventStreamHub hub(8, 1024, 2);
  auto a1 = hub.subscribe("lobby", "a", "");
  auto a2 = hub.subscribe("garden", "a", "");
  ASSERT_TRUE(a1.is_ok() && a2.is_ok());
  auto a3 = hub.subscribe("lobby", "a", "");
  ASSERT_FALSE(a3.is_ok());
  EXPECT_EQ(a3.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(hub.subscribe("lobby", "b", "").is_ok());
  a1->reset();
  EXPECT_TRUE(hub.subscribe("lobby", "a", "").is_ok());
}

TEST_F(ChatEventsTest, StopEndsOpenStreams) {
  HttpOptions options = default_options();
  options.event_heartbeat = std::chrono::hours(1);  // stop() must not wait for one
  ASSERT_NO_FATAL_FAILURE(start(options));
  const std::string alice = user_session("alice");
  SseClient first(port_, events_path("lobby", alice));
  SseClient second(port_, events_path("lobby", alice));
  ASSERT_TRUE(first.wait_for("event: ready\n")) << first.text();
  ASSERT_TRUE(second.wait_for("event: ready\n")) << second.text();
  adapter_->stop();
  for (SseClient* stream : {&first, &second}) {
    ASSERT_TRUE(stream->wait_finished());
    EXPECT_NE(stream->text().find("event: end\ndata: {\"reason\":\"stopping\"}\n\n"),
              std::string::npos)
        << stream->text();
  }
}

TEST_F(ChatEventsTest, HeartbeatsAndTheEndOfTheSession) {
  HttpOptions options = default_options();
  options.event_heartbeat = 50ms;
  ASSERT_NO_FATAL_FAILURE(start(options));
  const std::string alice = user_session("alice");
  SseClient stream(port_, events_path("lobby", alice));
  ASSERT_TRUE(stream.wait_for(": keep-alive\n\n")) << stream.text();
  auto logout = client_->Delete("/api/sessions/current", bearer(alice));
  ASSERT_TRUE(logout);
  ASSERT_EQ(logout->status, 200) << logout->body;
  ASSERT_TRUE(stream.wait_finished());
  EXPECT_NE(stream.text().find("event: end\ndata: {\"reason\":\"session_ended\"}\n\n"),
            std::string::npos)
      << stream.text();
}

TEST_F(ChatEventsTest, LeavingTheRoomEndsTheStream) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string alice = user_session("alice");
  auto room = post("/api/rooms", {{"name", "garden"}}, bearer(alice));
  ASSERT_TRUE(room);
  ASSERT_EQ(room->status, 201) << room->body;
  SseClient stream(port_, events_path("garden", alice));
  ASSERT_TRUE(stream.wait_for("event: ready\n")) << stream.text();
  auto left = client_->Delete("/api/rooms/garden/members/me", bearer(alice));
  ASSERT_TRUE(left);
  ASSERT_EQ(left->status, 200) << left->body;
  ASSERT_TRUE(stream.wait_finished());
  EXPECT_NE(stream.text().find("event: left\n"), std::string::npos) << stream.text();
  EXPECT_NE(stream.text().find("event: end\ndata: {\"reason\":\"left\"}\n\n"), std::string::npos)
      << stream.text();
}

}  // namespace
}  // namespace gh::http::testing
