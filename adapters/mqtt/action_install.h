// Remote install of a scripted action over MQTT: what the seed did with Python files (load
// code received over MQTT), done with a sandbox and an operator's credentials instead of
// trust (docs/protocol.md "Remote install over MQTT").
//
//   PREFIX/actions/install  {"token":"...","name":"...","source":"...","replace":false,
//                            "reply_to":"PREFIX/inbox/<client>/..."}
//
// answered on the MQTT 5 Response Topic, else on reply_to (both must be PREFIX/inbox/<client>
// or below: validate_reply_to), with {"ok":true,"action":{name,revision,sha256}} or an error:
// permission_denied (actions.remote-install is off: nothing else is looked at),
// unauthenticated (no or bad token; the authenticator decides), invalid_argument (bad JSON,
// missing fields, script refused by the sandbox), too_large, already_exists. A request with
// no valid reply topic, or retained, is dropped and counted.
//
// Threads: on_request() runs on paho's thread and never blocks: the install (sandbox check,
// durable append) runs on one worker thread of this object, at most `max_queue` waiting.
// The admin, the authenticator and the publisher must outlive this object.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "actors/actions/action_service.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/publisher.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

struct RemoteInstallOptions {
  std::string prefix = "gatehouse";
  bool enabled = false;  // actions.remote-install
  size_t max_payload_bytes = 128 * 1024;
  size_t max_queue = 8;
  int qos = 1;
};

// The operator behind a bearer token (an API token or an operator's session), as the cause
// to record; kUnauthenticated or kPermissionDenied otherwise. Runs on the worker thread.
using OperatorAuthenticator = std::function<Result<events::Cause>(const std::string& token)>;

struct RemoteInstallCounters {
  std::atomic<uint64_t> installed{0};
  std::atomic<uint64_t> refused{0};  // answered with an error
  std::atomic<uint64_t> dropped{0};  // no valid reply topic, or retained
};

class RemoteInstall {
 public:
  RemoteInstall(Publisher& publisher, actions::ActionAdmin& admin,
                OperatorAuthenticator authenticate, RemoteInstallOptions options);
  ~RemoteInstall();  // finishes queued installs, joins the worker

  std::string topic() const { return options_.prefix + "/actions/install"; }
  Status install(MqttConnection& connection);
  void on_request(const InboundMessage& message);

  const RemoteInstallCounters& counters() const { return counters_; }

 private:
  void work();
  void answer(const std::string& reply_to, const std::optional<std::string>& correlation,
              const nlohmann::json& reply, bool ok);

  Publisher& publisher_;
  actions::ActionAdmin& admin_;
  const OperatorAuthenticator authenticate_;
  const RemoteInstallOptions options_;
  RemoteInstallCounters counters_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread worker_;  // last
};

}  // namespace gh::mqtt_adapter
