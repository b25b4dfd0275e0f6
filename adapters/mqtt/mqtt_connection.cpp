#include "adapters/mqtt/mqtt_connection.h"

#include <mqtt/async_client.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <exception>
#include <random>
#include <shared_mutex>

#include "adapters/mqtt/tcp_nodelay.h"
#include "adapters/mqtt/topic_filter.h"
#include "events/log.h"

namespace gh::mqtt_adapter {

namespace {

// Counts the asynchronous outcome of each publish (at QoS 1: the broker's PUBACK). One
// instance serves every publish; it runs on paho's thread and never blocks.
class PublishListener final : public mqtt::iaction_listener {
 public:
  explicit PublishListener(ConnectionCounters& counters) : counters_(counters) {}
  void on_failure(const mqtt::token&) override {
    counters_.publish_failures.fetch_add(1);
    settle();
  }
  void on_success(const mqtt::token&) override {
    counters_.delivered.fetch_add(1);
    settle();
  }
  // Waits until `accepted` publishes have an outcome, up to `deadline` or until `gone()`
  // (the connection was lost: what is in flight gets no outcome before a reconnect).
  bool wait_settled(uint64_t accepted, std::chrono::steady_clock::time_point deadline,
                    const std::function<bool()>& gone) {
    std::unique_lock lock(mu_);
    while (settled_ < accepted && !gone()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      // In slices: the connection-lost callback does not notify this condition variable.
      cv_.wait_until(lock, std::min(deadline, now + kSlice));
    }
    return settled_ >= accepted;
  }

 private:
  static constexpr std::chrono::milliseconds kSlice{20};
  void settle() {
    std::lock_guard lock(mu_);
    ++settled_;
    cv_.notify_all();
  }
  ConnectionCounters& counters_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t settled_ = 0;  // publishes with an outcome, guarded by mu_
};

// Queue publishes while disconnected, even before the first connect: effects raised during
// a broker outage go out when it returns instead of being dropped.
mqtt::create_options buffered_create_options(int mqtt_version, int max_buffered) {
  mqtt::create_options opts(mqtt_version);
  opts.set_send_while_disconnected(true, /*anyTime=*/true);
  opts.set_max_buffered_messages(max_buffered);
  return opts;
}

}  // namespace

struct MqttConnection::Impl {
  Impl(const std::string& url, const std::string& client_id, int mqtt_version, int max_buffered,
       ConnectionCounters& counters)
      : listener(counters),
        // No client persistence: the broker keeps our session (clean_session=false); what
        // is in flight in this process is lost with it, and effects are re-derivable.
        client(url, client_id, buffered_create_options(mqtt_version, max_buffered), nullptr) {}

  PublishListener listener;  // declared first: outlives the client's pending tokens
  mqtt::async_client client;
  // Held shared while a handler runs, exclusively by stop(): no handler runs after stop().
  std::shared_mutex dispatch_mu;
  bool dispatching = true;  // guarded by dispatch_mu
  // Held shared while a publish is handed to paho, exclusively by stop(): nothing is queued in
  // paho after stop() closes it. paho would keep such a message buffered, never send it, and
  // lose it with the client (and, in Debian's 1.3.12, leak its copy: docs/reliability.md).
  std::shared_mutex publish_mu;
  bool publishing = true;       // guarded by publish_mu
  bool ever_connected = false;  // only touched by our thread
};

Result<std::unique_ptr<MqttConnection>> MqttConnection::create(MqttConnectionOptions options) {
  auto broker = parse_broker_url(options.url);
  if (!broker) return broker.status();
  for (const auto& url : options.other_urls)
    if (auto other = parse_broker_url(url); !other) return other.status();
  if (options.client_id.empty() || options.client_id.size() > 256) {
    return invalid_argument("mqtt client id must be 1-256 characters");
  }
  if (options.mqtt_version != 4 && options.mqtt_version != 5) {
    return invalid_argument("mqtt version must be 4 (3.1.1) or 5");
  }
  if (options.min_backoff.count() <= 0 || options.max_backoff < options.min_backoff) {
    return invalid_argument("mqtt backoff must satisfy 0 < min <= max");
  }
  try {
    return std::unique_ptr<MqttConnection>(new MqttConnection(std::move(options), *broker));
  } catch (const std::exception& e) {
    return invalid_argument(std::string("mqtt client: ") + e.what());
  }
}

MqttConnection::MqttConnection(MqttConnectionOptions options, BrokerAddress broker)
    : options_(std::move(options)), broker_(std::move(broker)) {
  impl_ = std::make_unique<Impl>(broker_url(broker_), options_.client_id, options_.mqtt_version,
                                 options_.max_buffered, counters_);
}

MqttConnection::~MqttConnection() { stop(); }

Status MqttConnection::add_handler(std::vector<std::string> filters, int qos,
                                   MessageHandler handler) {
  std::lock_guard lock(mu_);
  if (started_) return failed_precondition("handlers must be added before start()");
  if (qos < 0 || qos > 2) return invalid_argument("qos must be 0, 1 or 2");
  routes_.push_back(Route{std::move(filters), qos, std::move(handler), nullptr});
  return Status::ok();
}

Status MqttConnection::add_request_handler(std::vector<std::string> filters, int qos,
                                           RequestHandler handler) {
  std::lock_guard lock(mu_);
  if (started_) return failed_precondition("handlers must be added before start()");
  if (qos < 0 || qos > 2) return invalid_argument("qos must be 0, 1 or 2");
  routes_.push_back(Route{std::move(filters), qos, nullptr, std::move(handler)});
  return Status::ok();
}

Status MqttConnection::start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return failed_precondition("mqtt connection already started");
    started_ = true;
  }
  try {
    impl_->client.set_message_callback([this](mqtt::const_message_ptr msg) {
      if (msg) dispatch(*msg);
    });
    impl_->client.set_connection_lost_handler([this](const std::string& cause) {
      std::unique_lock lock(mu_);
      const std::string peer = peer_url_;
      lock.unlock();
      log::warning("mqtt",
                   options_.reconnect_after_loss ? "connection to the broker lost; reconnecting"
                                                 : "connection to the broker lost; ended",
                   {{"broker", peer}, {"client_id", options_.client_id}, {"cause", cause}});
      counters_.connected.store(false);
      counters_.connection_lost.fetch_add(1);
      lock.lock();
      lost_ = true;
      cv_.notify_all();
    });
  } catch (const std::exception& e) {
    return internal_error(std::string("mqtt callbacks: ") + e.what());
  }
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

bool MqttConnection::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stopping_ || counters_.connected.load(); }) &&
         counters_.connected.load();
}

std::chrono::milliseconds MqttConnection::jittered(std::chrono::milliseconds backoff) {
  // Uniform in [backoff/2, backoff]: spreads a crowd of reconnecting servers apart while
  // keeping the expected delay growing.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(backoff.count() / 2, backoff.count());
  return std::chrono::milliseconds(pick(rng));
}

void MqttConnection::run() {
  auto backoff = options_.min_backoff;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lost_ = false;
    lock.unlock();
    bool ok = try_connect();
    lock.lock();
    if (ok) {
      backoff = options_.min_backoff;
      cv_.notify_all();  // wake wait_connected()
      cv_.wait(lock, [this] { return stopping_ || lost_; });
      if (lost_ && !options_.reconnect_after_loss) {
        ended_ = true;
        return;
      }
      continue;
    }
    // The connection may have been lost after connected() turned true, and be failing now.
    counters_.connected.store(false);
    counters_.connect_failures.fetch_add(1);
    cv_.wait_for(lock, jittered(backoff), [this] { return stopping_; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

// A connect we gave up waiting for (its CONNACK came after our wait, as when this process
// was paused) or a connection we could not subscribe on may still be open in paho: paho
// then refuses every later connect, and we would retry for ever while the broker shows us
// connected. Closing it first makes each attempt start from nothing.
void MqttConnection::abandon_connection() {
  try {
    impl_->client.disconnect()->wait_for(options_.connect_timeout);
  } catch (const std::exception&) {
  }
}

bool MqttConnection::try_connect() {
  auto& client = impl_->client;
  BrokerAddress peer = broker_;
  auto failed = [this](const std::string& why) {
    log::warning(
        "mqtt", "could not connect to the broker; retrying",
        {{"broker", broker_url(broker_)}, {"client_id", options_.client_id}, {"why", why}});
    return false;
  };
  if (client.is_connected()) abandon_connection();
  try {
    mqtt::connect_options_builder builder;
    // The version first: setting it resets the clean-session/clean-start flags.
    builder.mqtt_version(options_.mqtt_version);
    if (options_.mqtt_version >= 5) {
      // 3.1.1's clean_session=false is MQTT 5's clean start off plus a session that outlives
      // the connection; without the expiry interval the broker would drop our session (and
      // the requests queued for us) at every disconnect.
      builder.clean_start(options_.clean_session);
      builder.properties(mqtt::properties{mqtt::property(
          mqtt::property::SESSION_EXPIRY_INTERVAL,
          options_.clean_session ? 0 : static_cast<int32_t>(UINT32_MAX) /* never */)});
    } else {
      builder.clean_session(options_.clean_session);
    }
    if (!options_.username.empty()) {
      builder.user_name(options_.username);
      builder.password(options_.password);
    }
    builder.keep_alive_interval(options_.keep_alive)
        .connect_timeout(options_.connect_timeout)
        .automatic_reconnect(false);
    if (!options_.other_urls.empty()) {
      auto servers = std::make_shared<mqtt::string_collection>(broker_url(broker_));
      for (const auto& url : options_.other_urls) servers->push_back(url);
      builder.servers(servers);
    }
    if (!options_.status_topic.empty()) {
      builder.will(mqtt::will_options(options_.status_topic, options_.offline_payload, 1, true));
    }
    auto token = client.connect(builder.finalize());
    // paho completes the token within connect_timeout per URL it tries; the margin covers its
    // own delays.
    const auto urls = static_cast<int>(1 + options_.other_urls.size());
    if (!token->wait_for(options_.connect_timeout * urls + std::chrono::seconds(2))) {
      abandon_connection();
      return failed("no answer to CONNECT in time");
    }
    // With several URLs, the one that answered.
    if (auto answered = parse_broker_url(token->get_connect_response().get_server_uri()))
      peer = std::move(*answered);
  } catch (const std::exception& e) {
    return failed(e.what());
  }

  // Before anything is sent: otherwise the SUBSCRIBE itself already waits on Nagle.
  if (auto n = set_nodelay_to_peer(peer.host, peer.port); n) {
    counters_.nodelay_sockets.fetch_add(static_cast<uint64_t>(*n));
  }

  try {
    // One SUBSCRIBE for every filter: a reconnect costs one round trip, not one per filter.
    auto filters = std::make_shared<mqtt::string_collection>();
    mqtt::iasync_client::qos_collection qos;
    for (const auto& route : routes_) {
      for (const auto& filter : route.filters) {
        filters->push_back(filter);
        qos.push_back(route.qos);
      }
    }
    if (!filters->empty()) {
      auto token = client.subscribe(filters, qos);
      if (!token->wait_for(options_.connect_timeout)) throw std::runtime_error("suback timeout");
      // MQTT 3.1.1 grants each filter a QoS or refuses it with 0x80 (e.g. an ACL).
      const auto response = token->get_subscribe_response();
      for (auto code : response.get_reason_codes()) {
        if (static_cast<int>(code) >= 0x80) throw std::runtime_error("subscription refused");
      }
    }
  } catch (const std::exception& e) {
    // A connection we cannot subscribe on is useless: drop it and retry with backoff.
    abandon_connection();
    return failed(std::string("subscribing: ") + e.what());
  }

  {
    std::lock_guard lock(mu_);
    peer_url_ = broker_url(peer);
  }
  log::info("mqtt", "connected to the broker", {{"broker", broker_url(peer)}});
  if (options_.on_connected) options_.on_connected();
  if (!options_.status_topic.empty()) {
    publish(options_.status_topic, options_.online_payload, 1, true);
  }
  counters_.connects.fetch_add(1);
  if (impl_->ever_connected) counters_.reconnects.fetch_add(1);
  impl_->ever_connected = true;
  counters_.connected.store(true);
  return true;
}

void MqttConnection::dispatch(const mqtt::message& message) {
  std::shared_lock lock(impl_->dispatch_mu);
  if (!impl_->dispatching) return;
  counters_.received.fetch_add(1);
  const std::string& topic = message.get_topic();
  const std::string& payload = message.get_payload_str();
  const bool retained = message.is_retained();
  bool routed = false;
  for (const auto& route : routes_) {
    bool match = std::any_of(route.filters.begin(), route.filters.end(),
                             [&](const std::string& f) { return topic_matches(f, topic); });
    if (!match) continue;
    routed = true;
    // An exception must never unwind into paho's C thread.
    try {
      if (route.handler) {
        route.handler(topic, payload, retained);
        continue;
      }
      InboundMessage in;
      in.topic = topic;
      in.payload = payload;
      in.retained = retained;
      const mqtt::properties& props = message.get_properties();
      std::string response_topic, correlation;
      if (props.contains(mqtt::property::RESPONSE_TOPIC)) {
        response_topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
        in.response_topic = response_topic;
      }
      if (props.contains(mqtt::property::CORRELATION_DATA)) {
        correlation = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
        in.has_correlation_data = true;
        in.correlation_data = correlation;
      }
      route.request_handler(in);
    } catch (...) {
      counters_.handler_exceptions.fetch_add(1);
    }
  }
  if (!routed) counters_.unrouted.fetch_add(1);
}

void MqttConnection::publish(const std::string& topic, std::string payload, int qos, bool retain) {
  std::shared_lock lock(impl_->publish_mu);
  if (!impl_->publishing) {
    counters_.publish_failures.fetch_add(1);
    return;
  }
  try {
    auto msg = mqtt::make_message(topic, std::move(payload), qos, retain);
    impl_->client.publish(msg, nullptr, impl_->listener);
    counters_.published.fetch_add(1);
  } catch (const std::exception&) {
    counters_.publish_failures.fetch_add(1);
  }
}

void MqttConnection::publish_response(const std::string& topic, std::string payload, int qos,
                                      const std::optional<std::string>& correlation_data) {
  if (options_.mqtt_version < 5 || !correlation_data) {
    publish(topic, std::move(payload), qos, false);
    return;
  }
  std::shared_lock lock(impl_->publish_mu);
  if (!impl_->publishing) {
    counters_.publish_failures.fetch_add(1);
    return;
  }
  try {
    auto msg = mqtt::message::create(
        topic, std::move(payload), qos, false,
        mqtt::properties{mqtt::property(mqtt::property::CORRELATION_DATA, *correlation_data)});
    impl_->client.publish(msg, nullptr, impl_->listener);
    counters_.published.fetch_add(1);
  } catch (const std::exception&) {
    counters_.publish_failures.fetch_add(1);
  }
}

void MqttConnection::stop() {
  bool started = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    started = started_;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::unique_lock lock(impl_->dispatch_mu);
    impl_->dispatching = false;
  }
  {
    std::unique_lock lock(impl_->publish_mu);
    impl_->publishing = false;
  }
  if (!started) return;
  auto& client = impl_->client;
  try {
    if (client.is_connected()) {
      // A clean disconnect does not fire the will, so say "offline" ourselves.
      if (!options_.status_topic.empty()) {
        client.publish(mqtt::make_message(options_.status_topic, options_.offline_payload, 1, true),
                       nullptr, impl_->listener);
        counters_.published.fetch_add(1);
      }
      // Every message handed to paho (sent in order, the offline status last) acknowledged
      // before the connection closes, up to connect_timeout. Ours, not paho's disconnect
      // timeout: paho checks that one only every 3 s.
      impl_->listener.wait_settled(counters_.published.load(),
                                   std::chrono::steady_clock::now() + options_.connect_timeout,
                                   [this] { return !counters_.connected.load(); });
      client.disconnect()->wait_for(options_.connect_timeout);
    }
  } catch (const std::exception&) {
  }
  try {
    client.disable_callbacks();
  } catch (const std::exception&) {
  }
  counters_.connected.store(false);
}

}  // namespace gh::mqtt_adapter
