// The one thing topic handlers need from a broker connection: send a message. Lets the
// device, chat and legacy topics be written against an interface.
// Implementations must be thread-safe and must not block or throw.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace gh::mqtt_adapter {

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Queues `payload` for `topic`; returns at once. Failures are counted by the
  // implementation, never reported to the caller (effects are fire-and-forget, and QoS 1
  // plus the persistent session cover transient disconnects).
  virtual void publish(const std::string& topic, std::string payload, int qos, bool retain) = 0;

  // A reply to a request: not retained and, on an MQTT 5 connection, carrying the request's
  // Correlation Data when it had some. Without MQTT 5 (or without correlation data) it is a
  // plain publish(), which is also what this default does.
  virtual void publish_response(const std::string& topic, std::string payload, int qos,
                                const std::optional<std::string>& correlation_data) {
    (void)correlation_data;
    publish(topic, std::move(payload), qos, false);
  }
};

}  // namespace gh::mqtt_adapter
