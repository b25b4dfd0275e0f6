#include "adapters/mqtt/action_install.h"

#include <nlohmann/json.hpp>

#include "adapters/codec/action_json.h"
#include "adapters/codec/json_reply.h"
#include "adapters/mqtt/reply_topic.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

RemoteInstall::RemoteInstall(Publisher& publisher, actions::ActionAdmin& admin,
                             OperatorAuthenticator authenticate, RemoteInstallOptions options)
    : publisher_(publisher),
      admin_(admin),
      authenticate_(std::move(authenticate)),
      options_(std::move(options)),
      worker_([this] { work(); }) {}

RemoteInstall::~RemoteInstall() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

Status RemoteInstall::install(MqttConnection& connection) {
  return connection.add_request_handler({topic()}, options_.qos,
                                        [this](const InboundMessage& m) { on_request(m); });
}

void RemoteInstall::answer(const std::string& reply_to,
                           const std::optional<std::string>& correlation, const json& reply,
                           bool ok) {
  (ok ? counters_.installed : counters_.refused).fetch_add(1);
  publisher_.publish_response(reply_to, codec::to_wire(reply), options_.qos, correlation);
}

void RemoteInstall::on_request(const InboundMessage& message) {
  if (message.retained) {
    counters_.dropped.fetch_add(1);
    return;
  }
  std::optional<std::string> correlation;
  if (message.has_correlation_data) correlation = std::string(message.correlation_data);
  auto parsed = codec::parse_json(message.payload, options_.max_payload_bytes);
  std::string reply_to(message.response_topic);
  if (reply_to.empty() && parsed.is_ok() && parsed->is_object()) {
    auto it = parsed->find("reply_to");
    if (it != parsed->end() && it->is_string()) reply_to = it->get<std::string>();
  }
  if (!validate_reply_to(reply_to, options_.prefix).is_ok()) {
    counters_.dropped.fetch_add(1);
    return;
  }
  auto refuse = [&](const Status& status) {
    answer(reply_to, correlation, codec::error_reply(status), false);
  };
  // Off means off: nothing of the request is looked at further.
  if (!options_.enabled)
    return refuse(permission_denied("remote install is off (actions.remote-install)"));
  if (!parsed) return refuse(parsed.status());
  if (!parsed->is_object()) return refuse(invalid_argument("the request must be a JSON object"));
  auto text = [&](const char* field) -> std::optional<std::string> {
    auto it = parsed->find(field);
    if (it == parsed->end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto token = text("token");
  if (!token || token->empty()) return refuse(unauthenticated("an operator's token is required"));
  auto name = text("name");
  auto source = text("source");
  if (!name || !source) return refuse(invalid_argument("name and source must be strings"));
  bool replace = false;
  if (auto it = parsed->find("replace"); it != parsed->end()) {
    if (!it->is_boolean()) return refuse(invalid_argument("replace must be true or false"));
    replace = it->get<bool>();
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (queue_.size() >= options_.max_queue) {
    lock.unlock();
    return refuse(unavailable("too many installs waiting; retry"));
  }
  queue_.push_back(
      [this, reply_to, correlation, token = *token, name = *name, source = *source, replace] {
        auto by = authenticate_ ? authenticate_(token)
                                : Result<events::Cause>(unauthenticated("no authenticator"));
        if (!by) return answer(reply_to, correlation, codec::error_reply(by.status()), false);
        events::Cause cause = *by;
        cause.set_channel("mqtt");
        auto installed = admin_.install(name, source, replace, cause);
        if (!installed)
          return answer(reply_to, correlation, codec::error_reply(installed.status()), false);
        answer(reply_to, correlation,
               codec::ok_reply({{"action", codec::to_json(*installed, false)}}), true);
      });
  lock.unlock();
  wake_.notify_one();
}

void RemoteInstall::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace gh::mqtt_adapter
