// The HTTP adapter: gatehouse's REST API over DeviceService (docs/protocol.md "HTTP API").
//
// server/main builds one with the device service, the token table, the URL signer, health
// probes, metrics sources and options, calls start() (which reports the bound port) and
// stop() on shutdown. This header has no httplib or CAF in it.
//
// Thread-safety: start()/stop() from the owner's thread; signed_picture_url() from any
// thread (the MQTT adapter calls it on actor threads: it is quick and never blocks).
// `devices`, `tokens` and `signer` must outlive the adapter.
#pragma once

#include <memory>
#include <string>

#include "actors/device/device_service.h"
#include "adapters/http/auth.h"
#include "adapters/http/http_options.h"
#include "adapters/http/url_signer.h"
#include "events/status.h"

namespace gh::http {

class HttpAdapter {
 public:
  HttpAdapter(device::DeviceService& devices, ApiTokens& tokens, const UrlSigner& signer,
              HealthProbes health, MetricsSources metrics, HttpOptions options);
  ~HttpAdapter();  // stop()
  HttpAdapter(const HttpAdapter&) = delete;
  HttpAdapter& operator=(const HttpAdapter&) = delete;

  // Listens on options.server.address:port; returns the bound port (useful with port 0).
  // kUnavailable when the address cannot be bound; kFailedPrecondition when started twice.
  Result<int> start();
  // Stops accepting, lets requests in progress finish, joins. Idempotent.
  void stop();

  // "<public_base_url>/pictures/<id>?expires=<now + picture_url_ttl>&sig=<hmac>": a link
  // that opens the picture without a token until it expires.
  std::string signed_picture_url(const std::string& picture_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gh::http
