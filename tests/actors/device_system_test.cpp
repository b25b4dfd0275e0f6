// DeviceSystem on a real actor system and a real RocksDB journal in a temporary directory.
#include "actors/device/device_system.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "events/database.h"
#include "events/keys.h"
#include "events/rocksdb_journal.h"
#include "events/stream_name.h"
#include "snapshots/rocksdb_snapshot_store.h"

namespace gh::device {
namespace {

namespace fs = std::filesystem;

// Records effects so tests can wait for what the MQTT adapter would publish.
class RecordedEffects : public DeviceEffects {
 public:
  void send_command(const std::string& device_id, LockAction action,
                    const std::string& command_id) override {
    std::lock_guard lock(mutex_);
    commands_.push_back(device_id + " " + std::string(action_name(action)) + " " + command_id);
    changed_.notify_all();
  }
  void publish_status(const State& state) override {
    std::lock_guard lock(mutex_);
    statuses_++;
    last_version_[state.id] = state.version;
  }
  void stranger_alert(const std::string& device_id, const Stranger& s) override {
    std::lock_guard lock(mutex_);
    alerts_.push_back(device_id + " " + s.picture_id);
  }
  void unexpected_report(const std::string& device_id, const UnexpectedReport& r) override {
    std::lock_guard lock(mutex_);
    unexpected_.push_back(device_id + " " + std::string(lock_state_name(r.reported)) + " " +
                          std::string(lock_state_name(r.desired)));
    changed_.notify_all();
  }
  // Effects run after the caller is answered: wait (generously) for `n` alerts.
  std::vector<std::string> wait_unexpected(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return unexpected_.size() >= n; });
    return unexpected_;
  }
  // Waits (generously: the machine may be slow) until `n` commands were sent.
  std::vector<std::string> wait_commands(size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(30), [&] { return commands_.size() >= n; });
    return commands_;
  }
  std::vector<std::string> alerts() {
    std::lock_guard lock(mutex_);
    return alerts_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> commands_;
  std::vector<std::string> alerts_;
  std::vector<std::string> unexpected_;
  size_t statuses_ = 0;
  std::map<std::string, uint64_t> last_version_;
};

events::Cause operator_cause() {
  events::Cause cause;
  cause.set_kind(events::Cause::API_TOKEN);
  cause.set_name("ops");
  cause.set_channel("http");
  return cause;
}

class DeviceSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-devsys-" + std::to_string(::getpid()) + "-" + random_id().substr(0, 8));
    open();
  }
  void TearDown() override {
    close();
    fs::remove_all(dir_);
  }
  void open(DeviceSystemOptions options = {}) {
    auto database = Database::open(dir_.string(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok()) << database.status().to_string();
    database_ = std::move(database).value();
    journal_ = std::make_unique<RocksdbJournal>(database_.get());
    config_ = std::make_unique<caf::actor_system_config>();
    system_ = std::make_unique<caf::actor_system>(*config_);
    snapshots_ = std::make_unique<RocksdbSnapshotStore>(database_.get());
    // Snapshots every 3 events so that recovery in these tests goes through them.
    options.snapshot_every = 3;
    devices_ = std::make_unique<DeviceSystem>(
        *system_, *journal_, snapshot_storage(*journal_, *snapshots_, [] { return int64_t{1}; }),
        &effects_, std::move(options));
  }
  void close() {
    devices_.reset();
    system_.reset();
    config_.reset();
    snapshots_.reset();
    journal_.reset();
    database_.reset();
  }
  void reopen(DeviceSystemOptions options = {}) {
    close();
    open(std::move(options));
  }

  Result<State> hello(const std::string& id) {
    return wait_for<State>([&](auto done) { devices_->hello(id, {"lock", id, "1"}, done); });
  }
  Result<State> report(const std::string& id, LockState s) {
    return wait_for<State>([&](auto done) { devices_->report_state(id, s, done); });
  }
  Result<CommandRecord> lock(const std::string& id, LockAction action, std::string cmd = "") {
    return wait_for<CommandRecord>(
        [&](auto done) { devices_->request_lock(id, action, cmd, operator_cause(), done); });
  }
  Result<State> get(const std::string& id) {
    return wait_for<State>([&](auto done) { devices_->get(id, done); });
  }

  fs::path dir_;
  RecordedEffects effects_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<RocksdbJournal> journal_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::unique_ptr<caf::actor_system_config> config_;  // the system keeps a reference
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<DeviceSystem> devices_;
};

TEST_F(DeviceSystemTest, HelloLockConfirmRoundTrip) {
  ASSERT_TRUE(hello("door1").is_ok());
  auto command = lock("door1", events::LOCK);
  ASSERT_TRUE(command.is_ok()) << command.status().to_string();
  EXPECT_EQ(command->status, CommandStatus::kSent);
  auto sent = effects_.wait_commands(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "door1 LOCK " + command->id);

  auto waited = std::async(std::launch::async, [&] {
    return wait_for<CommandRecord>([&](auto done) {
      devices_->request_lock_and_wait("door1", events::LOCK, command->id, operator_cause(),
                                      std::chrono::seconds(60), done);
    });
  });
  ASSERT_TRUE(report("door1", events::LOCKED).is_ok());
  auto outcome = waited.get();
  ASSERT_TRUE(outcome.is_ok());
  EXPECT_EQ(outcome->status, CommandStatus::kConfirmed);

  auto history = devices_->history("door1");
  ASSERT_TRUE(history.is_ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].command.requested_by.name(), "ops");
  EXPECT_EQ((*history)[0].command.status, CommandStatus::kConfirmed);
}

// One call locks and waits: answered when the door confirms, with the open record when the
// wait ends first, and at once with the original command when the key was another action's.
TEST_F(DeviceSystemTest, ALockThatWaitsIsAnsweredWhenItFinishesOrTheWaitEnds) {
  // Longer than any test may run: a call that waits when it should not hangs until CTest's
  // timeout fails it.
  constexpr auto kLongWait = std::chrono::hours(1);
  ASSERT_TRUE(hello("door1").is_ok());
  auto lock_and_wait = [&](LockAction action, const std::string& key,
                           std::chrono::milliseconds wait) {
    return wait_for<CommandRecord>([&](auto done) {
      devices_->request_lock_and_wait("door1", action, key, operator_cause(), wait, done);
    });
  };
  auto confirmed = std::async(std::launch::async,
                              [&] { return lock_and_wait(events::LOCK, "cmd-w", kLongWait); });
  ASSERT_EQ(effects_.wait_commands(1).size(), 1u);
  ASSERT_TRUE(report("door1", events::LOCKED).is_ok());
  auto outcome = confirmed.get();
  ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
  EXPECT_EQ(outcome->id, "cmd-w");
  EXPECT_EQ(outcome->status, CommandStatus::kConfirmed);

  auto open = lock_and_wait(events::UNLOCK, "cmd-u", std::chrono::milliseconds(50));
  ASSERT_TRUE(open.is_ok()) << open.status().to_string();
  EXPECT_EQ(open->status, CommandStatus::kSent) << "the door never answered";
  auto other = lock_and_wait(events::LOCK, "cmd-u", kLongWait);
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(other->action, events::UNLOCK) << "the key's command, for the caller to refuse";
  EXPECT_EQ(effects_.wait_commands(2).size(), 2u) << "a repeated key sends nothing";
}

TEST_F(DeviceSystemTest, RejectionsWriteNothing) {
  EXPECT_EQ(report("ghost", events::LOCKED).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(lock("ghost", events::LOCK).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(hello("bad id!").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(get("ghost").status().code(), Code::kNotFound);
  EXPECT_EQ(journal_->last_position(), 0u);
}

TEST_F(DeviceSystemTest, RepeatedCommandIdIsAnsweredNotRepeated) {
  ASSERT_TRUE(hello("door1").is_ok());
  auto first = lock("door1", events::LOCK, "cmd-1");
  ASSERT_TRUE(first.is_ok());
  auto position = journal_->last_position();
  auto again = lock("door1", events::LOCK, "cmd-1");
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->id, "cmd-1");
  EXPECT_EQ(journal_->last_position(), position);
  EXPECT_EQ(effects_.wait_commands(1).size(), 1u);
}

TEST_F(DeviceSystemTest, OfflineCommandIsDeliveredWhenTheDeviceReturns) {
  ASSERT_TRUE(hello("door1").is_ok());
  ASSERT_TRUE(wait_for<State>([&](auto done) {
                devices_->set_availability("door1", false, done);
              }).is_ok());
  auto command = lock("door1", events::UNLOCK);
  ASSERT_TRUE(command.is_ok());
  EXPECT_EQ(command->status, CommandStatus::kRequested);
  // Restart in between: the pending command survives in the log.
  reopen();
  ASSERT_TRUE(hello("door1").is_ok());
  auto sent = effects_.wait_commands(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "door1 UNLOCK " + command->id);
}

TEST_F(DeviceSystemTest, UnconfirmedCommandTimesOut) {
  DeviceSystemOptions options;
  options.command_timeout = std::chrono::milliseconds(50);
  reopen(options);
  ASSERT_TRUE(hello("door1").is_ok());
  auto command = lock("door1", events::LOCK);
  ASSERT_TRUE(command.is_ok());
  auto outcome = wait_for<CommandRecord>([&](auto done) {
    devices_->request_lock_and_wait("door1", events::LOCK, command->id, operator_cause(),
                                    std::chrono::seconds(60), done);
  });
  ASSERT_TRUE(outcome.is_ok());
  EXPECT_EQ(outcome->status, CommandStatus::kTimedOut);
}

TEST_F(DeviceSystemTest, RestartKeepsState) {
  ASSERT_TRUE(hello("door1").is_ok());
  ASSERT_TRUE(report("door1", events::UNLOCKED).is_ok());
  auto before = get("door1");
  reopen();
  auto after = get("door1");
  ASSERT_TRUE(after.is_ok());
  auto listing = snapshots_->list("device/door1");
  ASSERT_TRUE(listing.is_ok());
  EXPECT_FALSE(listing->valid.empty()) << "a snapshot was written every 3 events";
  EXPECT_EQ(after->reported, events::UNLOCKED);
  EXPECT_EQ(after->version, before->version);
}

TEST_F(DeviceSystemTest, PassivatedDevicesComeBackOnTheNextCommand) {
  DeviceSystemOptions options;
  options.max_live_actors = 3;
  reopen(options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(hello("d" + std::to_string(i)).is_ok());
  EXPECT_LE(devices_->live_actors(), 4u) << "the cap passivates least recently used actors";
  for (int i = 0; i < 10; ++i) {
    auto state = get("d" + std::to_string(i));
    ASSERT_TRUE(state.is_ok());
    EXPECT_TRUE(state->online);
  }
}

TEST_F(DeviceSystemTest, IdleDevicesArePassivated) {
  DeviceSystemOptions options;
  options.idle_timeout = std::chrono::milliseconds(20);
  reopen(options);
  ASSERT_TRUE(hello("door1").is_ok());
  for (int i = 0; i < 3000 && devices_->live_actors() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(devices_->live_actors(), 0u);
  EXPECT_TRUE(lock("door1", events::LOCK).is_ok()) << "a passivated device just works";
}

TEST_F(DeviceSystemTest, StateAtVersionAndPictures) {
  ASSERT_TRUE(hello("door1").is_ok());
  ASSERT_TRUE(report("door1", events::LOCKED).is_ok());
  ASSERT_TRUE(report("door1", events::UNLOCKED).is_ok());
  auto at3 = devices_->state_at("door1", 3, 0);
  ASSERT_TRUE(at3.is_ok());
  EXPECT_EQ(at3->reported, events::LOCKED);
  EXPECT_EQ(devices_->state_at("door1", 99, 0).status().code(), Code::kNotFound);

  auto stranger = wait_for<Stranger>([&](auto done) {
    devices_->report_stranger("door1", Picture{"pic1", "image/png", "\x89PNG..."}, done);
  });
  ASSERT_TRUE(stranger.is_ok());
  EXPECT_EQ(devices_->picture("pic1").value(), "\x89PNG...");
}

// Issue 9 item 4: a door that unlocks with no command asking for it is recorded as such,
// alerted, audited, kept through a restart, and does not move `desired`.
TEST_F(DeviceSystemTest, UnexplainedReportIsRecordedAlertedAndAudited) {
  ASSERT_TRUE(hello("door1").is_ok());
  auto command = lock("door1", events::LOCK);
  ASSERT_TRUE(command.is_ok());
  ASSERT_TRUE(report("door1", events::LOCKED).is_ok());
  auto state = report("door1", events::UNLOCKED);
  ASSERT_TRUE(state.is_ok());
  EXPECT_EQ(state->desired, events::LOCKED);
  EXPECT_EQ(state->reported, events::UNLOCKED);
  ASSERT_TRUE(state->unexpected);
  EXPECT_EQ(state->unexpected->reported, events::UNLOCKED);
  EXPECT_EQ(effects_.wait_unexpected(1), std::vector<std::string>{"door1 UNLOCKED LOCKED"});

  auto log = journal_->read_stream(device_stream("door1"), 1);
  ASSERT_TRUE(log.is_ok());
  ASSERT_TRUE(log->back().has_lock_state_unexpected());
  EXPECT_EQ(log->back().cause().name(), "door1");
  EXPECT_EQ(log->back().lock_state_unexpected().desired_at_the_time(), events::LOCKED);

  auto history = devices_->history("door1");
  ASSERT_TRUE(history.is_ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].kind, AuditKind::kCommand);
  EXPECT_EQ((*history)[1].kind, AuditKind::kUnexpected);
  EXPECT_EQ((*history)[1].unexpected.version, log->back().version());

  reopen();  // through a snapshot (every 3 events)
  auto after = get("door1");
  ASSERT_TRUE(after.is_ok());
  ASSERT_TRUE(after->unexpected);
  EXPECT_EQ(after->desired, events::LOCKED);
  EXPECT_EQ(after->unexpected->version, log->back().version());
}

// Issue 9 item 3: 25 pictures of 2 MiB from one door. Before: all 25 kept (50 MiB). After:
// the quota (20 pictures, 20 MiB: here 10 pictures) is kept, the oldest are gone from
// RocksDB and fetching them is kNotFound; the StrangerSeen events stay. The clock moves 11 s
// per picture so the rate limit (6 a minute) lets them all in.
TEST_F(DeviceSystemTest, TwentyFivePicturesKeepTheQuotaAndDropTheOldest) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000);
  auto options = [now] {
    DeviceSystemOptions o;
    o.clock = [now] { return now->load(); };
    o.pictures = PictureLimits{20, 20u << 20, 30LL * 24 * 3600 * 1000, 6};
    return o;
  };
  reopen(options());
  ASSERT_TRUE(hello("door1").is_ok());
  auto picture = [](int i) {
    char id[8];
    std::snprintf(id, sizeof id, "pic%02d", i);
    return Picture{id, "image/jpeg", std::string(2 << 20, static_cast<char>('a' + i))};
  };
  for (int i = 0; i < 25; ++i) {
    *now += 11000;
    auto stranger = wait_for<Stranger>(
        [&](auto done) { devices_->report_stranger("door1", picture(i), done); });
    ASSERT_TRUE(stranger.is_ok()) << i << ": " << stranger.status().to_string();
  }
  auto state = get("door1");
  ASSERT_TRUE(state.is_ok());
  EXPECT_EQ(state->strangers_seen, 25u) << "the events stay";
  ASSERT_EQ(state->pictures.size(), 10u);
  EXPECT_EQ(state->pictures.front().picture_id, "pic15");
  for (int i = 0; i < 25; ++i) {
    auto bytes = devices_->picture(picture(i).id);
    if (i < 15) {
      ASSERT_FALSE(bytes.is_ok()) << i;
      EXPECT_EQ(bytes.status().code(), Code::kNotFound);
      EXPECT_NE(bytes.status().message().find("dropped"), std::string::npos);
      EXPECT_EQ(journal_->read_blob(DeviceSystem::picture_key(picture(i).id)).status().code(),
                Code::kNotFound);
    } else {
      ASSERT_TRUE(bytes.is_ok()) << i;
      EXPECT_EQ(*bytes, picture(i).bytes);
    }
  }
  // After a restart (recovery through a snapshot) the quota still counts the kept ones.
  reopen(options());
  *now += 11000;
  ASSERT_TRUE(wait_for<Stranger>([&](auto done) {
                devices_->report_stranger("door1", picture(25), done);
              }).is_ok());
  EXPECT_EQ(devices_->picture("pic15").status().code(), Code::kNotFound);
  EXPECT_TRUE(devices_->picture("pic16").is_ok());
  EXPECT_EQ(get("door1")->pictures.size(), 10u);
}

TEST_F(DeviceSystemTest, PicturesOverTheRateLimitAreRefusedAndWriteNothing) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000);
  DeviceSystemOptions options;
  options.clock = [now] { return now->load(); };
  reopen(options);
  ASSERT_TRUE(hello("door1").is_ok());
  auto send = [&](int i) {
    return wait_for<Stranger>([&](auto done) {
      devices_->report_stranger("door1", Picture{"p" + std::to_string(i), "image/png", "x"}, done);
    });
  };
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(send(i).is_ok()) << i;
  const auto before = journal_->last_position();
  auto refused = send(6);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Code::kTooLarge);
  EXPECT_EQ(journal_->last_position(), before) << "a refused picture wrote something";
  EXPECT_EQ(devices_->picture("p6").status().code(), Code::kNotFound);
  *now += 60001;
  EXPECT_TRUE(send(7).is_ok());
}

TEST_F(DeviceSystemTest, PicturesPastTheRetentionAreDroppedBySweep) {
  auto now = std::make_shared<std::atomic<int64_t>>(1'700'000'000'000);
  DeviceSystemOptions options;
  options.clock = [now] { return now->load(); };
  options.picture_sweep_interval = std::chrono::milliseconds(0);  // swept by hand below
  reopen(options);
  ASSERT_TRUE(hello("door1").is_ok());
  ASSERT_TRUE(hello("door2").is_ok());
  ASSERT_TRUE(wait_for<Stranger>([&](auto done) {
                devices_->report_stranger("door1", Picture{"old", "image/png", "o"}, done);
              }).is_ok());
  *now += 30LL * 24 * 3600 * 1000;  // exactly the retention: still kept
  auto swept = wait_for<size_t>([&](auto done) { devices_->prune_pictures(done); });
  ASSERT_TRUE(swept.is_ok());
  EXPECT_EQ(*swept, 2u);
  EXPECT_TRUE(devices_->picture("old").is_ok());
  *now += 1;
  ASSERT_TRUE(wait_for<size_t>([&](auto done) { devices_->prune_pictures(done); }).is_ok());
  EXPECT_EQ(devices_->picture("old").status().code(), Code::kNotFound);
  auto log = journal_->read_stream(device_stream("door1"), 1);
  ASSERT_TRUE(log.is_ok());
  ASSERT_TRUE(log->back().has_stranger_pictures_dropped());
  EXPECT_EQ(log->back().stranger_pictures_dropped().reason(), "retention");
  EXPECT_EQ(log->back().cause().kind(), events::Cause::SYSTEM);
}

TEST_F(DeviceSystemTest, LockAllReachesEveryDevice) {
  for (auto id : {"a", "b", "c"}) ASSERT_TRUE(hello(id).is_ok());
  auto all = wait_for<std::vector<FanOut>>(
      [&](auto done) { devices_->request_lock_all(events::LOCK, operator_cause(), done); });
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 3u);
  for (const auto& one : *all) EXPECT_TRUE(one.command.is_ok());
  EXPECT_EQ(effects_.wait_commands(3).size(), 3u);
}

// Many reports to one device without waiting: the actor keeps several appends in flight,
// yet every caller is answered in order, with its own version, after it is durable.
TEST_F(DeviceSystemTest, PipelinedReportsAreAnsweredInOrderWithConsecutiveVersions) {
  ASSERT_TRUE(hello("door1").is_ok());
  const uint64_t base = get("door1")->version;
  constexpr int kReports = 200;
  std::mutex mutex;
  std::condition_variable all_done;
  std::vector<uint64_t> versions;
  std::vector<std::pair<uint64_t, uint64_t>> reads;  // {expected, seen}
  for (int i = 0; i < kReports; ++i) {
    auto state = i % 2 == 0 ? events::LOCKED : events::UNLOCKED;
    devices_->report_state("door1", state, [&](Result<State> r) {
      std::lock_guard lock(mutex);
      versions.push_back(r.is_ok() ? r->version : 0);
      all_done.notify_all();
    });
    if (i % 50 == 25) {
      // Queued after report i and before i+1: it sees exactly the first i+1 reports.
      devices_->get("door1", [&, expected = base + i + 1](Result<State> r) {
        std::lock_guard lock(mutex);
        reads.emplace_back(expected, r.is_ok() ? r->version : 0);
      });
    }
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(60),
                                [&] { return versions.size() == kReports; }));
  for (int i = 0; i < kReports; ++i) EXPECT_EQ(versions[i], base + i + 1) << "report " << i;
  ASSERT_EQ(reads.size(), 4u);
  for (auto [expected, seen] : reads) EXPECT_EQ(seen, expected);
  lock.unlock();
  auto durable = journal_->read_stream("device/door1", 1, 100000);
  ASSERT_TRUE(durable.is_ok());
  ASSERT_EQ(durable->size(), base + kReports);
  for (size_t i = 0; i < durable->size(); ++i) EXPECT_EQ((*durable)[i].version(), i + 1);
  EXPECT_EQ(get("door1")->reported, events::UNLOCKED);
}

TEST_F(DeviceSystemTest, CorruptStreamIsRefusedNotServedWrong) {
  ASSERT_TRUE(hello("door1").is_ok());                     // versions 1-2
  ASSERT_TRUE(report("door1", events::LOCKED).is_ok());    // 3 (snapshot every 3)
  ASSERT_TRUE(report("door1", events::UNLOCKED).is_ok());  // 4: the tail after the snapshot
  ASSERT_TRUE(hello("door2").is_ok());
  close();
  {
    // Garbage where device/door1's last event was, behind the journal's back.
    auto database = Database::open(dir_.string(), OpenMode::kReadWrite);
    ASSERT_TRUE(database.is_ok());
    ASSERT_TRUE((*database)
                    ->db()
                    ->Put(rocksdb::WriteOptions(), (*database)->events(),
                          keys::versioned("device/door1", 4), "\xff\xfe not protobuf")
                    .ok());
  }
  open();
  auto state = get("door1");
  ASSERT_FALSE(state.is_ok()) << "served state that cannot be rebuilt";
  EXPECT_EQ(state.status().code(), Code::kDataLoss);
  EXPECT_NE(state.status().message().find("device/door1 version 4"), std::string::npos)
      << state.status().message();
  EXPECT_EQ(lock("door1", events::LOCK).status().code(), Code::kDataLoss)
      << "no command is decided on state that cannot be rebuilt";
  EXPECT_TRUE(get("door2").is_ok()) << "other devices are unaffected";
}

}  // namespace
}  // namespace gh::device
