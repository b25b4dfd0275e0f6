// DeviceSystem: the implementation of DeviceService on CAF actors. It owns the device
// directory, the blocking pool for recovery and snapshot writes, and the shared context.
// Construct after the journal, destroy (or shutdown()) before it.
// Thread-safety: all DeviceService methods are safe from any thread.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "actors/blocking_pool.h"
#include "actors/device/device_actor.h"
#include "actors/device/device_service.h"
#include "actors/device/device_storage.h"
#include "actors/direct_routes.h"
#include "events/journal.h"

namespace gh::device {

struct DeviceSystemOptions {
  bool auto_register = true;  // register unknown devices on their first hello
  std::chrono::milliseconds command_timeout{10000};  // sent -> confirmed, else timed out
  uint64_t snapshot_every = 100;                     // events per stream between snapshots
  size_t max_live_actors = 100000;
  std::chrono::milliseconds idle_timeout{60000};  // passivate a device idle this long
  size_t io_threads = 2;                          // blocking pool for recovery reads
  size_t io_queue = 100000;
  PictureLimits pictures;  // stranger pictures kept and accepted per door
  // How often every device drops pictures past the retention (prune_pictures()); 0: never.
  // Pictures are also pruned whenever their door sends a new one.
  std::chrono::milliseconds picture_sweep_interval{3600 * 1000};
  std::function<int64_t()> clock;  // unix ms; default: the system clock
  // A door silent this long is shown offline (PresenceRule); 0: only its own word (or its
  // last will) makes it offline.
  std::chrono::milliseconds offline_after{0};
  // Cluster mode: ok when this node serves the stream ("device/<id>") now, else the answer
  // every call for it gets (kLeaseLost naming the owner) before it reaches an actor. Empty:
  // every door is served here (the embedded store).
  std::function<Status(const std::string& stream)> serves;
  // Cluster mode on NATS: a door whose id holds a '.' could never use its topics (NATS' MQTT
  // closes the connection of a client naming one), so registering it is refused.
  bool refuse_dotted_ids = false;
};

class DeviceSystem final : public DeviceService {
 public:
  DeviceSystem(caf::actor_system& system, Journal& journal, DeviceStorage storage,
               DeviceEffects* effects, DeviceSystemOptions options);
  ~DeviceSystem() override;

  // Lets every device actor finish what it has queued, then stops them; idempotent.
  void shutdown();
  size_t live_actors() const { return live_->load(); }
  uint64_t commands() const { return context_->commands.load(); }
  uint64_t rejections() const { return context_->rejections.load(); }

  void hello(const std::string& id, DeviceInfo info, Callback<State> done) override;
  void set_availability(const std::string& id, bool online, Callback<State> done) override;
  void report_state(const std::string& id, LockState state, Callback<State> done) override;
  void report_stranger(const std::string& id, Picture picture, Callback<Stranger> done) override;
  void provision(const std::string& id, DeviceInfo info, events::Cause cause,
                 Callback<State> done) override;
  void request_lock(const std::string& id, LockAction action, std::string command_id,
                    events::Cause cause, Callback<CommandRecord> done) override;
  void request_lock_and_wait(const std::string& id, LockAction action, std::string command_id,
                             events::Cause cause, std::chrono::milliseconds wait,
                             Callback<CommandRecord> done) override;
  void get(const std::string& id, Callback<State> done) override;
  void request_lock_all(LockAction action, events::Cause cause,
                        Callback<std::vector<FanOut>> done) override;
  Result<std::vector<std::string>> list(const std::string& after, size_t limit) override;
  Result<std::vector<AuditEntry>> history(const std::string& id) override;
  void remove(const std::string& id, events::Cause cause, Callback<State> done) override;
  void review_alert(const std::string& id, const std::string& alert_id, events::Cause cause,
                    Callback<State> done) override;
  Result<std::vector<Envelope>> events(const std::string& id) override;
  Result<State> state_at(const std::string& id, uint64_t version, int64_t at_ms) override;
  Result<std::string> picture(const std::string& picture_id) override;

  // Asks every registered device to drop the pictures past the retention or over its quota
  // (PrunePictures); `done` gets the number of devices that answered without error. Spawns
  // each device's actor (they passivate again when idle). The sweep thread calls it every
  // picture_sweep_interval.
  void prune_pictures(Callback<size_t> done);

  // Starts a new presence epoch (now): every door is `unknown` until heard from again. Called
  // when gatehouse's broker connection is (re)established; construction starts the first.
  void begin_presence_epoch();
  // The rule states are judged by now (each state handed out carries its presence).
  PresenceRule presence_rule() const;

  // Stops device `id`'s actor if it is live: the next call recovers it from the log. For
  // events written outside the actor (an operator's `device add`). Never blocks.
  void forget(const std::string& id);
  // forget() for every live door in `shard` (events/shard.h): cluster mode's hand-off.
  void forget_shard(uint32_t shard);

  // The blob key a picture is stored under.
  static std::string picture_key(const std::string& picture_id) {
    return device::picture_key(picture_id);
  }

 private:
  void call(const std::string& id, DeviceCall call);
  void sweep_loop();
  // The record of an old command read from the log (blocks: the pool only). kConflict when
  // `command_id` was used on the device for something other than a lock command.
  Result<CommandRecord> command_from_log(const std::string& id,
                                         const std::string& command_id) const;
  // `command`'s Heard, from the current epoch and offline_after.
  Heard heard() const;
  // `done`, given each state with its presence stamped.
  Callback<State> stamped(Callback<State> done) const;

  caf::actor_system& system_;
  Journal& journal_;
  DeviceSystemOptions options_;
  std::atomic<int64_t> epoch_ms_{0};
  // The effects the actors call: `effects` of the constructor, with presence stamped.
  std::unique_ptr<DeviceEffects> stamped_effects_;
  std::unique_ptr<BlockingPool> pool_;
  std::shared_ptr<DeviceContext> context_;
  std::shared_ptr<std::atomic<size_t>> live_;
  // Calls reach live device actors without the directory's hop.
  std::shared_ptr<DirectRoutes> routes_ = std::make_shared<DirectRoutes>();
  caf::actor directory_;
  std::atomic<bool> stopped_{false};
  std::mutex sweep_mutex_;
  std::condition_variable sweep_wake_;
  std::thread sweeper_;
};

// A random 128-bit id in hex, for command and alert ids.
std::string random_id();

}  // namespace gh::device
