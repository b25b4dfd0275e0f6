// gatehouse's connection to the MQTT broker, over paho.mqtt.cpp's async_client.
//
// - MQTT 5 by default (4 = 3.1.1 for brokers without it): requests may carry a Response
//   Topic and Correlation Data (add_request_handler, publish_response); devices and other
//   clients may use either version, the broker translates;
// - persistent session (clean_session=false by default; on MQTT 5: clean start off and a
//   session that never expires, as 3.1.1's) under a fixed client id, QoS 1;
// - our own reconnect loop with jittered exponential backoff (paho's automatic reconnect
//   has no jitter: many servers restarted together would retry in lockstep);
// - after every successful (re)connect, in this order: TCP_NODELAY on our sockets to the
//   broker (tcp_nodelay.h), subscribe every registered filter again (a broker restarted
//   without persistence forgets them), publish the "online" birth message, then report
//   connected();
// - publish() is thread-safe and non-blocking; while disconnected, messages are buffered by
//   paho (up to max_buffered) and sent after the reconnect;
// - every paho exception is caught here: nothing escapes to callers or to paho's thread.
//
// Threads: paho's callback thread delivers messages to the handlers (which must not block);
// one thread of ours runs connect/subscribe/backoff. Handlers must stay valid until stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/mqtt/broker_url.h"
#include "adapters/mqtt/publisher.h"
#include "events/status.h"

namespace mqtt {
class message;
}

namespace gh::mqtt_adapter {

struct MqttConnectionOptions {
  std::string url;  // "tcp://host:port"
  // More listeners of the same cluster (a NATS cluster's MQTT listeners): each connect tries
  // `url`, then these in order (paho's serverURIs), and takes the first that answers, so a
  // lost broker node is replaced by the next one at the next connect.
  std::vector<std::string> other_urls;
  std::string client_id = "gatehouse";
  int mqtt_version = 5;  // 5, or 4 (3.1.1: no Response Topic or Correlation Data)
  bool clean_session = false;
  std::chrono::seconds keep_alive{30};
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  int max_buffered = 10000;  // messages kept while disconnected
  // false: once connected, a lost connection is not made again: the connection ends for
  // good (ended()). The first connect is still retried with backoff. For a session that
  // may be opened only while a lease says so (cluster mode's session groups): its owner
  // decides, after its next lease round, whether to open it again.
  bool reconnect_after_loss = true;
  // Last will (retained) and its counterpart published retained on every connect; empty
  // topic: none. Tells devices and operators whether the server is up.
  std::string status_topic;
  std::string online_payload = "online";
  std::string offline_payload = "offline";
  // gatehouse's own credential on the broker (broker_plugin/identity_table.h); empty: none.
  std::string username;
  std::string password;
  // Called on our connect thread after every successful (re)connect, once subscribed and
  // before the birth message: what the broker must learn from us first (the identities of
  // broker_sync.h). Must not block for long; publish() from it is fine.
  std::function<void()> on_connected;
};

// For /healthz and /metrics. Monotonic counters; read with relaxed loads.
struct ConnectionCounters {
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> connects{0};          // successful connects, first one included
  std::atomic<uint64_t> reconnects{0};        // successful connects after the first
  std::atomic<uint64_t> connect_failures{0};  // failed attempts (each backs off)
  std::atomic<uint64_t> connection_lost{0};
  std::atomic<uint64_t> published{0};           // accepted by paho for sending
  std::atomic<uint64_t> publish_failures{0};    // refused at once or failed later
  std::atomic<uint64_t> delivered{0};           // acknowledged per QoS
  std::atomic<uint64_t> received{0};            // messages from the broker
  std::atomic<uint64_t> unrouted{0};            // matched no handler
  std::atomic<uint64_t> handler_exceptions{0};  // a handler threw (a bug; swallowed)
  std::atomic<uint64_t> nodelay_sockets{0};     // sockets TCP_NODELAY was set on, in total
};

// A handler gets the topic, the raw payload bytes, and whether the broker delivered a retained
// message (sent again on every resubscribe, not new).
using MessageHandler =
    std::function<void(const std::string& topic, const std::string& payload, bool retained)>;

// What a request handler gets: the message and, on an MQTT 5 connection, the request's
// Response Topic (empty when absent) and Correlation Data. Views into paho's message: valid
// during the call only.
struct InboundMessage {
  std::string_view topic;
  std::string_view payload;
  bool retained = false;
  std::string_view response_topic;
  bool has_correlation_data = false;
  std::string_view correlation_data;
};
using RequestHandler = std::function<void(const InboundMessage& message)>;

class MqttConnection final : public Publisher {
 public:
  // kInvalidArgument for a bad url or client id; nothing connects until start().
  static Result<std::unique_ptr<MqttConnection>> create(MqttConnectionOptions options);
  ~MqttConnection() override;  // stop()
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  // Routes messages matching any of `filters` to `handler` and subscribes to them at `qos`
  // on every connect. Call before start(); kFailedPrecondition after it.
  Status add_handler(std::vector<std::string> filters, int qos, MessageHandler handler);
  // The same for handlers that answer requests and need the MQTT 5 properties.
  Status add_request_handler(std::vector<std::string> filters, int qos, RequestHandler handler);

  // Starts connecting in the background and returns at once; ok, or kFailedPrecondition
  // when already started or stopped. Use wait_connected() to wait for the first connection.
  Status start();

  // True once connected (and subscribed) within `timeout`; false otherwise. May block.
  bool wait_connected(std::chrono::milliseconds timeout);

  // Joins our thread, then, if connected, publishes the "offline" status and disconnects
  // cleanly: paho first sends what is queued and waits, up to connect_timeout, until the
  // broker has acknowledged every QoS 1 message in flight. Idempotent; blocks up to about
  // connect_timeout plus our thread's connect attempt. Handlers are not called after it
  // returns, and publishes after it are refused (counted in publish_failures).
  void stop();

  // Publisher: thread-safe, non-blocking, never throws; failures go to counters().
  void publish(const std::string& topic, std::string payload, int qos, bool retain) override;
  // Publisher: with the Correlation Data property on MQTT 5; a plain publish on 3.1.1.
  void publish_response(const std::string& topic, std::string payload, int qos,
                        const std::optional<std::string>& correlation_data) override;

  bool connected() const { return counters_.connected.load(); }
  // The connection was lost and will not be made again (reconnect_after_loss false).
  bool ended() const { return ended_.load(); }
  const ConnectionCounters& counters() const { return counters_; }
  const BrokerAddress& broker() const { return broker_; }

 private:
  struct Impl;
  MqttConnection(MqttConnectionOptions options, BrokerAddress broker);
  void run();
  bool try_connect();  // logs why it failed
  void abandon_connection();
  void dispatch(const mqtt::message& message);
  std::chrono::milliseconds jittered(std::chrono::milliseconds backoff);

  struct Route {
    std::vector<std::string> filters;
    int qos = 1;
    MessageHandler handler;  // one of these two is set
    RequestHandler request_handler;
  };

  const MqttConnectionOptions options_;
  const BrokerAddress broker_;
  ConnectionCounters counters_;
  std::unique_ptr<Impl> impl_;  // the paho client and its listener
  std::vector<Route> routes_;   // fixed once started: read without a lock
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  bool lost_ = false;               // set by paho's connection-lost callback
  std::string peer_url_;            // the listener of the last connect (of url, other_urls)
  std::atomic<bool> ended_{false};  // lost, and options_.reconnect_after_loss is false
  std::thread thread_;
};

}  // namespace gh::mqtt_adapter
