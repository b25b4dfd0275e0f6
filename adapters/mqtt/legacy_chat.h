// The seed chat's own protocol (seeds/002, docs/protocol.md "MQTT: legacy chat"), so its
// unchanged Python clients keep working: requests on the bare topics register, login,
// chatsend, chatall, like, set_security_question, request_security_question and
// verify_security_answer, with str(dict) payloads (or JSON), answered with a Python literal
// on the request's returnTopic, which the client eval()s.
//
// Off unless configured on: the seed had no authentication. What it cannot have, it does not
// get: chatsend posts to the lobby as the named (registered) user, like counts anonymously,
// and set_security_question only sets a *first* question for a user registered over these
// topics, never an operator (the user model decides, from the channel "legacy" recorded at
// registration): with no session, anyone could otherwise set a question for any user and
// then reset the password with it. Logins and resets are throttled by returnTopic and
// together with all of MQTT (chat_service.h Caller).
//
// Payloads go through codec::parse_legacy_payload (never eval); replies through
// codec::to_py_literal (eval of them can only yield a literal). A returnTopic must pass
// validate_return_topic (no wildcards, no '$', nothing under gatehouse's prefix, none of the
// topics gatehouse listens on): a refused one drops the request, counted and logged at a
// limited rate, since there is nowhere safe to answer. A request without returnTopic (the
// seed's Like client sends none) is carried out and counted as unanswered. Unparseable,
// oversized and retained payloads are dropped and counted.
//
// Thread-safety: as ChatTopics (chat_topics.h). The publisher and the service must outlive
// every call in flight.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
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

struct LegacyChatOptions {
  // returnTopics equal to it or below it are refused: gatehouse's own namespace.
  std::string own_prefix = "gatehouse";
  // More exact topics a returnTopic must not name, e.g. the seed-000 legacy device topics
  // when those are on too. The eight legacy chat topics are always refused.
  std::vector<std::string> reserved_topics;
  size_t max_payload_bytes = 16 * 1024;
  size_t max_depth = 16;
  size_t max_return_topic_bytes = kMaxReplyTopicBytes;
  size_t chatall_max_messages = 200;  // the newest lobby messages chatall returns
  int qos = 1;
  RateLimitedLog::Sink log;  // refused requests; empty: stderr
  std::chrono::milliseconds log_interval{10000};
};

enum class LegacyTopic : size_t {
  kRegister,
  kLogin,
  kChatSend,
  kChatAll,
  kLike,
  kSetSecurityQuestion,
  kRequestSecurityQuestion,
  kVerifySecurityAnswer,
  kOther,
  kCount
};

enum class LegacyRejection : size_t {
  kTooLarge,         // payload over max_payload_bytes or nested deeper than max_depth
  kBadPayload,       // not a Python literal or JSON, or not a dict: dropped
  kBadField,         // a field missing or of the wrong type: answered with code 0
  kRetained,         // a retained request: dropped
  kBadReturnTopic,   // refused returnTopic: dropped
  kServiceRejected,  // the chat service refused: answered with code 0
  kCount
};

std::string_view legacy_topic_name(LegacyTopic topic);           // "register", ..., "other"
std::string_view legacy_rejection_name(LegacyRejection reason);  // "too_large", ...

struct LegacyChatCounters {
  codec::LabelledCounter<LegacyTopic> received;
  codec::LabelledCounter<LegacyRejection> rejected;
  std::atomic<uint64_t> replies{0};
  std::atomic<uint64_t> unanswered{0};  // carried out, but no returnTopic was given
  std::atomic<uint64_t> dropped{0};     // refused with nowhere safe to answer

  uint64_t received_of(LegacyTopic t) const { return received.get(t); }
  uint64_t rejected_of(LegacyRejection r) const { return rejected.get(r); }
};

class LegacyChat {
 public:
  LegacyChat(Publisher& publisher, chat::ChatService& service, LegacyChatOptions options);

  // The eight bare topics, exactly as the seed's server subscribed to them.
  static std::vector<std::string> topics();

  // Routes topics() to on_message() on `connection` (or the adapter's); before it starts.
  Status install(MqttConnection& connection);
  Status install(MqttAdapter& adapter);

  // Handles one request from the broker. Never blocks, never throws.
  void on_message(const std::string& topic, const std::string& payload, bool retained = false);

  const LegacyChatCounters& counters() const { return counters_; }
  uint64_t log_lines_suppressed() const { return log_.suppressed(); }

  // For MetricsSources::extra:
  //   gatehouse_mqtt_legacy_chat_received_total{topic="..."}
  //   gatehouse_mqtt_legacy_chat_rejected_total{reason="..."}
  //   gatehouse_mqtt_legacy_chat_replies_total, _unanswered_total, _dropped_total
  std::vector<std::pair<std::string, double>> metrics() const;

  // "2024-06-01 12:00:00.123000" (UTC): what str() of the seed's datetime looked like.
  static std::string legacy_time(int64_t unix_ms);

 private:
  struct ChatAllJob;

  void on_register(const nlohmann::json& request, const std::string& reply_to);
  void on_login(const nlohmann::json& request, const std::string& reply_to);
  void on_chatsend(const nlohmann::json& request, const std::string& reply_to);
  void on_chatall(const std::string& reply_to);
  void on_like(const nlohmann::json& request, const std::string& reply_to);
  void on_set_question(const nlohmann::json& request, const std::string& reply_to);
  void on_request_question(const nlohmann::json& request, const std::string& reply_to);
  void on_verify_answer(const nlohmann::json& request, const std::string& reply_to);

  void fetch_chatall_page(std::shared_ptr<ChatAllJob> job, uint64_t before_id);
  void finish_chatall(const ChatAllJob& job);
  uint64_t sender_id(const std::string& user);

  // Publishes to_py_literal(value) on `reply_to`, or counts an unanswered request when it
  // is empty.
  void reply(const std::string& reply_to, const nlohmann::json& value);
  void drop(LegacyTopic topic, LegacyRejection reason, const std::string& why);

  Publisher& publisher_;
  chat::ChatService& service_;
  const LegacyChatOptions options_;
  std::vector<std::string> reserved_;  // topics() + options_.reserved_topics
  LegacyChatCounters counters_;
  RateLimitedLog log_;
  std::mutex numbers_mu_;
  std::unordered_map<std::string, uint64_t> numbers_;  // user -> user_number, bounded
};

}  // namespace gh::mqtt_adapter
