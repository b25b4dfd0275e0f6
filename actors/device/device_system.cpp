#include "actors/device/device_system.h"

#include <random>

#include "actors/answer_once.h"
#include "actors/device/device_audit.h"
#include "actors/directory.h"
#include "events/cause.h"
#include "events/clock.h"
#include "events/stream_name.h"

namespace gh::device {
namespace {

// Narrows the State answer of a command to the part the caller asked about.
template <class T, class Pick>
Callback<State> narrow(Callback<T> done, Pick pick) {
  return [done = std::move(done), pick = std::move(pick)](Result<State> result) {
    if (!result) {
      done(result.status());
      return;
    }
    done(pick(*result));
  };
}

}  // namespace

std::string random_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  uint64_t parts[2] = {engine(), engine()};
  for (int i = 0; i < 32; ++i) out[i] = kHex[(parts[i / 16] >> ((i % 16) * 4)) & 0xf];
  return out;
}

namespace {

// Hands each status to `next` with its presence judged by `system` now.
class PresenceEffects final : public DeviceEffects {
 public:
  PresenceEffects(DeviceEffects* next, const DeviceSystem* system, std::function<int64_t()> clock)
      : next_(next), system_(system), clock_(std::move(clock)) {}
  void send_command(const std::string& device_id, LockAction action,
                    const std::string& command_id) override {
    next_->send_command(device_id, action, command_id);
  }
  void publish_status(const State& state) override {
    State stamped = state;
    stamped.presence = presence(state, system_->presence_rule(), clock_());
    next_->publish_status(stamped);
  }
  void stranger_alert(const std::string& device_id, const Stranger& stranger) override {
    next_->stranger_alert(device_id, stranger);
  }
  void unexpected_report(const std::string& device_id, const UnexpectedReport& report) override {
    next_->unexpected_report(device_id, report);
  }
  void drift_changed(const std::string& device_id, const DriftChange& change) override {
    next_->drift_changed(device_id, change);
  }
  void device_removed(const State& state) override { next_->device_removed(state); }

 private:
  DeviceEffects* next_;
  const DeviceSystem* system_;
  std::function<int64_t()> clock_;
};

}  // namespace

DeviceSystem::DeviceSystem(caf::actor_system& system, Journal& journal, DeviceStorage storage,
                           DeviceEffects* effects, DeviceSystemOptions options)
    : system_(system), journal_(journal), options_(std::move(options)) {
  if (!options_.clock) options_.clock = unix_now_ms;
  pool_ = std::make_unique<BlockingPool>(options_.io_threads, options_.io_queue);
  context_ = std::make_shared<DeviceContext>();
  context_->journal = &journal_;
  epoch_ms_ = options_.clock();
  if (effects != nullptr)
    stamped_effects_ = std::make_unique<PresenceEffects>(effects, this, options_.clock);
  context_->effects = stamped_effects_.get();
  context_->pool = pool_.get();
  context_->load = std::move(storage.load);
  context_->save_snapshot = std::move(storage.save_snapshot);
  context_->snapshot_every = options_.snapshot_every;
  context_->clock = options_.clock;
  live_ = std::make_shared<std::atomic<size_t>>(0);
  DirectoryOptions directory;
  directory.max_live = options_.max_live_actors;
  directory.idle_timeout = options_.idle_timeout;
  directory.live_count = live_;
  auto context = context_;
  directory.spawn = [context](caf::local_actor* spawner, const std::string& id,
                              const caf::actor& dir) {
    return spawn_device_actor(spawner, id, dir, context);
  };
  directory.direct = routes_;
  directory_ = spawn_directory(system_, std::move(directory));
  if (options_.picture_sweep_interval.count() > 0) sweeper_ = std::thread([this] { sweep_loop(); });
}

DeviceSystem::~DeviceSystem() { shutdown(); }

void DeviceSystem::sweep_loop() {
  std::unique_lock lock(sweep_mutex_);
  while (!sweep_wake_.wait_for(lock, options_.picture_sweep_interval,
                               [this] { return stopped_.load(); })) {
    lock.unlock();
    // Fire and forget: the sweep's outcome is in the log (StrangerPicturesDropped).
    prune_pictures([](Result<size_t>) {});
    lock.lock();
  }
}

void DeviceSystem::shutdown() {
  {
    std::lock_guard lock(sweep_mutex_);
    if (stopped_.exchange(true)) return;
  }
  sweep_wake_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  caf::scoped_actor self{system_};
  self->request(directory_, caf::infinite, shutdown_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  // The pool drains queued recoveries and snapshot writes; their results go to dead actors.
  pool_.reset();
}

void DeviceSystem::begin_presence_epoch() { epoch_ms_ = options_.clock(); }

PresenceRule DeviceSystem::presence_rule() const {
  return {epoch_ms_.load(), options_.offline_after.count()};
}

Heard DeviceSystem::heard() const {
  // Half the silence allowed: a door that keeps talking is re-recorded before it would
  // be judged offline, at most twice per offline_after.
  return {epoch_ms_.load(), options_.offline_after.count() / 2};
}

Callback<State> DeviceSystem::stamped(Callback<State> done) const {
  return [this, done = std::move(done)](Result<State> state) {
    if (state) state->presence = presence(*state, presence_rule(), options_.clock());
    done(std::move(state));
  };
}

void DeviceSystem::call(const std::string& id, DeviceCall call) {
  if (call.done) call.done = stamped(std::move(call.done));
  if (auto status = validate_id(id, "device id"); !status.is_ok()) {
    call.done(status);
    return;
  }
  if (stopped_) {
    call.done(unavailable("gatehouse is shutting down"));
    return;
  }
  if (options_.serves) {
    if (auto status = options_.serves("device/" + id); !status.is_ok()) {
      call.done(status);
      return;
    }
  }
  call.done = answer_once(std::move(call.done));
  routes_->send(directory_, id, caf::make_message(std::move(call)));
}

void DeviceSystem::hello(const std::string& id, DeviceInfo info, Callback<State> done) {
  DeviceCall c;
  c.command = Hello{std::move(info), options_.auto_register, heard()};
  c.cause = events::device_cause(id);
  c.done = std::move(done);
  call(id, std::move(c));
}

void DeviceSystem::set_availability(const std::string& id, bool online, Callback<State> done) {
  DeviceCall c;
  c.command = SetAvailability{online, heard()};
  c.cause = events::device_cause(id);
  c.done = std::move(done);
  call(id, std::move(c));
}

void DeviceSystem::report_state(const std::string& id, LockState state, Callback<State> done) {
  DeviceCall c;
  c.command = ReportState{state, heard()};
  c.cause = events::device_cause(id);
  c.done = std::move(done);
  call(id, std::move(c));
}

void DeviceSystem::report_stranger(const std::string& id, Picture picture,
                                   Callback<Stranger> done) {
  DeviceCall c;
  RecordStranger record{picture.id, picture.content_type, picture.bytes.size(), random_id(),
                        options_.pictures};
  c.command = record;
  c.cause = events::device_cause(id);
  c.blobs.push_back({picture_key(picture.id), std::move(picture.bytes)});
  c.done = narrow<Stranger>(std::move(done), [alert = record.alert_id](const State& s) {
    return s.last_stranger && s.last_stranger->alert_id == alert
               ? Result<Stranger>(*s.last_stranger)
               : Result<Stranger>(internal_error("stranger not recorded"));
  });
  call(id, std::move(c));
}

void DeviceSystem::provision(const std::string& id, DeviceInfo info, events::Cause cause,
                             Callback<State> done) {
  if (options_.refuse_dotted_ids && id.find('.') != std::string::npos) {
    stamped(std::move(done))(invalid_argument(
        "device id '" + id +
        "' contains '.', which NATS' MQTT refuses in topics (cluster.broker=nats): choose an "
        "id of letters, digits, '_' and '-'"));
    return;
  }
  DeviceCall c;
  c.command = Provision{std::move(info)};
  c.cause = std::move(cause);
  c.done = std::move(done);
  call(id, std::move(c));
}

void DeviceSystem::remove(const std::string& id, events::Cause cause, Callback<State> done) {
  DeviceCall c;
  c.command = RemoveDevice{};
  c.cause = std::move(cause);
  c.done = std::move(done);
  call(id, std::move(c));
}

void DeviceSystem::request_lock(const std::string& id, LockAction action, std::string command_id,
                                events::Cause cause, Callback<CommandRecord> done) {
  request_lock_and_wait(id, action, std::move(command_id), std::move(cause),
                        std::chrono::milliseconds(0), std::move(done));
}

void DeviceSystem::request_lock_and_wait(const std::string& id, LockAction action,
                                         std::string command_id, events::Cause cause,
                                         std::chrono::milliseconds wait,
                                         Callback<CommandRecord> done) {
  if (command_id.empty()) command_id = random_id();
  if (auto status = validate_id(command_id, "command id"); !status.is_ok()) {
    done(status);
    return;
  }
  DeviceCall c;
  c.command = RequestLock{action, command_id, options_.command_timeout.count()};
  c.cause = std::move(cause);
  c.command_id = command_id;
  c.wait = wait;
  // The state keeps only the last State::kRecent commands: an older key is answered from
  // the log (the journal refused the repeat as a duplicate), on the blocking pool since it
  // reads RocksDB and this callback runs on the device's actor.
  c.done = [this, id, command_id, done = std::move(done)](Result<State> result) mutable {
    if (!result) {
      done(result.status());
      return;
    }
    if (const auto* record = result->find_command(command_id)) {
      done(*record);
      return;
    }
    auto shared = std::make_shared<Callback<CommandRecord>>(std::move(done));
    BlockingPool* pool = pool_.get();
    if (pool == nullptr || !pool->submit([this, id, command_id, shared] {
          (*shared)(command_from_log(id, command_id));
        })) {
      (*shared)(unavailable("device " + id + " is busy; retry"));
    }
  };
  call(id, std::move(c));
}

Result<CommandRecord> DeviceSystem::command_from_log(const std::string& id,
                                                     const std::string& command_id) const {
  const std::string stream = device_stream(id);
  auto original = journal_.find_command(stream, command_id);
  if (!original) {
    if (original.status().code() != Code::kNotFound) return original.status();
    return conflict("command id " + command_id + " was used before for another request");
  }
  // From the request on, until the command has finished: usually a handful of events.
  constexpr size_t kPage = 64;
  std::vector<Envelope> events;
  for (uint64_t from = original->first_version;;) {
    auto page = journal_.read_stream(stream, from, kPage);
    if (!page) return page.status();
    const size_t got = page->size();
    for (auto& e : *page) events.push_back(std::move(e));
    auto record = command_record(events, command_id);
    if ((record && record->finished()) || got < kPage) {
      if (record) return *record;
      return conflict("command id " + command_id + " was used before for another request");
    }
    from += got;
  }
}

void DeviceSystem::get(const std::string& id, Callback<State> done) {
  DeviceCall c;
  c.done = std::move(done);
  call(id, std::move(c));
}

void DeviceSystem::request_lock_all(LockAction action, events::Cause cause,
                                    Callback<std::vector<FanOut>> done) {
  auto listed = listed_devices(journal_, "", SIZE_MAX);
  if (!listed) {
    done(listed.status());
    return;
  }
  std::vector<std::string> ids = std::move(*listed);
  struct Gather {
    std::mutex mutex;
    std::vector<FanOut> results;
    size_t remaining = 0;
    Callback<std::vector<FanOut>> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->remaining = ids.size();
  gather->done = std::move(done);
  if (ids.empty()) {
    gather->done(std::vector<FanOut>{});
    return;
  }
  for (const auto& id : ids) {
    request_lock(id, action, "", cause, [gather, id](Result<CommandRecord> result) {
      std::unique_lock lock(gather->mutex);
      gather->results.push_back({id, std::move(result)});
      if (--gather->remaining > 0) return;
      auto results = std::move(gather->results);
      lock.unlock();
      std::sort(results.begin(), results.end(),
                [](const FanOut& a, const FanOut& b) { return a.device_id < b.device_id; });
      gather->done(std::move(results));
    });
  }
}

Result<std::vector<std::string>> DeviceSystem::list(const std::string& after, size_t limit) {
  return listed_devices(journal_, after, limit);
}

Result<std::vector<AuditEntry>> DeviceSystem::history(const std::string& id) {
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  auto events = journal_.read_stream(device_stream(id), 1);
  if (!events) return events.status();
  if (events->empty()) return not_found("device " + id + " is not registered");
  return audit(*events);
}

void DeviceSystem::review_alert(const std::string& id, const std::string& alert_id,
                                events::Cause cause, Callback<State> done) {
  if (auto status = validate_id(alert_id, "alert id"); !status.is_ok()) {
    done(status);
    return;
  }
  DeviceCall c;
  c.command = ReviewAlert{alert_id};
  c.cause = std::move(cause);
  c.done = std::move(done);
  call(id, std::move(c));
}

Result<std::vector<Envelope>> DeviceSystem::events(const std::string& id) {
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  return journal_.read_stream(device_stream(id), 1);
}

Result<State> DeviceSystem::state_at(const std::string& id, uint64_t version, int64_t at_ms) {
  GH_RETURN_IF_ERROR(validate_id(id, "device id"));
  auto events = journal_.read_stream(device_stream(id), 1);
  if (!events) return events.status();
  if (events->empty()) return not_found("device " + id + " is not registered");
  if (version > events->size())
    return not_found("device " + id + " has no version " + std::to_string(version) +
                     " (latest is " + std::to_string(events->size()) + ")");
  State state;
  state.id = id;
  for (const auto& e : *events) {
    if (version != 0 && e.version() > version) break;
    if (at_ms != 0 && e.time_unix_ms() > at_ms) break;
    apply(state, e);
  }
  if (!state.registered) return not_found("device " + id + " was not registered at that moment");
  return state;
}

Result<std::string> DeviceSystem::picture(const std::string& picture_id) {
  GH_RETURN_IF_ERROR(validate_id(picture_id, "picture id"));
  auto bytes = journal_.read_blob(picture_key(picture_id));
  if (!bytes && bytes.status().code() == Code::kNotFound)
    return not_found("picture " + picture_id +
                     " is not stored: unknown, or dropped (its door's picture quota or the "
                     "picture retention)");
  return bytes;
}

void DeviceSystem::prune_pictures(Callback<size_t> done) {
  auto listed = listed_devices(journal_, "", SIZE_MAX);
  if (!listed) {
    done(listed.status());
    return;
  }
  std::vector<std::string> ids = std::move(*listed);
  struct Gather {
    std::atomic<size_t> remaining{0};
    std::atomic<size_t> ok{0};
    Callback<size_t> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->remaining = ids.size();
  gather->done = std::move(done);
  if (ids.empty()) {
    gather->done(size_t{0});
    return;
  }
  for (const auto& id : ids) {
    DeviceCall c;
    c.command = PrunePictures{options_.pictures};
    c.cause = events::system_cause();
    c.done = [gather](Result<State> result) {
      if (result) gather->ok.fetch_add(1);
      if (gather->remaining.fetch_sub(1) == 1) gather->done(gather->ok.load());
    };
    call(id, std::move(c));
  }
}

void DeviceSystem::forget(const std::string& id) {
  if (!stopped_) routes_->evict(directory_, id);
}

void DeviceSystem::forget_shard(uint32_t shard) {
  if (!stopped_) caf::anon_send(directory_, evict_atom::value, shard);
}

}  // namespace gh::device
