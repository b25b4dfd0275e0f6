// Home Assistant on gatehouse's broker (docs/protocol.md "Home Assistant"): MQTT discovery,
// retained, for every door (its lock and its last stranger picture); the door's lock state,
// availability and picture URL on topics Home Assistant reads with its defaults; and the
// doors' set topic, whose LOCK and UNLOCK go through the device actor like an HTTP lock,
// recorded with the API token that sent them as the cause.
//
// Discovery is a sync of "the doors that exist" against "what was published": sync_discovery()
// publishes every registered door and retracts (empty retained payloads) every door it
// published, or finds retained on the broker, that is no longer registered. Each status a door
// publishes updates its entities as they change; Home Assistant's birth message ("online" on
// D/status) and every (re)connect of gatehouse's broker connection run a full sync.
//
// Who sent a set command is told by the broker (broker_plugin/access_rules.h "Attribution"):
// gatehouse subscribes only to P/by/token/{name}/devices/{id}/set, which no client may publish
// to. Anything else there (another kind of identity, a bad payload, a retained message, an
// unknown door) writes nothing and is answered on P/devices/{id}/ha/error.
//
// Thread-safety: every method may be called from any thread; on_message() runs on paho's
// callback thread and blocks only to list the doors for a sync; the effects run on actor
// threads and only publish. The service must outlive this object's use.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/device/device_service.h"
#include "adapters/mqtt/ha_discovery.h"
#include "adapters/mqtt/publisher.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

class MqttConnection;

struct HomeAssistantOptions {
  HaTopicNames names;
  size_t max_payload_bytes = 64;  // a set command is LOCK or UNLOCK
  int qos = 1;
  // The signed URL of a picture (the HTTP adapter's); unset or empty: no picture URL.
  std::function<std::string(const std::string& picture_id)> picture_url;
};

// Monotonic; read with relaxed loads.
struct HomeAssistantCounters {
  std::atomic<uint64_t> syncs{0};              // full syncs started
  std::atomic<uint64_t> configs_published{0};  // discovery configurations (lock + image)
  std::atomic<uint64_t> doors_retracted{0};    // doors whose entities were removed
  std::atomic<uint64_t> commands_accepted{0};  // set commands the door's actor recorded
  std::atomic<uint64_t> commands_refused{0};   // set commands that wrote nothing
};

class HomeAssistant final : public device::DeviceEffects {
 public:
  // `publisher` (usually the MqttConnection) must outlive this object.
  HomeAssistant(Publisher& publisher, HomeAssistantOptions options);

  // Where doors are read and commanded; until set, commands are refused and syncs do nothing.
  void set_service(device::DeviceService* service) { service_.store(service); }

  // The filters to subscribe to: the attributed set commands, D/status and D/+/+/config.
  std::vector<std::string> subscriptions() const;
  // Subscribes on every connect (call before the connection starts).
  Status install(MqttConnection& connection);

  // Handles one message from the broker. Never blocks, never throws.
  void on_message(const std::string& topic, const std::string& payload, bool retained);

  // The one sync of discovery: publishes the entities of every registered door, and retracts
  // those of every door published or seen retained that is no longer registered (a door
  // removed). Anything that adds or removes doors behind the actors' backs calls this (a
  // door removal included). Reads the list of doors from the log on the calling thread (as
  // the connect-time GET to every door does); the doors' states are read asynchronously.
  void sync_discovery();

  // ---- DeviceEffects ----
  void send_command(const std::string&, device::LockAction, const std::string&) override {}
  // Publishes the door's entities when they changed, and its state and availability.
  void publish_status(const device::State& state) override;
  // The picture's signed URL on P/devices/{id}/ha/picture, retained.
  void stranger_alert(const std::string& device_id, const device::Stranger& stranger) override;
  // A removed door's entities are retracted (empty retained configs and topics).
  void device_removed(const device::State& state) override { retract(state.id); }

  const HomeAssistantCounters& counters() const { return counters_; }
  std::vector<std::pair<std::string, double>> metrics() const;

 private:
  // What was last published of one door.
  struct Published {
    size_t config_hash = 0;  // 0: nothing known of its configuration (seen retained only)
    uint64_t version = 0;    // state version of the last state published
    std::string picture_id;
  };

  // Publishes `state`'s entities (all of them when `force`), unless a newer state was
  // published already.
  void publish_door(const device::State& state, bool force);
  void publish_picture(const std::string& id, const std::string& picture_id);
  // Reads door `id`: published when registered, retracted when not.
  void check_door(const std::string& id, bool force);
  // Clears every retained topic of door `id` and forgets it.
  void retract(const std::string& id);
  void on_command(const std::string& topic, const std::string& payload, bool retained);
  void refuse(const std::string& device_id, const Status& status);

  Publisher& publisher_;
  const HomeAssistantOptions options_;
  std::atomic<device::DeviceService*> service_{nullptr};
  std::mutex mu_;  // published_, and the order of each door's publications
  std::unordered_map<std::string, Published> published_;
  HomeAssistantCounters counters_;
};

}  // namespace gh::mqtt_adapter
