// The entity shell (actors/entity_shell.h), once for every entity kind (device, room, user),
// on CAF 0.17's deterministic test coordinator: every message is delivered when the test
// says so. Recovery runs on a pool of 0 threads that the test drains; appends go to a real
// RocksDB journal in a temporary directory, but only when the test releases them (or fails
// them), so the test sees exactly what is in flight and what was answered when.
//
// CAF's test engine provides the coordinator fixture; gtest provides main and the checks.
#define CAF_TEST_NO_MAIN
#include <caf/test/unit_test_impl.hpp>
// clang-format off: dsl.hpp uses a FAIL of its own, before gtest defines one
#include <caf/test/dsl.hpp>
// clang-format on

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include "actors/answer_once.h"
#include "actors/device/device_actor.h"
#include "actors/directory.h"
#include "actors/room/room_actor.h"
#include "actors/user/user_actor.h"
#include "events/cause.h"
#include "events/database.h"
#include "events/rocksdb_journal.h"
#include "events/stream_name.h"

namespace gh::entity {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1'800'000'000'000;

// A journal that holds every append until the test releases it (written to the real
// journal, in order, and answered on the test's thread) or fails it.
class HeldJournal : public Journal {
 public:
  explicit HeldJournal(Journal& inner) : inner_(inner) {}
  void append(AppendRequest request, AppendCallback done) override {
    held_.push_back({std::move(request), std::move(done)});
  }
  size_t held() const { return held_.size(); }
  void release_one() {
    auto next = std::move(held_.front());
    held_.pop_front();
    next.done(inner_.append_and_wait(std::move(next.request)));
  }
  void fail_one(Status status) {
    auto next = std::move(held_.front());
    held_.pop_front();
    next.done(std::move(status));
  }
  Result<std::vector<Envelope>> read_stream(const std::string& stream, uint64_t from,
                                            size_t max) const override {
    return inner_.read_stream(stream, from, max);
  }
  Status read_all(uint64_t from, const std::function<bool(const Envelope&)>& visit) const override {
    return inner_.read_all(from, visit);
  }
  Result<uint64_t> stream_version(const std::string& stream) const override {
    return inner_.stream_version(stream);
  }
  Status list_streams(
      const std::string& prefix,
      const std::function<bool(const std::string&, uint64_t)>& visit) const override {
    return inner_.list_streams(prefix, visit);
  }
  Result<std::string> read_blob(const std::string& key) const override {
    return inner_.read_blob(key);
  }
  Result<AppendResult> find_command(const std::string& stream,
                                    const std::string& id) const override {
    return inner_.find_command(stream, id);
  }
  uint64_t last_position() const override { return inner_.last_position(); }
  JournalStats stats() const override { return inner_.stats(); }

 private:
  struct Held {
    AppendRequest request;
    AppendCallback done;
  };
  Journal& inner_;
  std::deque<Held> held_;
};

// The state of `stream` replayed from the log (the shell's recovery, without snapshots:
// snapshot + tail is the models' property test).
template <class State, class Apply>
Result<State> replay_log(const Journal& journal, const std::string& stream, State state,
                         Apply apply) {
  auto log = journal.read_stream(stream, 1);
  if (!log) return log.status();
  for (const auto& e : *log) apply(state, e);
  return state;
}

// What the answers said, in the order they came: "w0 ok", "r unavailable", ...
using Answers = std::vector<std::string>;

std::string outcome(const Status& status) {
  return status.is_ok() ? "ok" : std::string(code_name(status.code()));
}

// ---- one adapter per entity kind: its context, a call that writes, a read ----

struct DeviceKind {
  using Context = device::DeviceContext;
  static constexpr const char* kId = "door-1";
  static std::string stream() { return device_stream(kId); }
  static void seed(Journal&) {}
  static std::shared_ptr<Context> context(Journal& journal, BlockingPool& pool) {
    auto c = std::make_shared<Context>();
    c->journal = &journal;
    c->pool = &pool;
    c->clock = [] { return kNow; };
    c->snapshot_every = 0;
    c->load = [&journal](const std::string& id) {
      device::State s;
      s.id = id;
      return replay_log(journal, device_stream(id), s,
                        [](device::State& st, const Envelope& e) { device::apply(st, e); });
    };
    return c;
  }
  static caf::actor spawn(caf::local_actor* self, caf::actor directory,
                          std::shared_ptr<Context> c) {
    return device::spawn_device_actor(self, kId, std::move(directory), c);
  }
  // The first write registers the door (online); the others toggle its availability.
  static caf::message write(int i, Answers& answers) {
    device::DeviceCall call;
    if (i == 0)
      call.command = device::Hello{{"lock", "front door", "1.0"}, true, {}};
    else
      call.command = device::SetAvailability{i % 2 == 0, {}};  // hello brought it online
    call.cause = events::device_cause(kId);
    call.done = answer_once<Result<device::State>>([&answers, i](Result<device::State> r) {
      answers.push_back("w" + std::to_string(i) + " " + outcome(r.status()));
    });
    return caf::make_message(std::move(call));
  }
  static caf::message read(Answers& answers) {
    device::DeviceCall call;
    call.done = answer_once<Result<device::State>>([&answers](Result<device::State> r) {
      answers.push_back("r " + outcome(r.status()) +
                        (r ? " v" + std::to_string(r->version) : std::string()));
    });
    return caf::make_message(std::move(call));
  }
};

struct RoomKind {
  using Context = room::RoomContext;
  static constexpr const char* kId = "lobby";
  static std::string stream() { return room::room_stream(kId); }
  static void seed(Journal&) {}
  static std::shared_ptr<Context> context(Journal& journal, BlockingPool& pool) {
    auto c = std::make_shared<Context>();
    c->journal = &journal;
    c->pool = &pool;
    c->clock = [] { return kNow; };
    c->snapshot_every = 0;
    c->load = [&journal, c = c.get()](const std::string& name) {
      room::State s;
      s.name = name;
      s.max_messages = c->max_messages;
      return replay_log(journal, room::room_stream(name), s,
                        [](room::State& st, const Envelope& e) { room::apply(st, e); });
    };
    return c;
  }
  static caf::actor spawn(caf::local_actor* self, caf::actor directory,
                          std::shared_ptr<Context> c) {
    return room::spawn_room_actor(self, kId, std::move(directory), c);
  }
  static caf::message write(int i, Answers& answers) {
    room::RoomCall call;
    call.command = room::Post{"alice", "post " + std::to_string(i), ""};
    call.cause = events::user_cause("alice", "mqtt");
    call.done = answer_once<Result<room::RoomReply>>([&answers, i](Result<room::RoomReply> r) {
      answers.push_back("w" + std::to_string(i) + " " + outcome(r.status()));
    });
    return caf::make_message(std::move(call));
  }
  static caf::message read(Answers& answers) {
    room::RoomCall call;
    call.done = answer_once<Result<room::RoomReply>>([&answers](Result<room::RoomReply> r) {
      answers.push_back("r " + outcome(r.status()) +
                        (r ? " v" + std::to_string(r->state->version) : std::string()));
    });
    return caf::make_message(std::move(call));
  }
};

// A user registered with sessions s0..s15 (written before the test starts); each write
// ends one of them. No call here needs a hash.
struct UserKind {
  using Context = user::UserContext;
  static constexpr const char* kId = "alice";
  static std::string stream() { return user::user_stream(kId); }
  static std::string session(int i) { return std::string(31, 's') + char('a' + i); }
  static void seed(Journal& journal) {
    AppendRequest request;
    request.stream = stream();
    request.cause = events::user_cause(kId, "http");
    request.time_unix_ms = kNow - 1000;
    Envelope registered;
    registered.mutable_user_registered()->set_password_hash("$argon2id$seeded");
    request.events.push_back(registered);
    for (int i = 0; i < 16; ++i) {
      Envelope in;
      in.mutable_user_logged_in()->set_session_sha256(session(i));
      in.mutable_user_logged_in()->set_expires_at_unix_ms(kNow + 3'600'000);
      request.events.push_back(in);
    }
    ASSERT_TRUE(journal.append_and_wait(std::move(request)).is_ok());
  }
  static std::shared_ptr<Context> context(Journal& journal, BlockingPool& pool) {
    auto c = std::make_shared<Context>();
    c->journal = &journal;
    c->pool = &pool;
    c->clock = [] { return kNow; };
    c->snapshot_every = 0;
    c->load = [&journal](const std::string& name) {
      user::State s;
      s.name = name;
      return replay_log(journal, user::user_stream(name), s,
                        [](user::State& st, const Envelope& e) { user::apply(st, e); });
    };
    return c;
  }
  static caf::actor spawn(caf::local_actor* self, caf::actor directory,
                          std::shared_ptr<Context> c) {
    return user::spawn_user_actor(self, kId, std::move(directory), c);
  }
  static caf::message write(int i, Answers& answers) {
    user::UserCall call;
    call.op = user::LogoutOp{session(i)};
    call.cause = events::user_cause(kId, "http");
    call.done = answer_once<Result<user::UserReply>>([&answers, i](Result<user::UserReply> r) {
      answers.push_back("w" + std::to_string(i) + " " + outcome(r.status()));
    });
    return caf::make_message(std::move(call));
  }
  static caf::message read(Answers& answers) {
    user::UserCall call;
    call.op = user::ReadOp{};
    call.cause = events::user_cause(kId, "http");
    call.done = answer_once<Result<user::UserReply>>([&answers](Result<user::UserReply> r) {
      answers.push_back("r " + outcome(r.status()) +
                        (r ? " v" + std::to_string(r->state->version) : std::string()));
    });
    return caf::make_message(std::move(call));
  }
};

template <class Kind>
class EntityShellTest : public ::testing::Test, public ::test_coordinator_fixture<> {
 protected:
  EntityShellTest() {
    static int counter = 0;
    dir_ = fs::temp_directory_path() /
           ("gh-shell-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    auto db = Database::open(dir_.string(), OpenMode::kReadWrite);
    EXPECT_TRUE(db.is_ok()) << db.status().to_string();
    database_ = std::move(*db);
    log_ = std::make_unique<RocksdbJournal>(database_.get());
    held_ = std::make_unique<HeldJournal>(*log_);
    Kind::seed(*log_);
    base_version_ = *log_->stream_version(Kind::stream());
    context_ = Kind::context(*held_, pool_);
    // The directory's part: count the entity's "I am idle". The counter is a spawn argument,
    // not a capture: CAF 0.17 runs a function actor spawned without arguments by
    // dereferencing a null std::shared_ptr<std::tuple<>> (caf/detail/init_fun_factory.hpp),
    // which UndefinedBehaviorSanitizer rightly stops (docs/reliability.md "Sanitizers").
    directory_ = sys.spawn(
        [](caf::event_based_actor*, std::shared_ptr<int> idles) -> caf::behavior {
          return {[idles](idle_atom) { ++*idles; }};
        },
        idles_);
  }
  ~EntityShellTest() override {
    for (auto& actor : spawned_) self->send_exit(actor, caf::exit_reason::user_shutdown);
    self->send_exit(directory_, caf::exit_reason::user_shutdown);
    run();
    held_.reset();  // its callbacks hold the actors
    fs::remove_all(dir_);
  }

  // A fresh actor for the entity; its recovery waits in the pool until recover().
  caf::actor spawn() {
    auto actor = Kind::spawn(self.ptr(), directory_, context_);
    spawned_.push_back(actor);
    run();
    return actor;
  }
  void recover() {
    pool_.run_queued();
    run();
  }
  void send(const caf::actor& actor, caf::message message) {
    self->send(actor, std::move(message));
    run();
  }
  void release(size_t n) {
    for (size_t i = 0; i < n && held_->held() > 0; ++i) {
      held_->release_one();
      run();
    }
  }
  uint64_t written() { return *log_->stream_version(Kind::stream()) - base_version_; }
  // Whether `actor`, monitored by the test, has ended: its down message is waiting.
  bool ended(const caf::actor& actor) {
    bool down_seen = false;
    self->receive([&](const caf::down_msg& down) { down_seen = down.source == actor.address(); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return down_seen;
  }
  // A fresh actor for the entity recovers the truth and takes write `n`, as the next call
  // through the directory would.
  void expect_a_fresh_actor_writes(int n) {
    answers_.clear();
    auto fresh = spawn();
    recover();
    send(fresh, Kind::write(n, answers_));
    release(1);
    EXPECT_EQ(answers_, (Answers{"w" + std::to_string(n) + " ok"}));
  }

  fs::path dir_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> log_;
  std::unique_ptr<HeldJournal> held_;
  BlockingPool pool_{0, 64};
  std::shared_ptr<typename Kind::Context> context_;
  uint64_t base_version_ = 0;
  Answers answers_;
  std::shared_ptr<int> idles_ = std::make_shared<int>(0);
  caf::actor directory_;
  std::vector<caf::actor> spawned_;
};

using Kinds = ::testing::Types<DeviceKind, RoomKind, UserKind>;
TYPED_TEST_SUITE(EntityShellTest, Kinds);

// Calls that arrive while the state is being recovered wait, and are then decided in order.
TYPED_TEST(EntityShellTest, CallsWaitForRecoveryThenRunInOrder) {
  auto actor = this->spawn();
  this->send(actor, TypeParam::write(0, this->answers_));
  this->send(actor, TypeParam::read(this->answers_));
  EXPECT_TRUE(this->answers_.empty());
  EXPECT_EQ(this->held_->held(), 0u) << "nothing is decided before the state is recovered";
  this->recover();
  EXPECT_EQ(this->held_->held(), 1u);
  EXPECT_TRUE(this->answers_.empty()) << "nothing is answered before it is durable";
  this->release(1);
  ASSERT_EQ(this->answers_.size(), 2u);
  EXPECT_EQ(this->answers_[0], "w0 ok");
  EXPECT_EQ(this->answers_[1].rfind("r ok", 0), 0u) << this->answers_[1];
}

// Several calls put several appends in flight at once, with chained expected versions; each
// is answered, in order, only once it is durable, and a read waits behind them.
TYPED_TEST(EntityShellTest, AppendsArePipelinedAndAnsweredInOrderOnceDurable) {
  auto actor = this->spawn();
  this->recover();
  constexpr int kWrites = 8;
  for (int i = 0; i < kWrites; ++i) this->send(actor, TypeParam::write(i, this->answers_));
  this->send(actor, TypeParam::read(this->answers_));
  EXPECT_EQ(this->held_->held(), size_t(kWrites)) << "all appends are in flight at once";
  EXPECT_TRUE(this->answers_.empty());
  this->release(3);
  EXPECT_EQ(this->answers_, (Answers{"w0 ok", "w1 ok", "w2 ok"}));
  this->release(kWrites - 3);
  ASSERT_EQ(this->answers_.size(), size_t(kWrites + 1));
  for (int i = 0; i < kWrites; ++i) EXPECT_EQ(this->answers_[i], "w" + std::to_string(i) + " ok");
  const uint64_t version = this->base_version_ + this->written();
  EXPECT_EQ(this->answers_.back(), "r ok v" + std::to_string(version))
      << "the read shows every write before it, all durable";
  EXPECT_GE(this->written(), uint64_t(kWrites));
}

// An append fails: its call gets the journal's error, every other call held gets
// kUnavailable, exactly once, and the actor ends; a fresh one recovers from the log.
TYPED_TEST(EntityShellTest, AFailedAppendAnswersEveryCallAndRestartsFromTheLog) {
  auto actor = this->spawn();
  this->recover();
  this->send(actor, TypeParam::write(0, this->answers_));
  this->release(1);
  this->answers_.clear();
  for (int i = 1; i <= 3; ++i) this->send(actor, TypeParam::write(i, this->answers_));
  this->send(actor, TypeParam::read(this->answers_));
  ASSERT_EQ(this->held_->held(), 3u);
  this->held_->fail_one(data_loss("disk on fire"));
  this->run();
  EXPECT_EQ(this->answers_,
            (Answers{"w1 data_loss", "w2 unavailable", "w3 unavailable", "r unavailable"}));
  const uint64_t before = this->written();
  this->release(2);  // the later appends reach the log only as conflicts
  EXPECT_EQ(this->written(), before) << "nothing decided on lost state is written";
  EXPECT_EQ(this->answers_.size(), 4u) << "every call was answered once";

  // The next actor recovers the truth and goes on.
  this->expect_a_fresh_actor_writes(1);
}

// The store cannot be read while the entity recovers (PostgreSQL failing over): the calls
// that waited get kUnavailable and the actor ends, so the next call, through the directory,
// gets a fresh actor that recovers once the store is back, instead of an entity that
// answers the outage forever.
TYPED_TEST(EntityShellTest, ARecoveryTheStoreCouldNotServeEndsTheActorForAFreshOne) {
  auto load = this->context_->load;
  this->context_->load = [](const std::string&) -> decltype(load(std::string())) {
    return unavailable("PostgreSQL: cannot connect: session is read-only");
  };
  auto actor = this->spawn();
  this->self->monitor(actor);
  this->send(actor, TypeParam::write(0, this->answers_));
  this->send(actor, TypeParam::read(this->answers_));
  this->recover();
  EXPECT_EQ(this->answers_, (Answers{"w0 unavailable", "r unavailable"}));
  EXPECT_TRUE(this->ended(actor)) << "the actor ended rather than stay broken";

  this->context_->load = load;  // the store is back
  this->expect_a_fresh_actor_writes(0);
}

// The recovery pool had no room (many entities recovering at once): the actor answers the
// call that came unavailable and ends, so the next call, through the directory, gets a fresh
// actor that recovers once the pool has room, instead of one answering the overload forever.
TYPED_TEST(EntityShellTest, ARecoveryThePoolHadNoRoomForEndsTheActorForAFreshOne) {
  size_t filled = 0;
  while (this->pool_.submit([] {})) ++filled;  // the pool's queue is full
  ASSERT_EQ(filled, 64u);
  auto actor = this->spawn();
  this->self->monitor(actor);
  this->send(actor, TypeParam::write(0, this->answers_));
  EXPECT_EQ(this->answers_, (Answers{"w0 unavailable"}));
  EXPECT_TRUE(this->ended(actor)) << "the actor ended rather than stay broken";

  this->pool_.run_queued();  // room again
  this->expect_a_fresh_actor_writes(0);
}

// Cluster mode: the journal refused an append because this node no longer holds the
// entity's shard (events/pg_journal.h). Every call held gets that same lease_lost, not
// "unavailable": the entity lives on another node now.
TYPED_TEST(EntityShellTest, ALostLeaseAnswersEveryHeldCallWithLeaseLost) {
  auto actor = this->spawn();
  this->recover();
  for (int i = 0; i <= 2; ++i) this->send(actor, TypeParam::write(i, this->answers_));
  this->send(actor, TypeParam::read(this->answers_));
  ASSERT_EQ(this->held_->held(), 3u);
  this->held_->fail_one(lease_lost("shard 998 is no longer held by node gh-a at epoch 1"));
  this->run();
  EXPECT_EQ(this->answers_,
            (Answers{"w0 lease_lost", "w1 lease_lost", "w2 lease_lost", "r lease_lost"}));
  const uint64_t before = this->written();
  this->release(2);  // decided on the lost state: they reach the log only as conflicts
  EXPECT_EQ(this->written(), before);
  EXPECT_EQ(this->answers_.size(), 4u) << "every call was answered once";
}

// A stop finishes what is in flight, then the actor quits; a call sent after that is
// answered by its guard, never lost.
TYPED_TEST(EntityShellTest, StopFinishesInFlightAndLaterCallsAreStillAnswered) {
  auto actor = this->spawn();
  this->recover();
  this->send(actor, TypeParam::write(0, this->answers_));
  this->send(actor, TypeParam::write(1, this->answers_));
  this->self->send(actor, stop_atom::value);
  this->run();
  EXPECT_TRUE(this->answers_.empty());
  this->release(2);
  EXPECT_EQ(this->answers_, (Answers{"w0 ok", "w1 ok"}));
  this->send(actor, TypeParam::read(this->answers_));
  ASSERT_EQ(this->answers_.size(), 3u);
  EXPECT_EQ(this->answers_[2], "r unavailable");
}

// Passivation: an entity with nothing in flight says it is idle; one with an append in
// flight does not.
TYPED_TEST(EntityShellTest, IdleOnlyWithNothingInFlight) {
  auto actor = this->spawn();
  this->recover();
  this->send(actor, TypeParam::write(0, this->answers_));
  this->send(actor, caf::make_message(idle_check_atom::value));
  EXPECT_EQ(*this->idles_, 0) << "an append is in flight";
  this->release(1);
  this->send(actor, caf::make_message(idle_check_atom::value));
  EXPECT_EQ(*this->idles_, 1);
}

}  // namespace
}  // namespace gh::entity
