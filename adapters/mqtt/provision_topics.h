// Door provisioning over MQTT with a provisioning key (docs/protocol.md "Provisioning a door
// over MQTT"). A new door connects with username = its intended device id and password =
// a provisioning key "pk.<key>.<secret>" (the broker checks the password and lets it use only
// the two topics below), then publishes
//
//   PREFIX/provision/<key>/<id>         optional hello JSON {"type","name","firmware"}
//
// and is answered, QoS 1, not retained, on PREFIX/provision/<key>/<id>/reply with
// {"ok":true,"username":"<id>","secret":"<32 hex>"} (the secret is shown once: only its
// SHA-256 is stored) or {"ok":false,"error":{code,message},"reason":"..."}.
//
// Refused, writing nothing: a retained message; an invalid id or key name; a key that is
// not active (unknown or revoked: the broker already checked the password, this is defence
// in depth); a device that already has a credential or is already registered
// (already_exists: a provisioning key never takes over an existing door); a bad payload.
// Otherwise the device is provisioned through the DeviceService (cause PROVISIONING_KEY
// <key>, channel "mqtt") and then issued its credential (CredentialRegistry, new only). If
// the credential cannot be issued after the device was registered, the answer is the error
// and an operator issues one (POST /devices/{id}/credential).
//
// Threads: on_message() runs on paho's callback thread and never blocks: it only reads the
// registry, then calls the service asynchronously; the credential is issued on the
// registry's worker (issue_door_async). Replies are published from those threads. The
// publisher, the registry and the service must outlive every callback: stop the device
// service and destroy the registry (which answers its queue) before this object.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/device/device_service.h"
#include "actors/system/credential_registry.h"
#include "adapters/codec/labelled_counter.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/publisher.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

struct ProvisionTopicsOptions {
  std::string prefix = "gatehouse";
  size_t max_payload_bytes = 64 * 1024;
  size_t max_info_length = 128;  // each of type, name, firmware (as hello)
  int qos = 1;
};

// Why a provisioning request was refused; each is counted (and named in the reply's
// "reason"), except kMalformedTopic, which has no reply topic and is only counted.
enum class ProvisionRefusal : size_t {
  kMalformedTopic,    // not PREFIX/provision/<key>/<id>
  kRetained,          // published retained
  kInvalidId,         // <id> fails is_valid_id
  kInvalidKey,        // <key> fails is_valid_id
  kUnknownKey,        // no active provisioning key of that name
  kAlreadyExists,     // the device has a credential or is registered
  kTooLarge,          // payload over max_payload_bytes
  kBadJson,           // not a JSON object
  kBadValue,          // a field not a string, or too long
  kUnavailable,       // no device service yet, or the registry's queue is full
  kServiceRejected,   // the device service refused otherwise
  kCredentialFailed,  // registered, but the credential could not be issued
  kCount
};

std::string_view provision_refusal_name(ProvisionRefusal reason);  // "retained", ...

struct ProvisionTopicsCounters {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> provisioned{0};  // answered with a credential
  codec::LabelledCounter<ProvisionRefusal> refused;

  uint64_t refused_of(ProvisionRefusal r) const { return refused.get(r); }
};

class ProvisionTopics {
 public:
  ProvisionTopics(Publisher& publisher, credentials::CredentialRegistry& registry,
                  ProvisionTopicsOptions options);

  // Where devices are provisioned. Until it is set (and after it is reset to null) requests
  // are refused with kUnavailable.
  void set_service(device::DeviceService* service) { service_.store(service); }

  // PREFIX/provision/+/+
  std::vector<std::string> subscriptions() const;
  // Subscribes on_message() to subscriptions() at options.qos; before connection.start().
  Status install(MqttConnection& connection);

  // Handles one message from the broker. Never blocks, never throws.
  void on_message(const std::string& topic, const std::string& payload, bool retained);

  // PREFIX/provision/<key>/<id>/reply
  std::string reply_topic(const std::string& key, const std::string& id) const;

  const ProvisionTopicsCounters& counters() const { return counters_; }
  // gatehouse_mqtt_provision_received_total, ..._provisioned_total and
  // ..._refused_total{reason="..."} for /metrics.
  std::vector<std::pair<std::string, double>> metrics() const;

 private:
  // Provisions `id` through the service, then issues its credential; replies either way.
  void provision(const std::string& key, const std::string& id, device::DeviceInfo info);
  void refuse(const std::string& reply_to, ProvisionRefusal reason, const Status& status);

  Publisher& publisher_;
  credentials::CredentialRegistry& registry_;
  const ProvisionTopicsOptions options_;
  std::atomic<device::DeviceService*> service_{nullptr};
  ProvisionTopicsCounters counters_;
};

}  // namespace gh::mqtt_adapter
