// The one thing topic handlers need from a broker connection: send a message. Lets the
// device topics (and later the chat topics) be written against an interface.
// Implementations must be thread-safe and must not block or throw.
#pragma once

#include <string>

namespace gh::mqtt_adapter {

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Queues `payload` for `topic`; returns at once. Failures are counted by the
  // implementation, never reported to the caller (effects are fire-and-forget, and QoS 1
  // plus the persistent session cover transient disconnects).
  virtual void publish(const std::string& topic, std::string payload, int qos, bool retain) = 0;
};

}  // namespace gh::mqtt_adapter
