#include "adapters/http/http_adapter.h"

#include <chrono>

#include "adapters/http/device_event_stream.h"
#include "adapters/http/event_stream.h"
#include "adapters/http/http_server.h"
#include "adapters/http/request_counters.h"
#include "adapters/http/route_context.h"
#include "adapters/http/routes.h"

namespace gh::http {
namespace {

// Every event stream holds a worker thread for as long as it is open: the pool gets one
// thread per allowed stream on top of the configured ones, so open streams can never
// starve ordinary requests.
ServerOptions with_stream_threads(const HttpOptions& options) {
  ServerOptions server = options.server;
  server.threads += options.max_event_streams + kMaxDeviceStreams;
  return server;
}

}  // namespace

struct HttpAdapter::Impl {
  Impl(device::DeviceService& devices, ApiTokens& tokens, const UrlSigner& signer,
       HealthProbes health_in, MetricsSources metrics_in, HttpOptions options_in)
      : options(std::move(options_in)),
        health(std::move(health_in)),
        metrics(std::move(metrics_in)),
        streams(options.max_event_streams, options.event_stream_buffer_bytes,
                options.max_streams_per_user),
        device_events(kMaxDeviceStreams, options.event_stream_buffer_bytes,
                      options.max_streams_per_user),
        context{devices, tokens, signer, options, health, metrics, counters, nullptr, &streams},
        server(with_stream_threads(options)) {
    context.refusals = &server.refusals();
    context.server = &server;
    register_legacy_routes(server.router(), context);
    register_device_routes(server.router(), context);
    register_alert_routes(server.router(), context);
    register_picture_routes(server.router(), context);
    register_ops_routes(server.router(), context);
    register_chat_routes(server.router(), context);
    register_action_routes(server.router(), context);
    register_credential_routes(server.router(), context);
    register_web_routes(server.router(), context);
    register_device_event_routes(server.router(), context, device_events);
  }

  // Declaration order matters: the context refers to the members above it, and the server
  // (whose handlers refer to the context) is destroyed first.
  HttpOptions options;
  HealthProbes health;
  MetricsSources metrics;
  RequestCounters counters;
  EventStreamHub streams;
  DeviceEventHub device_events;
  RouteContext context;
  HttpServer server;
};

HttpAdapter::HttpAdapter(device::DeviceService& devices, ApiTokens& tokens, const UrlSigner& signer,
                         HealthProbes health, MetricsSources metrics, HttpOptions options)
    : impl_(std::make_unique<Impl>(devices, tokens, signer, std::move(health), std::move(metrics),
                                   std::move(options))) {}

HttpAdapter::~HttpAdapter() { stop(); }

Result<int> HttpAdapter::start() {
  auto port = impl_->server.start();
  if (port && impl_->options.public_base_url.empty())
    impl_->options.public_base_url =
        "http://" + impl_->options.server.address + ":" + std::to_string(*port);
  return port;
}

void HttpAdapter::stop() {
  // Streams first: the server's stop() waits for every worker, and a stream's worker would
  // otherwise wait for its next heartbeat. The stopped hub also refuses new streams. Their
  // workers then write the final `end` frame; httplib stops calling a stream's provider once
  // the server is stopping, so the server stops only after that (or after a write timeout,
  // which is as long as a stuck client can hold a write).
  impl_->streams.stop();
  impl_->device_events.stop();
  const auto limit =
      std::chrono::duration_cast<std::chrono::milliseconds>(impl_->options.server.write_timeout) +
      std::chrono::seconds(1);
  impl_->streams.wait_closed(limit);
  impl_->device_events.wait_closed(limit);
  impl_->server.stop();
}

void HttpAdapter::set_chat(chat::ChatService* chat) { impl_->context.chat = chat; }

void HttpAdapter::set_actions(actions::ActionAdmin* actions) { impl_->context.actions = actions; }

void HttpAdapter::set_credentials(credentials::CredentialRegistry* registry) {
  impl_->context.credentials = registry;
}

void HttpAdapter::set_broker_password(
    std::function<std::string(const std::string& device_id)> password) {
  impl_->context.broker_password = std::move(password);
}

void HttpAdapter::set_chat_broker_password(
    std::function<std::string(const std::string& user, int64_t expires_at_ms)> password) {
  impl_->context.chat_broker_password = std::move(password);
}

Result<events::Cause> HttpAdapter::authenticate_operator(const std::string& secret) const {
  return operator_caller(impl_->context, secret);
}

chat::RoomListener& HttpAdapter::room_listener() { return impl_->streams; }

device::DeviceEffects& HttpAdapter::device_listener() {
  impl_->device_events.attach();
  return impl_->device_events;
}

size_t HttpAdapter::open_event_streams() const { return impl_->streams.open_streams(); }

std::string HttpAdapter::signed_picture_url(const std::string& picture_id) const {
  const int64_t expires = impl_->context.now_ms() / 1000 + impl_->options.picture_url_ttl.count();
  std::string base = impl_->options.public_base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + impl_->context.signer.sign_path(picture_id, expires);
}

}  // namespace gh::http
