#include "adapters/mqtt/provision_topics.h"

#include "adapters/codec/json_reply.h"
#include "adapters/mqtt/device_info_payload.h"
#include "adapters/mqtt/topic_filter.h"
#include "events/stream_name.h"

namespace gh::mqtt_adapter {

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(ProvisionRefusal::kCount)> kNames = {
    "malformed_topic", "retained",       "invalid_id",       "invalid_key",
    "unknown_key",     "already_exists", "too_large",        "bad_json",
    "bad_value",       "unavailable",    "service_rejected", "credential_failed"};

ProvisionRefusal refusal_of(InfoProblem problem) {
  switch (problem) {
    case InfoProblem::kTooLarge:
      return ProvisionRefusal::kTooLarge;
    case InfoProblem::kBadJson:
      return ProvisionRefusal::kBadJson;
    default:
      return ProvisionRefusal::kBadValue;
  }
}

// Why the service or the registry refused, as counted.
ProvisionRefusal refusal_of(const Status& status, ProvisionRefusal otherwise) {
  if (status.code() == Code::kAlreadyExists) return ProvisionRefusal::kAlreadyExists;
  if (status.code() == Code::kUnavailable) return ProvisionRefusal::kUnavailable;
  return otherwise;
}

}  // namespace

std::string_view provision_refusal_name(ProvisionRefusal reason) {
  auto i = static_cast<size_t>(reason);
  return i < kNames.size() ? kNames[i] : "unknown";
}

ProvisionTopics::ProvisionTopics(Publisher& publisher, credentials::CredentialRegistry& registry,
                                 ProvisionTopicsOptions options)
    : publisher_(publisher), registry_(registry), options_(std::move(options)) {}

std::vector<std::string> ProvisionTopics::subscriptions() const {
  return {options_.prefix + "/provision/+/+"};
}

Status ProvisionTopics::install(MqttConnection& connection) {
  return connection.add_handler(subscriptions(), options_.qos,
                                [this](const std::string& topic, const std::string& payload,
                                       bool retained) { on_message(topic, payload, retained); });
}

std::string ProvisionTopics::reply_topic(const std::string& key, const std::string& id) const {
  return options_.prefix + "/provision/" + key + "/" + id + "/reply";
}

void ProvisionTopics::refuse(const std::string& reply_to, ProvisionRefusal reason,
                             const Status& status) {
  counters_.refused.count(reason);
  auto reply = codec::error_reply(status);
  reply["reason"] = std::string(provision_refusal_name(reason));
  publisher_.publish(reply_to, codec::to_wire(reply), options_.qos, false);
}

void ProvisionTopics::on_message(const std::string& topic, const std::string& payload,
                                 bool retained) {
  counters_.received.fetch_add(1);
  // PREFIX/provision/<key>/<id>: the prefix may itself contain '/', so match it as a string.
  const std::string head = options_.prefix + "/provision/";
  auto levels = std::string_view(topic).starts_with(head)
                    ? topic_levels(std::string_view(topic).substr(head.size()))
                    : std::vector<std::string_view>{};
  if (levels.size() != 2 || levels[0].empty() || levels[1].empty()) {
    // Our own replies (one level more) and anything else: no topic to answer on.
    counters_.refused.count(ProvisionRefusal::kMalformedTopic);
    return;
  }
  const std::string key(levels[0]), id(levels[1]);
  // A published topic name holds no wildcard, so this reply topic is always valid.
  const std::string reply_to = reply_topic(key, id);
  if (retained) {
    // The broker would hand it to us again after every reconnect.
    return refuse(reply_to, ProvisionRefusal::kRetained,
                  invalid_argument("provisioning requests must not be retained"));
  }
  if (auto valid = validate_id(id, "device id"); !valid.is_ok())
    return refuse(reply_to, ProvisionRefusal::kInvalidId, valid);
  if (auto valid = validate_id(key, "provisioning key name"); !valid.is_ok())
    return refuse(reply_to, ProvisionRefusal::kInvalidKey, valid);
  if (!registry_.has_provisioning_key(key)) {
    return refuse(reply_to, ProvisionRefusal::kUnknownKey,
                  permission_denied("provisioning key " + key + " is not active"));
  }
  if (registry_.has_door(id)) {
    return refuse(reply_to, ProvisionRefusal::kAlreadyExists,
                  already_exists("device " + id + " already has a credential"));
  }
  auto parsed = parse_device_info(payload, "provisioning", options_.max_payload_bytes,
                                  options_.max_info_length);
  if (parsed.problem != InfoProblem::kNone)
    return refuse(reply_to, refusal_of(parsed.problem), parsed.status);
  provision(key, id, std::move(parsed.info));
}

void ProvisionTopics::provision(const std::string& key, const std::string& id,
                                device::DeviceInfo info) {
  const std::string reply_to = reply_topic(key, id);
  device::DeviceService* service = service_.load();
  if (service == nullptr)
    return refuse(reply_to, ProvisionRefusal::kUnavailable, unavailable("gatehouse is starting"));
  events::Cause cause;
  cause.set_kind(events::Cause::PROVISIONING_KEY);
  cause.set_name(key);
  cause.set_channel("mqtt");
  // Runs on an actor thread: only queues the credential on the registry's worker. The device
  // is registered first, so a request for an existing device (registered or racing another
  // request) is refused by the device model before any credential is touched.
  service->provision(id, std::move(info), cause, [this, reply_to, id, cause](auto registered) {
    if (!registered) {
      const auto& status = registered.status();
      return refuse(reply_to, refusal_of(status, ProvisionRefusal::kServiceRejected), status);
    }
    registry_.issue_door_async(
        id, cause, door_credentials::Issue::kNewOnly, [this, reply_to, id](auto secret) {
          if (!secret) {
            const auto& status = secret.status();
            return refuse(reply_to, ProvisionRefusal::kCredentialFailed,
                          Status(status.code(), "device " + id +
                                                    " was registered but no credential was "
                                                    "issued (" +
                                                    status.message() + "); ask an operator"));
          }
          counters_.provisioned.fetch_add(1);
          nlohmann::json reply = codec::ok_reply({{"username", id}, {"secret", *secret}});
          publisher_.publish(reply_to, codec::to_wire(reply), options_.qos, false);
        });
  });
}

std::vector<std::pair<std::string, double>> ProvisionTopics::metrics() const {
  std::vector<std::pair<std::string, double>> out;
  out.emplace_back("gatehouse_mqtt_provision_received_total",
                   static_cast<double>(counters_.received.load()));
  out.emplace_back("gatehouse_mqtt_provision_provisioned_total",
                   static_cast<double>(counters_.provisioned.load()));
  counters_.refused.append_to(out, "gatehouse_mqtt_provision_refused_total", "reason",
                              provision_refusal_name);
  return out;
}

}  // namespace gh::mqtt_adapter
