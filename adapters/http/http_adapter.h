// The HTTP adapter: gatehouse's REST API over DeviceService, ChatService and the scripted
// actions' ActionAdmin (docs/protocol.md "HTTP API", "Chat API", "Scripted actions").
//
// server/main builds one with the device service, the token table, the URL signer, health
// probes, metrics sources and options, optionally gives it the chat service (set_chat())
// and the scripted actions (set_actions()), registers room_listener() with the chat, calls
// start() (which reports the bound port) and stop() on shutdown. This header has no httplib
// or CAF in it.
//
// Thread-safety: set_chat() and set_actions() before start(); start()/stop() from the
// owner's thread; signed_picture_url(), room_listener() and authenticate_operator() from any
// thread (the MQTT adapter and the chat service call them on actor threads: they are quick and
// never block; authenticate_operator() may block). `devices`, `tokens`, `signer`, the chat
// service and the actions must outlive the adapter; the chat service must stop calling
// room_listener() before the adapter is destroyed.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actors/actions/action_service.h"
#include "actors/chat/chat_service.h"
#include "actors/device/device_service.h"
#include "actors/system/credential_registry.h"
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
  // Ends every event stream, stops accepting, lets requests in progress finish, joins.
  // Idempotent.
  void stop();

  // The chat service behind /api/...; call before start(). Without one (the default) the
  // chat routes answer 503 and device routes accept API tokens only.
  void set_chat(chat::ChatService* chat);
  // The scripted actions behind /api/actions...; call before start(). Without one (the
  // default) those routes answer 503.
  void set_actions(actions::ActionAdmin* actions);
  // The doors' broker credentials and provisioning keys behind POST /devices (which then
  // issues the new door's credential), /devices/{id}/credential and /api/provisioning-keys;
  // call before start(). Without one (the default) POST /devices issues no credential and
  // the credential routes answer 503. Must outlive the adapter.
  void set_credentials(credentials::CredentialRegistry* registry);
  // The MQTT password a door is given with its new credential, when the broker does not take
  // the secret itself (cluster mode on NATS: the door's NATS user JWT, docs/protocol.md
  // "Cluster mode on NATS"); the answers then carry it as "password". Call before start().
  // `password` is called on HTTP worker threads.
  void set_broker_password(std::function<std::string(const std::string& device_id)> password);
  // The MQTT password a chat user's login answer carries as "mqtt_password" (on NATS: the
  // user's NATS JWT, expiring with the session: docs/protocol.md, "Cluster mode on NATS"),
  // given the user and the session's end (Unix ms); an empty answer adds nothing. Before
  // start(); without it a login answer has no such field.
  void set_chat_broker_password(
      std::function<std::string(const std::string& user, int64_t expires_at_ms)> password);
  // Who `secret` is, by the rule of the operator routes: an API token, or the session of a
  // user with the role `operator` (the cause has channel "http"; the caller may change it).
  // kUnauthenticated or kPermissionDenied otherwise. Blocks at most the call timeout on the
  // chat service: call from a thread that may block. Used by the MQTT remote install.
  Result<events::Cause> authenticate_operator(const std::string& secret) const;
  // Receives the chat service's room updates for the event streams (register it with the
  // chat system's add_listener()). Updates after stop() are dropped.
  chat::RoomListener& room_listener();
  // Receives the devices' statuses and stranger alerts for GET /api/devices/events: hand it
  // to the device system beside the MQTT adapter (DeviceEffectsTee in
  // device_event_stream.h). Until this is called, that route answers 503. Its methods never
  // block; effects after stop() are dropped; the device system must stop calling it before
  // the adapter is destroyed.
  device::DeviceEffects& device_listener();
  // Event streams open now (a gauge for /metrics).
  size_t open_event_streams() const;

  // "<public_base_url>/pictures/<id>?expires=<now + picture_url_ttl>&sig=<hmac>": a link
  // that opens the picture without a token until it expires.
  std::string signed_picture_url(const std::string& picture_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gh::http
