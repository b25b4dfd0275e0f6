#include "adapters/http/device_event_stream.h"

#include "adapters/codec/device_json.h"
#include "adapters/codec/json_reply.h"
#include "adapters/http/route_context.h"
#include "adapters/http/routes.h"
#include "adapters/http/sse_response.h"

namespace gh::http {

void DeviceEventHub::publish_status(const device::State& state) {
  hub_.publish(kKey, [&state] { return sse_frame("status", codec::to_json(state)); });
}

void DeviceEventHub::stranger_alert(const std::string& device_id,
                                    const device::Stranger& stranger) {
  hub_.publish(kKey, [&] {
    nlohmann::json alert = codec::to_json(stranger);
    alert["device"] = device_id;
    return sse_frame("stranger", alert);
  });
}

void DeviceEventHub::drift_changed(const std::string& device_id,
                                   const device::DriftChange& change) {
  hub_.publish(kKey, [&] { return sse_frame("drift", codec::to_json(device_id, change)); });
}

void DeviceEventHub::device_removed(const device::State& state) {
  hub_.publish(kKey, [&state] { return sse_frame("removed", codec::to_json(state)); });
}

void DeviceEffectsTee::send_command(const std::string& device_id, events::LockAction action,
                                    const std::string& command_id) {
  if (first_ != nullptr) first_->send_command(device_id, action, command_id);
  if (auto* second = second_.load()) second->send_command(device_id, action, command_id);
}

void DeviceEffectsTee::publish_status(const device::State& state) {
  if (first_ != nullptr) first_->publish_status(state);
  if (auto* second = second_.load()) second->publish_status(state);
}

void DeviceEffectsTee::stranger_alert(const std::string& device_id,
                                      const device::Stranger& stranger) {
  if (first_ != nullptr) first_->stranger_alert(device_id, stranger);
  if (auto* second = second_.load()) second->stranger_alert(device_id, stranger);
}

void DeviceEffectsTee::unexpected_report(const std::string& device_id,
                                         const device::UnexpectedReport& report) {
  if (first_ != nullptr) first_->unexpected_report(device_id, report);
  if (auto* second = second_.load()) second->unexpected_report(device_id, report);
}

void DeviceEffectsTee::drift_changed(const std::string& device_id,
                                     const device::DriftChange& change) {
  if (first_ != nullptr) first_->drift_changed(device_id, change);
  if (auto* second = second_.load()) second->drift_changed(device_id, change);
}

void DeviceEffectsTee::device_removed(const device::State& state) {
  if (first_ != nullptr) first_->device_removed(state);
  if (auto* second = second_.load()) second->device_removed(state);
}

namespace {

// Who may watch: whoever may use the device routes (an API token, or the live session of
// an operator). `session` tells the caller to check the session again at each heartbeat.
Status authorize(const RouteContext& context, const std::string& secret, bool& session,
                 std::string& caller) {
  session = false;
  if (secret.empty()) {
    return unauthenticated("this route needs a token (Authorization: Bearer or ?token=)");
  }
  auto cause = operator_caller(context, secret);
  if (!cause) return cause.status();
  session = cause->kind() == events::Cause::USER;
  caller = (session ? "user " : "token ") + cause->name();
  return Status::ok();
}

Status device_events(RouteContext& context, DeviceEventHub& hub, const httplib::Request& req,
                     httplib::Response& res) {
  const std::string secret = stream_secret(req);
  bool session = false;
  std::string caller;
  GH_RETURN_IF_ERROR(authorize(context, secret, session, caller));
  if (!hub.attached()) {
    res.set_header("Retry-After", "60");
    return unavailable("device events are not connected to the device system");
  }
  auto stream = hub.subscribe(caller, stream_preamble(nlohmann::json::object()));
  if (!stream) return refuse_stream(context, res, stream.status());
  serve_stream(context, res, std::move(stream).value(), session ? secret : std::string());
  return Status::ok();
}

}  // namespace

void register_device_event_routes(httplib::Server& server, RouteContext& context,
                                  DeviceEventHub& hub) {
  add_route(server, context, Method::kGet, "/api/devices/events", "GET /api/devices/events",
            [&context, &hub](const httplib::Request& req, httplib::Response& res) {
              return device_events(context, hub, req, res);
            });
}

}  // namespace gh::http
