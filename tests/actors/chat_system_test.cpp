// ChatSystem on a real actor system and a real RocksDB journal in a temporary directory:
// users (register, login, throttle and back-off, sessions, password change and reset, the
// legacy origin), rooms (create,
// join, post, history beyond memory, likes, delete), listeners, restart and the hashing
// queue's bound. Time is injected; nothing here depends on the machine's speed.
#include "actors/chat/chat_system.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>

#include "actors/user/user_model.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "snapshots/rocksdb_snapshot_store.h"

namespace gh::chat {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStart = 1'700'000'000'000;
const Caller kHome{"http", "192.0.2.1"};     // the account's owner
const Caller kEvil{"http", "198.51.100.7"};  // a guesser
const Caller kLegacy{"legacy", "aliceregister"};

// Limits small enough to reach in a test; the back-off 1, 2, 4, 8 s after 3 free failures.
ThrottleOptions tight() {
  ThrottleOptions o;
  o.source_per_minute = 60;
  o.source_burst = 5;
  o.shared_per_minute = 60;
  o.shared_burst = 5;
  o.account_per_minute = 600;
  o.account_burst = 1000;
  o.backoff_after = 3;
  o.backoff_first_ms = 1000;
  o.backoff_max_ms = 8000;
  return o;
}

// Calls `start(callback)` and waits for the callback (the test thread may block).
template <class T, class Start>
Result<T> wait(Start&& start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> result) { promise->set_value(std::move(result)); });
  return future.get();
}

// Records room updates; checks each is durable when it arrives.
class RecordingListener : public RoomListener {
 public:
  explicit RecordingListener(Journal* journal) : journal_(journal) {}
  void on_room_update(const RoomUpdate& update) override {
    auto version = journal_->stream_version("room/" + update.room);
    std::lock_guard lock(mutex_);
    if (!version || *version < update.version) not_durable_++;
    updates_.push_back(update);
    changed_.notify_all();
  }
  std::vector<RoomUpdate> wait_updates(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return updates_.size() >= n; });
    return updates_;
  }
  int not_durable() {
    std::lock_guard lock(mutex_);
    return not_durable_;
  }

 private:
  Journal* journal_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<RoomUpdate> updates_;
  int not_durable_ = 0;
};

class ChatSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("gh-chat-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir_);
  }
  ChatSystemOptions test_options() {
    auto options = ChatSystemOptions::for_tests();
    options.snapshot_every = 3;  // recovery in these tests goes through snapshots
    options.clock = [this] { return now_.load(); };
    return options;
  }
  void open() { open(test_options()); }
  void open(ChatSystemOptions options) {
    last_options_ = options;
    auto database = Database::open(dir_.string(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(database).value();
    journal_ = std::make_unique<RocksdbJournal>(database_.get());
    snapshots_ = std::make_unique<RocksdbSnapshotStore>(database_.get());
    config_ = std::make_unique<caf::actor_system_config>();
    system_ = std::make_unique<caf::actor_system>(*config_);
    listener_ = std::make_unique<RecordingListener>(journal_.get());
    chat_ = std::make_unique<ChatSystem>(
        *system_, *journal_, use_snapshots_ ? snapshots_.get() : nullptr, std::move(options));
    ASSERT_TRUE(chat_->status().is_ok()) << chat_->status().to_string();
    chat_->add_listener(listener_.get());
  }
  void close() {
    chat_.reset();
    system_.reset();
    config_.reset();
    listener_.reset();
    snapshots_.reset();
    journal_.reset();
    database_.reset();
  }
  // Restarts with the options of the last open().
  void reopen() {
    close();
    open(last_options_);
  }
  void reopen_with(ChatSystemOptions options) {
    close();
    open(std::move(options));
  }
  void advance(int64_t ms) { now_ += ms; }

  // ---- users ----
  Result<UserView> register_user(const std::string& name, const std::string& password,
                                 const Caller& caller = kHome) {
    return wait<UserView>([&](auto done) { chat_->register_user(name, password, caller, done); });
  }
  Result<LoginResult> login(const std::string& name, const std::string& password,
                            const Caller& caller = kHome) {
    return wait<LoginResult>([&](auto done) { chat_->login(name, password, caller, done); });
  }
  Result<Identity> authenticate(const std::string& token) {
    return wait<Identity>([&](auto done) { chat_->authenticate(token, done); });
  }
  Result<Ack> logout(const std::string& token) {
    return wait<Ack>([&](auto done) { chat_->logout(token, done); });
  }
  Result<Ack> change_password(const std::string& token, const std::string& old_password,
                              const std::string& new_password) {
    return wait<Ack>(
        [&](auto done) { chat_->change_password(token, old_password, new_password, kHome, done); });
  }
  Result<Ack> set_question(const std::string& user, const std::string& question,
                           const std::string& answer, const Caller& caller = kHome) {
    return wait<Ack>(
        [&](auto done) { chat_->set_security_question(user, question, answer, caller, done); });
  }
  Result<Ack> set_own_question(const std::string& token, const std::string& password,
                               const std::string& question, const std::string& answer) {
    return wait<Ack>([&](auto done) {
      chat_->set_own_security_question(token, password, question, answer, kHome, done);
    });
  }
  Result<std::string> question(const std::string& user) {
    return wait<std::string>([&](auto done) { chat_->security_question(user, done); });
  }
  Result<Ack> reset(const std::string& user, const std::string& answer,
                    const std::string& new_password, const Caller& caller = kHome) {
    return wait<Ack>(
        [&](auto done) { chat_->reset_password(user, answer, new_password, caller, done); });
  }
  Result<UserView> get_user(const std::string& name) {
    return wait<UserView>([&](auto done) { chat_->get_user(name, done); });
  }
  // Registers and logs in `name`; the identity authenticate() gives its session.
  Identity user(const std::string& name) {
    auto registered = register_user(name, "password-" + name);
    EXPECT_TRUE(registered.is_ok()) << registered.status().to_string();
    auto session = login(name, "password-" + name);
    EXPECT_TRUE(session.is_ok()) << session.status().to_string();
    if (!session) return {};
    auto who = authenticate(session->token);
    EXPECT_TRUE(who.is_ok()) << who.status().to_string();
    return who ? *who : Identity{};
  }

  // ---- rooms ----
  Result<RoomView> create(const Identity& who, const std::string& room) {
    return wait<RoomView>([&](auto done) { chat_->create_room(who, room, done); });
  }
  Result<RoomView> get_room(const std::string& room) {
    return wait<RoomView>([&](auto done) { chat_->get_room(room, done); });
  }
  Result<RoomView> join(const Identity& who, const std::string& room) {
    return wait<RoomView>([&](auto done) { chat_->join(who, room, done); });
  }
  Result<RoomView> leave(const Identity& who, const std::string& room) {
    return wait<RoomView>([&](auto done) { chat_->leave(who, room, done); });
  }
  Result<MessageView> post(const Identity& who, const std::string& room, const std::string& text,
                           const std::string& client_msg_id = "") {
    return wait<MessageView>([&](auto done) { chat_->post(who, room, text, client_msg_id, done); });
  }
  Result<HistoryView> history(const Identity& who, const std::string& room, uint64_t before_id,
                              size_t limit) {
    return wait<HistoryView>([&](auto done) { chat_->history(who, room, before_id, limit, done); });
  }
  Result<MessageView> like(const Identity& who, const std::string& room, uint64_t id) {
    return wait<MessageView>([&](auto done) { chat_->like(who, room, id, done); });
  }
  Result<MessageView> unlike(const Identity& who, const std::string& room, uint64_t id) {
    return wait<MessageView>([&](auto done) { chat_->unlike(who, room, id, done); });
  }
  Result<MessageView> like_anonymously(const std::string& room, uint64_t id) {
    return wait<MessageView>([&](auto done) { chat_->like_anonymously(room, id, done); });
  }
  Result<Ack> remove(const Identity& who, const std::string& room, uint64_t id) {
    return wait<Ack>([&](auto done) { chat_->delete_message(who, room, id, done); });
  }

  // Writes users, sessions and rooms, restarts, and checks they all came back.
  void restart_keeps_everything() {
    auto alice = user("alice");
    auto session = login("alice", "password-alice");
    ASSERT_TRUE(session.is_ok());
    ASSERT_TRUE(set_question("alice", "First pet?", "rex").is_ok());
    ASSERT_TRUE(create(alice, "dev").is_ok());
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(post(alice, "dev", "m" + std::to_string(i)).is_ok());
    const auto number = chat_->user_number("alice");

    reopen();
    auto who = authenticate(session->token);
    ASSERT_TRUE(who.is_ok()) << who.status().to_string();
    EXPECT_EQ(who->user, "alice");
    EXPECT_TRUE(login("alice", "password-alice").is_ok());
    EXPECT_EQ(*question("alice"), "First pet?");
    EXPECT_EQ(register_user("alice", "password-alice").status().code(), Code::kAlreadyExists);
    EXPECT_EQ(*chat_->list_rooms("", 10), (std::vector<std::string>{"dev", "lobby"}));
    EXPECT_EQ(get_room("dev")->members, std::vector<std::string>{"alice"});
    auto page = history(*who, "dev", 0, 100);
    ASSERT_TRUE(page.is_ok());
    ASSERT_EQ(page->messages.size(), 7u);
    EXPECT_EQ(page->messages[0].text, "m6");
    EXPECT_EQ(post(*who, "dev", "after")->id, 8u);
    EXPECT_EQ(*chat_->user_number("alice"), *number);
  }

  // The events of a stream, for checking what was (not) written.
  std::vector<Envelope> events(const std::string& stream) {
    auto read = journal_->read_stream(stream, 1);
    EXPECT_TRUE(read.is_ok()) << read.status().to_string();
    return read ? *read : std::vector<Envelope>{};
  }
  // A wrong password is answered before its UserLoginFailed is durable (user_actor.h); a
  // logout of a session nobody has is decided after every append in flight, so once it is
  // answered the log holds them all.
  size_t failures_logged(const std::string& user) {
    (void)logout(user + "." + std::string(64, '0'));
    size_t n = 0;
    for (const auto& e : events("user/" + user)) n += e.has_user_login_failed();
    return n;
  }

  fs::path dir_;
  bool use_snapshots_ = true;
  ChatSystemOptions last_options_;
  std::atomic<int64_t> now_{kStart};
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> journal_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::unique_ptr<caf::actor_system_config> config_;  // the system keeps a reference
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<RecordingListener> listener_;
  std::unique_ptr<ChatSystem> chat_;
};

// ---- users ----

TEST_F(ChatSystemTest, RegisterChecksNamePasswordAndUniqueness) {
  auto alice = register_user("alice", "correct horse");
  ASSERT_TRUE(alice.is_ok()) << alice.status().to_string();
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->registered_at_ms, kStart);
  EXPECT_FALSE(alice->has_security_question);

  EXPECT_EQ(register_user("alice", "another password").status().code(), Code::kAlreadyExists);
  const uint64_t before = journal_->last_position();
  EXPECT_EQ(register_user("bob", "short").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(register_user("-bob", "long enough").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(register_user("bo b", "long enough").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(register_user("", "long enough").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(register_user("bob", std::string(2000, 'x')).status().code(), Code::kTooLarge);
  EXPECT_EQ(journal_->last_position(), before) << "bad input wrote an event";

  // The stored hash is Argon2id, never the password.
  auto stored = events("user/alice");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].user_registered().password_hash().rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(stored[0].user_registered().password_hash().find("correct horse"), std::string::npos);

  auto view = get_user("alice");
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->name, "alice");
  EXPECT_EQ(get_user("nobody").status().code(), Code::kNotFound);
}

TEST_F(ChatSystemTest, LoginWrongPasswordAndUnknownUserLookAlike) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  auto ok = login("alice", "correct horse");
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->user, "alice");
  EXPECT_EQ(ok->token.rfind("alice.", 0), 0u);
  EXPECT_GE(ok->token.size(), std::string("alice.").size() + 32);
  EXPECT_EQ(ok->expires_at_ms, kStart + user::UserPolicy{}.session_ttl_ms);

  auto wrong = login("alice", "wrong horse");
  auto unknown = login("mallory", "wrong horse");
  auto invalid = login("-x", "wrong horse");
  for (const auto* r : {&wrong, &unknown, &invalid}) {
    ASSERT_FALSE(r->is_ok());
    EXPECT_EQ(r->status().code(), Code::kUnauthenticated);
    EXPECT_EQ(r->status().message(), user::kBadCredentials);
  }
  EXPECT_EQ(failures_logged("alice"), 1u);
  EXPECT_TRUE(events("user/mallory").empty()) << "an unknown user must leave no trace";
  EXPECT_EQ(chat_->logins_ok(), 1u);
  EXPECT_EQ(chat_->logins_failed(), 3u);

  // Only the token's SHA-256 is stored.
  auto stored = events("user/alice");
  ASSERT_TRUE(stored[1].has_user_logged_in());
  EXPECT_EQ(stored[1].user_logged_in().session_sha256(), sha256(ok->token));
}

TEST_F(ChatSystemTest, WrongPasswordsBackOffTheirSourceNotTheOwner) {
  auto options = test_options();
  options.throttle = tight();
  options.throttle.source_burst = 1000;
  reopen_with(options);
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(login("alice", "wrong", kEvil).status().code(), Code::kUnauthenticated) << i;
  // The guesser's source waits now: refused before any hash, nothing written.
  const uint64_t hashes = chat_->hashes();
  auto refused = login("alice", "correct horse", kEvil);
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_EQ(retry_after_seconds(refused.status()), 1) << refused.status().message();
  EXPECT_EQ(chat_->hashes(), hashes);
  EXPECT_EQ(failures_logged("alice"), 3u) << "failures are recorded; refusals are not";
  // The owner, from another source, logs in at once.
  EXPECT_TRUE(login("alice", "correct horse", kHome).is_ok());
  // The guesser's wait doubles with each further failure: 1, 2, 4, 8, 8 s.
  for (int64_t wait_s : {1, 2, 4, 8, 8}) {
    advance(wait_s * 1000 - 1);
    EXPECT_EQ(login("alice", "wrong", kEvil).status().code(), Code::kUnavailable) << wait_s;
    advance(1);
    EXPECT_EQ(login("alice", "wrong", kEvil).status().code(), Code::kUnauthenticated) << wait_s;
  }
  EXPECT_EQ(failures_logged("alice"), 8u);
  EXPECT_TRUE(login("alice", "correct horse", kHome).is_ok()) << "never locked out";
  // Another account is not delayed for the guesser's source.
  ASSERT_TRUE(register_user("bob", "correct horse").is_ok());
  EXPECT_TRUE(login("bob", "correct horse", kEvil).is_ok());
}

TEST_F(ChatSystemTest, AFloodFromOneSourceCostsNoHashesAndWritesNothing) {
  auto options = test_options();
  options.throttle = tight();
  reopen_with(options);
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  const uint64_t hashes = chat_->hashes();
  int unavailable = 0;
  for (int i = 0; i < 500; ++i) {
    auto r = login(i % 2 ? "alice" : "nobody" + std::to_string(i), "wrong", kEvil);
    if (r.status().code() == Code::kUnavailable) unavailable++;
  }
  EXPECT_EQ(unavailable, 495) << "the source's burst of 5 went through";
  EXPECT_EQ(chat_->hashes() - hashes, 5u);
  EXPECT_LE(failures_logged("alice"), 3u);
  EXPECT_EQ(chat_->attempts_throttled(), 495u);
  EXPECT_TRUE(login("alice", "correct horse", kHome).is_ok()) << "another source is not refused";
  // MQTT client ids are free to choose: all of MQTT shares one bucket too.
  int mqtt_refused = 0;
  for (int i = 0; i < 20; ++i) {
    Caller made_up{"mqtt", "client-" + std::to_string(i)};
    if (login("alice", "wrong", made_up).status().code() == Code::kUnavailable) mqtt_refused++;
  }
  EXPECT_EQ(mqtt_refused, 15);
  EXPECT_TRUE(login("alice", "correct horse", kHome).is_ok()) << "HTTP is outside that bucket";
}

TEST_F(ChatSystemTest, UnknownUsersCostAHashAndReadLikeWrongSecrets) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  ASSERT_TRUE(register_user("bob", "correct horse").is_ok());
  ASSERT_TRUE(set_question("bob", "First pet?", "rex").is_ok());
  auto hashes_of = [&](auto call) {
    const uint64_t before = chat_->hashes();
    auto status = call();
    return std::pair{chat_->hashes() - before, status};
  };
  auto wrong_password = hashes_of([&] { return login("alice", "wrong").status(); });
  auto unknown_login = hashes_of([&] { return login("nobody", "wrong").status(); });
  EXPECT_EQ(wrong_password, unknown_login);
  EXPECT_EQ(unknown_login.first, 1u);
  EXPECT_EQ(unknown_login.second.code(), Code::kUnauthenticated);

  auto wrong_answer = hashes_of([&] { return reset("bob", "cat", "battery staple").status(); });
  auto without = hashes_of([&] { return reset("alice", "cat", "battery staple").status(); });
  auto unknown_reset = hashes_of([&] { return reset("nobody", "cat", "battery staple").status(); });
  EXPECT_EQ(wrong_answer, without);
  EXPECT_EQ(wrong_answer, unknown_reset);
  EXPECT_EQ(wrong_answer.first, 1u);
  EXPECT_EQ(wrong_answer.second, unauthenticated(std::string(user::kBadAnswer)));

  // The question: an unknown user and one without a question read alike.
  EXPECT_EQ(question("alice").status(), user::no_question());
  EXPECT_EQ(question("nobody").status(), user::no_question());
}

TEST_F(ChatSystemTest, LegacyQuestionOnlyForUsersRegisteredOverLegacy) {
  ASSERT_TRUE(register_user("lee", "correct horse", kLegacy).is_ok());
  ASSERT_TRUE(register_user("alice", "correct horse", kHome).is_ok());
  EXPECT_EQ(events("user/lee")[0].cause().channel(), "legacy") << "the origin is in the log";
  const Status refused = permission_denied(std::string(user::kLegacyQuestionRefused));
  const uint64_t hashes = chat_->hashes();
  EXPECT_EQ(set_question("alice", "Pet?", "rex", kLegacy).status(), refused);
  EXPECT_EQ(set_question("nobody", "Pet?", "rex", kLegacy).status(), refused);
  EXPECT_EQ(chat_->hashes(), hashes) << "refused before the answer is hashed";
  EXPECT_TRUE(question("alice").status().code() == Code::kNotFound);
  // Snapshots every 3 events: the origin must survive recovery from one.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(login("lee", "correct horse").is_ok());
  reopen();
  ASSERT_TRUE(set_question("lee", "First pet?", "rex", kLegacy).is_ok());
  EXPECT_EQ(set_question("lee", "Other?", "cat", kLegacy).status(), refused) << "only a first";
  EXPECT_EQ(*question("lee"), "First pet?");
}

TEST_F(ChatSystemTest, AuthenticateLogoutAndExpiry) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  auto first = login("alice", "correct horse");
  auto second = login("alice", "correct horse");
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  EXPECT_NE(first->token, second->token);

  auto who = authenticate(first->token);
  ASSERT_TRUE(who.is_ok()) << who.status().to_string();
  EXPECT_EQ(who->user, "alice");
  EXPECT_TRUE(who->roles.empty());
  EXPECT_EQ(who->session_expires_at_ms, first->expires_at_ms);

  ASSERT_TRUE(logout(first->token).is_ok());
  EXPECT_EQ(authenticate(first->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(logout(first->token).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(authenticate(second->token).is_ok());

  // Tokens that are not ours, or name another user.
  for (std::string bad :
       {std::string(), std::string("nodot"), std::string(".abc"), std::string("alice.00"),
        std::string("bob") + first->token.substr(5), std::string(500, 'a') + ".00"})
    EXPECT_EQ(authenticate(bad).status().code(), Code::kUnauthenticated) << bad;

  advance(user::UserPolicy{}.session_ttl_ms);
  EXPECT_EQ(authenticate(second->token).status().code(), Code::kUnauthenticated);
}

TEST_F(ChatSystemTest, ChangePasswordEndsOtherSessions) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  auto mine = login("alice", "correct horse");
  auto other = login("alice", "correct horse");
  ASSERT_TRUE(mine.is_ok() && other.is_ok());

  auto wrong = change_password(mine->token, "not the password", "battery staple");
  EXPECT_EQ(wrong.status(), permission_denied(std::string(user::kWrongCurrentPassword)))
      << "the session is fine: the service says the password is wrong, not the session";
  EXPECT_EQ(failures_logged("alice"), 1u) << "a wrong old password is a failed login";
  EXPECT_EQ(change_password(mine->token, "correct horse", "short").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(change_password("bob.00", "correct horse", "battery staple").status().code(),
            Code::kUnauthenticated);

  auto changed = change_password(mine->token, "correct horse", "battery staple");
  ASSERT_TRUE(changed.is_ok()) << changed.status().to_string();
  EXPECT_TRUE(authenticate(mine->token).is_ok());
  EXPECT_EQ(authenticate(other->token).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(login("alice", "correct horse").status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(login("alice", "battery staple").is_ok());
}

TEST_F(ChatSystemTest, SecurityQuestionAndReset) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  auto session = login("alice", "correct horse");
  ASSERT_TRUE(session.is_ok());
  EXPECT_EQ(question("alice").status().code(), Code::kNotFound);
  EXPECT_EQ(question("nobody").status().code(), Code::kNotFound);
  EXPECT_EQ(reset("alice", "rex", "battery staple").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(set_question("nobody", "Pet?", "rex").status().code(), Code::kNotFound);
  EXPECT_EQ(set_question("alice", "", "rex").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(set_question("alice", "Pet?", "   ").status().code(), Code::kInvalidArgument);

  ASSERT_TRUE(set_question("alice", "First pet?", "  Rex   the DOG ").is_ok());
  auto asked = question("alice");
  ASSERT_TRUE(asked.is_ok());
  EXPECT_EQ(*asked, "First pet?");
  EXPECT_TRUE(get_user("alice")->has_security_question);
  for (const auto& e : events("user/alice")) {
    if (e.has_user_security_question_set()) {
      EXPECT_EQ(e.user_security_question_set().answer_hash().rfind("$argon2id$", 0), 0u);
    }
  }

  auto wrong = reset("alice", "cat", "battery staple");
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(failures_logged("alice"), 1u) << "a wrong answer is a failed login";
  EXPECT_TRUE(authenticate(session->token).is_ok());

  ASSERT_TRUE(reset("alice", "rex the dog", "battery staple").is_ok());
  EXPECT_EQ(authenticate(session->token).status().code(), Code::kUnauthenticated)
      << "a reset ends every session";
  EXPECT_EQ(login("alice", "correct horse").status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(login("alice", "battery staple").is_ok());
}

// get_user() keeps what it read (a legacy post names its sender in every payload), but never
// answers from before the user's last change: a write through the service drops it, and so
// does an operator's write outside the actors once the server follows it (App's durable
// observer calls note_durable() and, for the operator's channel, forget_user()).
TEST_F(ChatSystemTest, GetUserNeverAnswersFromBeforeTheUsersLastChange) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  ASSERT_FALSE(get_user("alice")->has_security_question);
  ASSERT_FALSE(get_user("alice")->has_security_question);
  ASSERT_TRUE(set_question("alice", "First pet?", "rex").is_ok());
  EXPECT_TRUE(get_user("alice")->has_security_question) << "a write through the service";

  // An operator erases alice as gatehousectl does: the pure model's events, appended directly.
  auto history = journal_->read_stream(user::user_stream("alice"), 1);
  ASSERT_TRUE(history.is_ok());
  auto state = user::replay("alice", *history);
  auto events = user::decide(state, user::Erase{}, now_.load());
  ASSERT_TRUE(events.is_ok()) << events.status().to_string();
  AppendRequest request;
  request.stream = user::user_stream("alice");
  request.expected_version = state.version;
  request.cause.set_kind(events::Cause::OPERATOR);
  request.cause.set_name("test");
  request.cause.set_channel("tool");
  request.events = *events;
  auto appended = journal_->append_and_wait(std::move(request));
  ASSERT_TRUE(appended.is_ok()) << appended.status().to_string();
  EXPECT_TRUE(get_user("alice").is_ok()) << "not yet followed: the live actor's state";
  for (const auto& e : appended->events) chat_->note_durable(e);
  chat_->forget_user("alice");
  EXPECT_EQ(get_user("alice").status().code(), Code::kNotFound);
}

// Cluster mode: a node that does not serve a user (ChatSystemOptions::serves says another
// node does) answers the user's reads from the log, and sees at once what the owner wrote.
TEST_F(ChatSystemTest, AUserServedElsewhereIsReadFromTheLogWithEveryAcknowledgedChange) {
  auto options = test_options();
  options.serves = [](const std::string& stream) {
    return stream.starts_with("user/") ? lease_lost(stream + " is served by node owner")
                                       : Status::ok();
  };
  ChatSystem elsewhere(*system_, *journal_, snapshots_.get(), std::move(options));
  auto check = [&](const std::string& token) {
    return wait<Identity>([&](auto done) { elsewhere.authenticate(token, done); });
  };
  auto view = [&](const std::string& name) {
    return wait<UserView>([&](auto done) { elsewhere.get_user(name, done); });
  };

  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  auto first = login("alice", "correct horse");
  auto second = login("alice", "correct horse");
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  auto who = check(first->token);
  ASSERT_TRUE(who.is_ok()) << who.status().to_string();
  EXPECT_EQ(who->user, "alice");
  EXPECT_EQ(who->session_expires_at_ms, first->expires_at_ms);
  ASSERT_TRUE(view("alice").is_ok());
  EXPECT_FALSE(view("alice")->has_security_question);
  EXPECT_EQ(view("bob").status().code(), Code::kNotFound);
  EXPECT_EQ(check("bob." + std::string(64, '0')).status().code(), Code::kUnauthenticated);

  // Each change the owner acknowledged counts on the very next read (snapshots every 3
  // events: the reads go through them too).
  ASSERT_TRUE(set_question("alice", "First pet?", "rex").is_ok());
  EXPECT_TRUE(view("alice")->has_security_question) << "nothing kept from the last read";
  EXPECT_EQ(*wait<std::string>([&](auto done) { elsewhere.security_question("alice", done); }),
            "First pet?");
  ASSERT_TRUE(logout(first->token).is_ok());
  EXPECT_EQ(check(first->token).status().code(), Code::kUnauthenticated);
  EXPECT_TRUE(check(second->token).is_ok());
  advance(user::UserPolicy{}.session_ttl_ms);
  EXPECT_EQ(check(second->token).status().code(), Code::kUnauthenticated) << "expired";

  // Writes still need the owner: refused, nothing written.
  auto third = login("alice", "correct horse");
  ASSERT_TRUE(third.is_ok());
  const uint64_t version = *journal_->stream_version("user/alice");
  EXPECT_EQ(wait<Ack>([&](auto done) { elsewhere.logout(third->token, done); }).status().code(),
            Code::kLeaseLost);
  EXPECT_EQ(*journal_->stream_version("user/alice"), version);
  EXPECT_TRUE(check(third->token).is_ok());
  elsewhere.shutdown();
}

// The user sets their own question with the session and the current password: the
// password is verified inside the service, which neither logs the user in nor out.
TEST_F(ChatSystemTest, OwnQuestionVerifiesThePasswordWithoutALoginOrLogout) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  auto session = login("alice", "correct horse");
  ASSERT_TRUE(session.is_ok());
  const size_t before = events("user/alice").size();

  EXPECT_EQ(set_own_question(session->token, "not the password", "Pet?", "rex").status(),
            permission_denied(std::string(user::kWrongCurrentPassword)));
  EXPECT_EQ(failures_logged("alice"), 1u) << "a wrong password is a failed login";
  EXPECT_EQ(set_own_question("alice." + std::string(64, '0'), "correct horse", "Pet?", "rex")
                .status()
                .code(),
            Code::kUnauthenticated);
  EXPECT_EQ(set_own_question(session->token, "correct horse", "", "rex").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(set_own_question(session->token, "correct horse", "Pet?", "  ").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(question("alice").status().code(), Code::kNotFound) << "nothing refused is set";

  ASSERT_TRUE(set_own_question(session->token, "correct horse", "First pet?", "Rex").is_ok());
  EXPECT_EQ(*question("alice"), "First pet?");
  EXPECT_TRUE(authenticate(session->token).is_ok()) << "the session goes on";
  auto log = events("user/alice");
  size_t logins = 0, logouts = 0;
  for (size_t i = before; i < log.size(); ++i) {
    logins += log[i].has_user_logged_in();
    logouts += log[i].has_user_logged_out();
  }
  EXPECT_EQ(logins, 0u) << "verifying the password is not a login";
  EXPECT_EQ(logouts, 0u);
  EXPECT_TRUE(reset("alice", "rex", "battery staple").is_ok());
}

TEST_F(ChatSystemTest, WrongAnswersBackOffLikeWrongPasswords) {
  auto options = test_options();
  options.throttle = tight();
  options.throttle.source_burst = 1000;
  reopen_with(options);
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  ASSERT_TRUE(set_question("alice", "First pet?", "rex").is_ok());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(reset("alice", "cat", "battery staple", kEvil).status().code(),
              Code::kUnauthenticated);
  EXPECT_EQ(reset("alice", "rex", "battery staple", kEvil).status().code(), Code::kUnavailable);
  EXPECT_EQ(login("alice", "correct horse", kEvil).status().code(), Code::kUnavailable)
      << "passwords and answers share the back-off";
  EXPECT_TRUE(reset("alice", "rex", "battery staple", kHome).is_ok());
  EXPECT_TRUE(login("alice", "battery staple", kHome).is_ok());
}

TEST_F(ChatSystemTest, UserNumberIsTheRegistrationPosition) {
  ASSERT_TRUE(register_user("alice", "correct horse").is_ok());
  ASSERT_TRUE(register_user("bob", "correct horse").is_ok());
  auto alice = chat_->user_number("alice");
  auto bob = chat_->user_number("bob");
  ASSERT_TRUE(alice.is_ok() && bob.is_ok());
  EXPECT_GT(*alice, 0u);
  EXPECT_GT(*bob, *alice);
  EXPECT_EQ(chat_->user_number("nobody").status().code(), Code::kNotFound);
  ASSERT_TRUE(login("alice", "correct horse").is_ok());
  EXPECT_EQ(*chat_->user_number("alice"), *alice);
}

// ---- rooms ----

TEST_F(ChatSystemTest, RoomsCreateListJoinLeave) {
  auto alice = user("alice");
  auto bob = user("bob");
  auto rooms = chat_->list_rooms("", 10);
  ASSERT_TRUE(rooms.is_ok());
  EXPECT_EQ(*rooms, std::vector<std::string>{"lobby"});

  auto dev = create(alice, "dev");
  ASSERT_TRUE(dev.is_ok()) << dev.status().to_string();
  EXPECT_EQ(dev->creator, "alice");
  EXPECT_EQ(dev->members, std::vector<std::string>{"alice"});
  EXPECT_EQ(create(bob, "dev").status().code(), Code::kAlreadyExists);
  EXPECT_EQ(create(bob, "lobby").status().code(), Code::kAlreadyExists);
  EXPECT_EQ(create(bob, "bad name").status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(create(bob, "zoo").is_ok());

  EXPECT_EQ(*chat_->list_rooms("", 10), (std::vector<std::string>{"dev", "lobby", "zoo"}));
  EXPECT_EQ(*chat_->list_rooms("", 2), (std::vector<std::string>{"dev", "lobby"}));
  EXPECT_EQ(*chat_->list_rooms("dev", 10), (std::vector<std::string>{"lobby", "zoo"}));
  EXPECT_EQ(*chat_->list_rooms("lobby", 10), (std::vector<std::string>{"zoo"}));

  auto joined = join(bob, "dev");
  ASSERT_TRUE(joined.is_ok());
  EXPECT_EQ(joined->members, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(join(bob, "nowhere").status().code(), Code::kNotFound);
  EXPECT_EQ(get_room("nowhere").status().code(), Code::kNotFound);
  EXPECT_EQ(get_room("dev")->members, (std::vector<std::string>{"alice", "bob"}));
  auto left = leave(bob, "dev");
  ASSERT_TRUE(left.is_ok());
  EXPECT_EQ(left->members, std::vector<std::string>{"alice"});

  // Members only, except in the lobby, which needs no join (and no creation).
  EXPECT_EQ(post(bob, "dev", "hi").status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(post(bob, "lobby", "hi").is_ok());
  auto lobby = get_room("lobby");
  ASSERT_TRUE(lobby.is_ok());
  EXPECT_EQ(lobby->creator, "");
  EXPECT_TRUE(lobby->members.empty());
}

TEST_F(ChatSystemTest, PostRetryAndLimits) {
  auto alice = user("alice");
  auto first = post(alice, "lobby", "hello", "c1");
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->id, 1u);
  EXPECT_EQ(first->author, "alice");
  EXPECT_EQ(first->text, "hello");
  EXPECT_EQ(first->room, "lobby");
  EXPECT_EQ(first->posted_at_ms, kStart);
  const auto version = journal_->stream_version("room/lobby");

  auto retry = post(alice, "lobby", "hello", "c1");
  ASSERT_TRUE(retry.is_ok());
  EXPECT_EQ(retry->id, 1u);
  EXPECT_EQ(*journal_->stream_version("room/lobby"), *version) << "a retry writes nothing";
  EXPECT_EQ(post(alice, "lobby", "hello again", "c2")->id, 2u);
  EXPECT_EQ(post(alice, "lobby", "no id")->id, 3u);
  EXPECT_EQ(post(alice, "lobby", "no id")->id, 4u);

  EXPECT_EQ(post(alice, "lobby", std::string(room::kDefaultMaxTextBytes + 1, 'x')).status().code(),
            Code::kTooLarge);
  EXPECT_EQ(post(alice, "lobby", "").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(post(alice, "lobby", "\xff\xfe").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(post(alice, "no room", "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(post(alice, "nowhere", "x").status().code(), Code::kNotFound);
  EXPECT_EQ(chat_->posts(), 4u);
}

TEST_F(ChatSystemTest, HistoryPagesNewestFirstBeyondMemory) {
  close();
  auto options = test_options();
  options.max_messages_in_memory = 5;
  open(options);
  auto alice = user("alice");
  const int kMessages = 23;
  for (int i = 1; i <= kMessages; ++i) {
    advance(1);
    ASSERT_TRUE(post(alice, "lobby", "m" + std::to_string(i)).is_ok()) << i;
  }
  ASSERT_TRUE(remove(alice, "lobby", 22).is_ok());
  // Too old to change: only the newest five are in memory.
  EXPECT_EQ(remove(alice, "lobby", 3).status().code(), Code::kNotFound);

  std::vector<uint64_t> seen;
  uint64_t before = 0;
  int pages = 0;
  do {
    auto page = history(alice, "lobby", before, 4);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    EXPECT_LE(page->messages.size(), 4u);
    for (const auto& m : page->messages) {
      EXPECT_EQ(m.text, "m" + std::to_string(m.id));
      EXPECT_EQ(m.author, "alice");
      seen.push_back(m.id);
    }
    before = page->next_before_id;
    ASSERT_LT(++pages, 20);
  } while (before != 0);
  std::vector<uint64_t> expected;
  for (uint64_t id = kMessages; id >= 1; --id)
    if (id != 22) expected.push_back(id);
  EXPECT_EQ(seen, expected);
  EXPECT_GT(chat_->history_log_reads(), 0u);

  auto newest = history(alice, "lobby", 0, 2);
  ASSERT_TRUE(newest.is_ok());
  ASSERT_EQ(newest->messages.size(), 2u);
  EXPECT_EQ(newest->messages[0].id, 23u);
  EXPECT_EQ(newest->messages[1].id, 21u);
  EXPECT_EQ(history(alice, "nowhere", 0, 10).status().code(), Code::kNotFound);

  // After a restart the older pages still come from the log.
  const auto reads = chat_->history_log_reads();
  reopen();
  auto deep = history(alice, "lobby", 4, 100);
  ASSERT_TRUE(deep.is_ok()) << deep.status().to_string();
  ASSERT_EQ(deep->messages.size(), 3u);
  EXPECT_EQ(deep->messages[0].id, 3u);
  EXPECT_EQ(deep->next_before_id, 0u);
  EXPECT_GT(chat_->history_log_reads(), 0u) << reads;
}

TEST_F(ChatSystemTest, LikesUnlikesAndAnonymousLikes) {
  auto alice = user("alice");
  auto bob = user("bob");
  auto carol = user("carol");
  ASSERT_TRUE(create(alice, "dev").is_ok());
  ASSERT_TRUE(join(bob, "dev").is_ok());
  auto message = post(alice, "dev", "like me");
  ASSERT_TRUE(message.is_ok());

  auto liked = like(bob, "dev", message->id);
  ASSERT_TRUE(liked.is_ok()) << liked.status().to_string();
  EXPECT_EQ(liked->like_count, 1u);
  EXPECT_TRUE(liked->liked_by_viewer);
  EXPECT_EQ(like(bob, "dev", message->id)->like_count, 1u) << "one like per user";
  EXPECT_EQ(like(carol, "dev", message->id).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(like(bob, "dev", 99).status().code(), Code::kNotFound);

  auto seen_by_alice = history(alice, "dev", 0, 10);
  ASSERT_TRUE(seen_by_alice.is_ok());
  EXPECT_FALSE(seen_by_alice->messages[0].liked_by_viewer);
  EXPECT_TRUE(history(bob, "dev", 0, 10)->messages[0].liked_by_viewer);

  auto unliked = unlike(bob, "dev", message->id);
  ASSERT_TRUE(unliked.is_ok());
  EXPECT_EQ(unliked->like_count, 0u);
  EXPECT_FALSE(unliked->liked_by_viewer);

  auto anonymous = like_anonymously("dev", message->id);
  ASSERT_TRUE(anonymous.is_ok());
  EXPECT_EQ(anonymous->like_count, 1u);
  EXPECT_EQ(like_anonymously("dev", message->id)->like_count, 2u) << "counted, not attributed";
  EXPECT_EQ(like_anonymously("dev", 99).status().code(), Code::kNotFound);
}

TEST_F(ChatSystemTest, OnlyTheAuthorDeletes) {
  auto alice = user("alice");
  auto bob = user("bob");
  auto message = post(alice, "lobby", "mine");
  ASSERT_TRUE(message.is_ok());
  EXPECT_EQ(remove(bob, "lobby", message->id).status().code(), Code::kPermissionDenied);
  auto removed = remove(alice, "lobby", message->id);
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(removed->version, *journal_->stream_version("room/lobby"));
  EXPECT_EQ(like(bob, "lobby", message->id).status().code(), Code::kNotFound);
  EXPECT_TRUE(history(alice, "lobby", 0, 10)->messages.empty());
  EXPECT_EQ(remove(alice, "lobby", 77).status().code(), Code::kNotFound);
}

TEST_F(ChatSystemTest, ListenersSeeDurableUpdatesInOrder) {
  auto alice = user("alice");
  auto bob = user("bob");
  ASSERT_TRUE(create(alice, "dev").is_ok());   // joined alice
  ASSERT_TRUE(join(bob, "dev").is_ok());       // joined bob
  auto m = post(alice, "dev", "hello", "c1");  // posted
  ASSERT_TRUE(m.is_ok());
  ASSERT_TRUE(post(alice, "dev", "hello", "c1").is_ok());                     // retry: nothing
  ASSERT_TRUE(like(bob, "dev", m->id).is_ok());                               // liked
  ASSERT_TRUE(unlike(bob, "dev", m->id).is_ok());                             // unliked
  ASSERT_TRUE(like_anonymously("dev", m->id).is_ok());                        // liked, nobody
  ASSERT_TRUE(remove(alice, "dev", m->id).is_ok());                           // deleted
  ASSERT_TRUE(leave(bob, "dev").is_ok());                                     // left
  EXPECT_EQ(post(bob, "dev", "x").status().code(), Code::kPermissionDenied);  // nothing

  using K = RoomUpdate::Kind;
  const std::vector<std::pair<K, std::string>> expected = {
      {K::kJoined, "alice"}, {K::kJoined, "bob"}, {K::kPosted, "alice"},  {K::kLiked, "bob"},
      {K::kUnliked, "bob"},  {K::kLiked, ""},     {K::kDeleted, "alice"}, {K::kLeft, "bob"}};
  auto updates = listener_->wait_updates(expected.size());
  ASSERT_EQ(updates.size(), expected.size());
  uint64_t version = 0;
  for (size_t i = 0; i < updates.size(); ++i) {
    EXPECT_EQ(updates[i].room, "dev");
    EXPECT_EQ(updates[i].kind, expected[i].first) << i << " " << kind_name(updates[i].kind);
    EXPECT_EQ(updates[i].user, expected[i].second) << i;
    EXPECT_GT(updates[i].version, version) << i;
    version = updates[i].version;
  }
  EXPECT_EQ(updates[2].message.id, m->id);
  EXPECT_EQ(updates[2].message.text, "hello");
  EXPECT_EQ(updates[3].message.like_count, 1u);
  EXPECT_EQ(updates[4].message.like_count, 0u);
  EXPECT_EQ(updates[6].message.text, "");
  EXPECT_EQ(listener_->not_durable(), 0);
  EXPECT_EQ(kind_name(K::kPosted), "posted");
  EXPECT_EQ(kind_name(K::kLeft), "left");
}

TEST_F(ChatSystemTest, RestartKeepsUsersSessionsAndRooms) {
  restart_keeps_everything();
  // Recovery went through snapshots (every 3 events here).
  EXPECT_FALSE(snapshots_->list("user/alice")->valid.empty());
  EXPECT_FALSE(snapshots_->list("room/dev")->valid.empty());
}

TEST_F(ChatSystemTest, ABusyRoomSnapshotsNoMoreOftenThanTheMessagesItHolds) {
  // Every snapshot of a room holds all the messages it keeps: taken every 3 events, a room
  // of 8 would write 8 messages' worth per 3 posts. It waits as many events as it holds.
  close();
  auto options = test_options();  // snapshot_every = 3
  options.max_messages_in_memory = 8;
  open(options);
  auto alice = user("alice");
  for (int i = 1; i <= 30; ++i) ASSERT_TRUE(post(alice, "lobby", "m" + std::to_string(i)).is_ok());
  reopen();  // the snapshot writes in flight are done
  auto listing = snapshots_->list("room/lobby");
  ASSERT_TRUE(listing.is_ok());
  ASSERT_EQ(listing->valid.size(), 2u);  // newest first
  EXPECT_GE(listing->valid[0].version() - listing->valid[1].version(), 8u);
  // Recovery from the older snapshot and the longer tail still shows every message held.
  auto page = history(alice, "lobby", 0, 8);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->messages.size(), 8u);
  EXPECT_EQ(page->messages[0].text, "m30");
  EXPECT_EQ(page->messages[7].text, "m23");
}

TEST_F(ChatSystemTest, RestartWithoutSnapshotStoreReplaysTheLog) {
  close();
  use_snapshots_ = false;
  open();
  restart_keeps_everything();
  EXPECT_TRUE(snapshots_->list("user/alice")->valid.empty());
}

TEST_F(ChatSystemTest, IdleActorsArePassivatedAndComeBack) {
  close();
  auto options = test_options();
  options.idle_timeout = std::chrono::milliseconds(20);
  open(options);
  auto alice = user("alice");
  ASSERT_TRUE(post(alice, "lobby", "hello").is_ok());
  // Passivation is asynchronous: wait (without a deadline on speed) until it happened.
  for (int i = 0; i < 3000 && chat_->live_actors() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(chat_->live_actors(), 0u);
  EXPECT_TRUE(login("alice", "password-alice").is_ok());
  EXPECT_EQ(history(alice, "lobby", 0, 10)->messages.size(), 1u);
}

// Calls reach a live room's actor without the directory (actors/direct_routes.h); an
// operator's eviction stops that actor while calls keep coming. Every call still succeeds,
// none is dropped with the stopped actor, and the room keeps them in the order they were sent.
TEST_F(ChatSystemTest, PostsStreamedAcrossEvictionsAllLandInOrder) {
  auto alice = user("alice");
  const int kBursts = 8, kPerBurst = 40;
  std::vector<std::future<Result<MessageView>>> answers;
  for (int b = 0; b < kBursts; ++b) {
    for (int i = 0; i < kPerBurst; ++i) {
      auto promise = std::make_shared<std::promise<Result<MessageView>>>();
      answers.push_back(promise->get_future());
      chat_->post(alice, "lobby", "m" + std::to_string(b * kPerBurst + i), "",
                  [promise](Result<MessageView> r) { promise->set_value(std::move(r)); });
    }
    chat_->forget_room("lobby");
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_EQ(answers[i].wait_for(std::chrono::seconds(60)), std::future_status::ready);
    auto r = answers[i].get();
    ASSERT_TRUE(r.is_ok()) << i << ": " << r.status().to_string();
  }
  std::vector<std::string> texts;
  for (uint64_t before = 0;;) {
    auto page = history(alice, "lobby", before, 100);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    for (const auto& m : page->messages) texts.push_back(m.text);
    if (page->next_before_id == 0 || page->messages.empty()) break;
    before = page->next_before_id;
  }
  ASSERT_EQ(texts.size(), size_t(kBursts * kPerBurst));
  for (size_t i = 0; i < texts.size(); ++i)  // newest first
    EXPECT_EQ(texts[i], "m" + std::to_string(texts.size() - 1 - i)) << i;
}

TEST_F(ChatSystemTest, ShutdownAnswersEveryCall) {
  auto alice = user("alice");
  // Calls race with shutdown(): each is answered, done or kUnavailable, never dropped.
  const int kCalls = 300;
  std::vector<std::future<Result<MessageView>>> answers;
  std::thread caller([&] {
    for (int i = 0; i < kCalls; ++i) {
      auto promise = std::make_shared<std::promise<Result<MessageView>>>();
      answers.push_back(promise->get_future());
      chat_->post(alice, "lobby", "m" + std::to_string(i), "",
                  [promise](Result<MessageView> r) { promise->set_value(std::move(r)); });
    }
  });
  chat_->shutdown();
  caller.join();
  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    auto r = answer.get();
    if (!r) {
      EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
    }
  }
  EXPECT_EQ(login("alice", "password-alice").status().code(), Code::kUnavailable);
}

// ---- the hashing queue's bound ----

TEST_F(ChatSystemTest, FullHashQueueRefusesLoginsWithoutCrashing) {
  close();
  auto options = test_options();
  options.hash_threads = 1;
  options.hash_queue = 1;
  open(options);
  const int kUsers = 12;
  for (int i = 0; i < kUsers; ++i)
    ASSERT_TRUE(register_user("u" + std::to_string(i), "password-u").is_ok());
  for (int i = 0; i < kUsers; ++i)  // spawned and recovered: the logins below only hash
    ASSERT_TRUE(get_user("u" + std::to_string(i)).is_ok());

  // Hold the only hashing thread, so that the queue's bound decides, not the speed.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> holding;
  ASSERT_TRUE(chat_->hasher()
                  .submit([&holding, released] {
                    holding.set_value();
                    released.wait();
                  })
                  .is_ok());
  holding.get_future().wait();

  std::vector<std::future<Result<LoginResult>>> logins;
  for (int i = 0; i < kUsers; ++i) {
    auto promise = std::make_shared<std::promise<Result<LoginResult>>>();
    logins.push_back(promise->get_future());
    chat_->login("u" + std::to_string(i), "password-u", kHome,
                 [promise](Result<LoginResult> r) { promise->set_value(std::move(r)); });
  }
  // One login fits the queue; the others are refused at once, while the thread is held.
  // Wait for all refusals: every login but the queued one is answered while the thread is
  // still held.
  for (;;) {
    int ready = 0;
    for (auto& f : logins)
      ready += f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    if (ready >= kUsers - 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  release.set_value();
  int ok = 0;
  int refused = 0;
  for (auto& f : logins) {
    auto r = f.get();
    if (r.is_ok()) {
      ++ok;
    } else {
      EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
      EXPECT_EQ(r.status().message(), "too many logins at once; retry");
      ++refused;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(refused, kUsers - 1);
  EXPECT_EQ(chat_->hashes_refused(), uint64_t(kUsers - 1));
  // Once the queue drains, logins work again.
  EXPECT_TRUE(login("u0", "password-u").is_ok());
}

TEST(PasswordHasherTest, HashesVerifiesAndBoundsItsQueue) {
  HasherOptions options;
  options.ops = crypto_pwhash_OPSLIMIT_MIN;
  options.mem_bytes = crypto_pwhash_MEMLIMIT_MIN;
  options.threads = 1;
  options.queue = 2;
  PasswordHasher hasher(options);
  ASSERT_TRUE(hasher.status().is_ok());
  auto hash = hasher.hash("secret words");
  ASSERT_TRUE(hash.is_ok());
  EXPECT_TRUE(hasher.verify(*hash, "secret words"));
  EXPECT_FALSE(hasher.verify(*hash, "secret word"));
  EXPECT_FALSE(hasher.verify("not a hash", "secret words"));

  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> holding;
  ASSERT_TRUE(hasher
                  .submit([&holding, released] {
                    holding.set_value();
                    released.wait();
                  })
                  .is_ok());
  holding.get_future().wait();
  std::atomic<int> ran{0};
  EXPECT_TRUE(hasher.submit([&ran] { ++ran; }).is_ok());
  EXPECT_TRUE(hasher.submit([&ran] { ++ran; }).is_ok());
  EXPECT_EQ(hasher.queue_depth(), 2u);
  auto full = hasher.submit([&ran] { ++ran; });
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_EQ(hasher.refused(), 1u);
  release.set_value();
  hasher.shutdown();  // runs what was queued
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(hasher.submit([] {}).code(), Code::kUnavailable);

  HasherOptions bad = options;
  bad.mem_bytes = 1;
  EXPECT_EQ(PasswordHasher(bad).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace gh::chat
