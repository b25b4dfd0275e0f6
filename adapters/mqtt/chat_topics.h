// The chat over MQTT (docs/protocol.md "MQTT: chat"): requests on PREFIX/chat/{op}, each answered
// on the reply topic it names, and every room update on PREFIX/rooms/{room}/events.
//
// A request is a JSON object {"id": <any string or number>, "reply_to": "PREFIX/inbox/
// {client}/...", "token": "...", ...fields of the op}. On an MQTT 5 connection the message's
// Response Topic may stand in for reply_to (it wins when both are given) and its
// Correlation Data is echoed on the reply. The answer is {"ok":true,"id":..,"op":..,...} or
// {"ok":false,"id":..,"op":..,"error":{"code","message"}} (adapters/codec/json_reply.h).
//
// Every op but register, login, security_question and reset_password needs a session
// token, checked with ChatService::authenticate() before the op runs.
//
// Bad input (oversized, malformed JSON, unknown op, missing or mistyped field, retained
// request) and service rejections change nothing, are counted per reason and answered. An
// answer needs a valid reply topic (reply_topic.h): a request without one, or with a refused
// one, is counted, logged at a limited rate, and dropped, except that a refused reply_to
// which still names a valid PREFIX/inbox/{client}/ gets its error on
// PREFIX/inbox/{client}/errors. For a malformed or oversized payload the id and reply_to are
// recovered, when they come before the damage, from the first max_payload_bytes.
//
// Thread-safety: on_message() runs on paho's callback thread and never blocks (service calls
// are asynchronous); service callbacks and on_room_update() run on actor or hashing threads
// and only publish. The publisher and the service must outlive every call in flight: stop
// the connection, shut the service down, then destroy this object.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/chat/chat_service.h"
#include "adapters/codec/labelled_counter.h"
#include "adapters/mqtt/mqtt_connection.h"
#include "adapters/mqtt/publisher.h"
#include "adapters/mqtt/reply_topic.h"
#include "events/status.h"

namespace gh::mqtt_adapter {

class MqttAdapter;

struct ChatTopicsOptions {
  std::string prefix = "gatehouse";
  size_t max_payload_bytes = 64 * 1024;  // one request
  size_t max_reply_topic_bytes = kMaxReplyTopicBytes;
  size_t max_id_bytes = 128;         // a string "id"
  size_t history_page_default = 50;  // history "limit" when absent (the service allows 1..100)
  size_t rooms_page_default = 100;   // rooms "limit" when absent
  size_t rooms_page_max = 1000;      // rooms "limit" at most
  int qos = 1;                       // subscriptions, replies and room updates
  RateLimitedLog::Sink log;          // refused requests; empty: stderr
  std::chrono::milliseconds log_interval{10000};
  // Cluster mode on NATS (docs/cluster.md, "Chat requests on NATS"): the other node that
  // serves the stream a request is about ("room/r1", "user/alice"), asked before the request
  // is served here; nullopt: served here. Empty: every request is served here.
  std::function<std::optional<std::string>(const std::string& stream)> owner_elsewhere;
  // Hands a request, as received (its op word and payload), to node `owner`, which answers it;
  // nothing is answered here. Needed with owner_elsewhere.
  std::function<void(const std::string& owner, std::string_view op, std::string_view payload)>
      hand_on;
};

// The ops, in the order of the docs; kOther for an unknown PREFIX/chat/{word}.
enum class ChatOp : size_t {
  kRegister,
  kLogin,
  kLogout,
  kChangePassword,
  kSetSecurityQuestion,
  kSecurityQuestion,
  kResetPassword,
  kWhoami,
  kRooms,
  kCreateRoom,
  kJoin,
  kLeave,
  kMembers,
  kPost,
  kHistory,
  kLike,
  kUnlike,
  kDelete,
  kOther,
  kCount
};

// Why a request was refused; each is counted.
enum class ChatRejection : size_t {
  kTooLarge,         // payload over max_payload_bytes, or JSON nested too deep
  kBadJson,          // malformed JSON, or not an object
  kUnknownOp,        // PREFIX/chat/{word} with an unknown word
  kBadField,         // a field missing, of the wrong type, or out of range (also a bad "id")
  kRetained,         // a retained request: the broker would replay it on every resubscribe
  kNoReplyTo,        // neither reply_to nor a Response Topic: dropped
  kBadReplyTo,       // a refused reply topic: dropped (or answered on the inbox's errors)
  kUnauthenticated,  // missing, unknown or expired session token
  kServiceRejected,  // the chat service refused (locked, not a member, too long, exists, ...)
  kCount
};

std::string_view chat_op_name(ChatOp op);               // "register", ..., "other"
ChatOp chat_op_of(std::string_view word);               // kOther for an unknown word
std::string_view chat_rejection_name(ChatRejection r);  // "too_large", ...

// For /metrics. Monotonic; read with relaxed loads.
struct ChatTopicsCounters {
  codec::LabelledCounter<ChatOp> received;
  codec::LabelledCounter<ChatRejection> rejected;
  std::atomic<uint64_t> replies_ok{0};
  std::atomic<uint64_t> replies_error{0};
  std::atomic<uint64_t> dropped{0};  // refused with nowhere to answer
  std::atomic<uint64_t> updates_published{0};
  std::atomic<uint64_t> forwarded{0};  // handed to the owner of their room or user

  uint64_t received_of(ChatOp op) const { return received.get(op); }
  uint64_t rejected_of(ChatRejection r) const { return rejected.get(r); }
};

class ChatTopics final : public chat::RoomListener {
 public:
  // `publisher` (usually the MqttConnection) and `service` must outlive this object's use.
  ChatTopics(Publisher& publisher, chat::ChatService& service, ChatTopicsOptions options);

  // PREFIX/chat/+
  std::vector<std::string> subscriptions() const;

  // Routes the subscriptions to on_message() on `connection` (or the adapter's); before the
  // connection starts. Also register this object as the service's RoomListener
  // (ChatSystem::add_listener) to get the room updates out.
  Status install(MqttConnection& connection);
  Status install(MqttAdapter& adapter);

  // Handles one request from the broker. Never blocks, never throws.
  void on_message(const InboundMessage& message);
  // The same for a request another node handed on (options.hand_on): served here, never
  // handed on again, so a request is answered where it lands.
  void on_forwarded(const InboundMessage& message);

  // RoomListener: to_json(update) on PREFIX/rooms/{room}/events, QoS `qos`, not retained.
  void on_room_update(const chat::RoomUpdate& update) override;

  const ChatTopicsCounters& counters() const { return counters_; }
  const ChatTopicsOptions& options() const { return options_; }
  uint64_t log_lines_suppressed() const { return log_.suppressed(); }

  // For MetricsSources::extra:
  //   gatehouse_mqtt_chat_received_total{op="..."}
  //   gatehouse_mqtt_chat_rejected_total{reason="..."}
  //   gatehouse_mqtt_chat_replies_total{result="ok|error"}
  //   gatehouse_mqtt_chat_dropped_total
  //   gatehouse_mqtt_chat_updates_published_total
  //   gatehouse_mqtt_chat_forwarded_total (with options.owner_elsewhere only)
  std::vector<std::pair<std::string, double>> metrics() const;

  // Topic names, for tests and the docs.
  std::string request_topic(std::string_view op) const;
  std::string room_events_topic(const std::string& room) const;

  // Where and how one request is answered.
  struct Reply {
    std::string topic;
    nlohmann::json id;  // echoed; null when absent
    std::optional<std::string> correlation;
    ChatOp op = ChatOp::kOther;
  };

 private:
  // One request, its envelope parsed once: the JSON object, where to answer, and (for an op
  // that needs one) the session it was authenticated with.
  struct Call {
    const nlohmann::json& request;
    const Reply& reply;
    const std::string& token;   // empty for an open op
    const chat::Identity& who;  // empty for an open op
  };
  using Handler = void (ChatTopics::*)(const Call&);
  // The entity whose owner serves an op (cluster mode): none (any node), the user named by
  // the "name" field, the user of the session, or the room of the "room" field.
  enum class Owner { kAny, kNamedUser, kSessionUser, kRoom };
  // One row per op, in ChatOp order, as mosquitto has one handler per packet type.
  struct Op {
    std::string_view name;
    bool needs_session;
    Owner owner;
    Handler handler;
  };
  static const std::array<Op, static_cast<size_t>(ChatOp::kOther)> kOps;
  friend std::string_view chat_op_name(ChatOp op);
  friend ChatOp chat_op_of(std::string_view word);

  void handle(const InboundMessage& message, bool may_forward);
  // Whether `stream` (empty: none) is another node's and the request was handed to it.
  bool forwarded(const std::string& stream, std::string_view word, const InboundMessage& message);
  // Whether `stream`'s owner is another node, to which the request was then handed.
  bool hand_on(const std::string& stream, std::string_view word, std::string_view payload);

  void op_register(const Call& call);
  void op_login(const Call& call);
  void op_logout(const Call& call);
  void op_change_password(const Call& call);
  void op_set_security_question(const Call& call);
  void op_security_question(const Call& call);
  void op_reset_password(const Call& call);
  void op_whoami(const Call& call);
  void op_rooms(const Call& call);
  void op_create_room(const Call& call);
  void op_join(const Call& call);
  void op_leave(const Call& call);
  void op_members(const Call& call);
  void op_post(const Call& call);
  void op_history(const Call& call);
  void op_like(const Call& call);
  void op_unlike(const Call& call);
  void op_delete(const Call& call);
  // The field error of `call`, answered as kBadField.
  void bad_field(const Call& call, const Status& status);
  // The "room" and "message_id" of a like, unlike or delete; nullopt once a bad one is
  // answered.
  struct MessageRef {
    std::string room;
    uint64_t id = 0;
  };
  std::optional<MessageRef> message_ref(const Call& call);

  // channel "mqtt", source the {client} of the reply topic's PREFIX/inbox/{client}: what
  // the service throttles guessing by (with one shared bucket for all of MQTT, since client
  // ids are free to choose).
  chat::Caller caller(const Reply& reply) const;
  void send_ok(const Reply& reply, nlohmann::json fields);
  void send_error(const Reply& reply, ChatRejection reason, const Status& status);
  // Counts `reason`, logs, and answers on `fallback` when it is not empty; else drops.
  void refuse_without_reply(ChatOp op, ChatRejection reason, const std::string& why,
                            const Reply* fallback);
  // The service callback for `reply`: ok with `to_fields(value)`, or the service's error.
  template <class T, class F>
  chat::Callback<T> answer(const Reply& reply, F to_fields);

  Publisher& publisher_;
  chat::ChatService& service_;
  const ChatTopicsOptions options_;
  ChatTopicsCounters counters_;
  RateLimitedLog log_;
};

}  // namespace gh::mqtt_adapter
