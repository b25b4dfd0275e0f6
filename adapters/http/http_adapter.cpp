#include "adapters/http/http_adapter.h"

#include "adapters/http/http_server.h"
#include "adapters/http/request_counters.h"
#include "adapters/http/route_context.h"
#include "adapters/http/routes.h"

namespace gh::http {

struct HttpAdapter::Impl {
  Impl(device::DeviceService& devices, ApiTokens& tokens, const UrlSigner& signer,
       HealthProbes health_in, MetricsSources metrics_in, HttpOptions options_in)
      : options(std::move(options_in)),
        health(std::move(health_in)),
        metrics(std::move(metrics_in)),
        context{devices, tokens, signer, options, health, metrics, counters},
        server(options.server) {
    register_legacy_routes(server.router(), context);
    register_device_routes(server.router(), context);
    register_picture_routes(server.router(), context);
    register_ops_routes(server.router(), context);
  }

  // Declaration order matters: the context refers to the members above it, and the server
  // (whose handlers refer to the context) is destroyed first.
  HttpOptions options;
  HealthProbes health;
  MetricsSources metrics;
  RequestCounters counters;
  RouteContext context;
  HttpServer server;
};

HttpAdapter::HttpAdapter(device::DeviceService& devices, ApiTokens& tokens, const UrlSigner& signer,
                         HealthProbes health, MetricsSources metrics, HttpOptions options)
    : impl_(std::make_unique<Impl>(devices, tokens, signer, std::move(health), std::move(metrics),
                                   std::move(options))) {}

HttpAdapter::~HttpAdapter() { stop(); }

Result<int> HttpAdapter::start() { return impl_->server.start(); }

void HttpAdapter::stop() { impl_->server.stop(); }

std::string HttpAdapter::signed_picture_url(const std::string& picture_id) const {
  const int64_t expires = impl_->context.now_ms() / 1000 + impl_->options.picture_url_ttl.count();
  std::string base = impl_->options.public_base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + impl_->context.signer.sign_path(picture_id, expires);
}

}  // namespace gh::http
