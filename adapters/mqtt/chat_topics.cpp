#include "adapters/mqtt/chat_topics.h"

#include <exception>

#include "actors/user/user_rules.h"
#include "adapters/codec/chat_json.h"
#include "adapters/codec/iso_time.h"
#include "adapters/codec/json_reply.h"
#include "adapters/mqtt/mqtt_adapter.h"
#include "events/log.h"
#include "events/stream_name.h"
#include "events/utf8.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(ChatRejection::kCount)> kRejectionNames =
    {"too_large",   "bad_json",     "unknown_op",      "bad_field",       "retained",
     "no_reply_to", "bad_reply_to", "unauthenticated", "service_rejected"};

constexpr size_t kMaxJsonDepth = 32;

// The {client} of a validated reply topic PREFIX/inbox/{client}[/...]: the requester, as far
// as the broker's inbox rule tells (only {client} may read there). Empty when there is none.
std::string inbox_client(std::string_view topic, std::string_view prefix) {
  const std::string head = std::string(prefix) + "/inbox/";
  if (topic.substr(0, head.size()) != head) return {};
  topic.remove_prefix(head.size());
  return std::string(topic.substr(0, topic.find('/')));
}

// Echoing input in an error: short and printable.
std::string excerpt(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  for (char c : text.substr(0, kMax)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  if (text.size() > kMax) out += "...";
  return out + "'";
}

// ---- fields ----

Result<std::string> string_field(const json& request, const char* name, bool required = true) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) {
    if (!required) return std::string();
    return invalid_argument(std::string("missing field '") + name + "'");
  }
  if (!it->is_string())
    return invalid_argument(std::string("field '") + name + "' must be a string");
  return it->get<std::string>();
}

// A non-negative JSON integer; `fallback` when absent and not required.
Result<uint64_t> uint_field(const json& request, const char* name, bool required,
                            uint64_t fallback = 0) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) {
    if (!required) return fallback;
    return invalid_argument(std::string("missing field '") + name + "'");
  }
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    return static_cast<uint64_t>(it->get<int64_t>());
  }
  return invalid_argument(std::string("field '") + name + "' must be a non-negative integer");
}

Result<uint64_t> limit_field(const json& request, const char* name, uint64_t fallback,
                             uint64_t max) {
  auto value = uint_field(request, name, false, fallback);
  if (!value) return value;
  if (*value < 1 || *value > max) {
    return invalid_argument(std::string("field '") + name + "' must be 1.." + std::to_string(max));
  }
  return value;
}

// ---- recovering where to answer a payload that does not parse ----

// Collects the top-level "id" and "reply_to" of a JSON object as the SAX parser meets them,
// so that they survive a syntax error (or a cut) further on. Stops below kMaxJsonDepth.
class Sniffer final : public json::json_sax_t {
 public:
  json id;
  std::string reply_to;

  bool null() override { return scalar(nullptr); }
  bool boolean(bool) override { return scalar(nullptr); }
  bool number_integer(number_integer_t v) override { return scalar(v); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(v); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(v); }
  bool string(string_t& v) override {
    if (depth_ == 1 && key_ == "reply_to") reply_to = v;
    return scalar(v);
  }
  bool binary(binary_t&) override { return scalar(nullptr); }
  bool start_object(std::size_t) override { return enter(); }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool scalar(json value) {
    if (depth_ == 1 && key_ == "id" && (value.is_string() || value.is_number())) id = value;
    key_.clear();
    return true;
  }
  bool enter() {
    key_.clear();
    return ++depth_ <= kMaxJsonDepth;
  }
  bool leave() {
    --depth_;
    return true;
  }
  size_t depth_ = 0;
  std::string key_;
};

void sniff(std::string_view payload, size_t max_bytes, json& id, std::string& reply_to) {
  Sniffer sniffer;
  try {
    auto text = payload.substr(0, max_bytes);
    (void)json::sax_parse(text.begin(), text.end(), &sniffer, json::input_format_t::json,
                          /*strict=*/true);
  } catch (const std::exception&) {
  }
  id = std::move(sniffer.id);
  reply_to = std::move(sniffer.reply_to);
}

}  // namespace

const std::array<ChatTopics::Op, static_cast<size_t>(ChatOp::kOther)> ChatTopics::kOps = {{
    {"register", false, Owner::kNamedUser, &ChatTopics::op_register},
    {"login", false, Owner::kNamedUser, &ChatTopics::op_login},
    {"logout", true, Owner::kSessionUser, &ChatTopics::op_logout},
    {"change_password", true, Owner::kSessionUser, &ChatTopics::op_change_password},
    {"set_security_question", true, Owner::kSessionUser, &ChatTopics::op_set_security_question},
    {"security_question", false, Owner::kNamedUser, &ChatTopics::op_security_question},
    {"reset_password", false, Owner::kNamedUser, &ChatTopics::op_reset_password},
    {"whoami", true, Owner::kAny, &ChatTopics::op_whoami},
    {"rooms", true, Owner::kAny, &ChatTopics::op_rooms},
    {"create_room", true, Owner::kRoom, &ChatTopics::op_create_room},
    {"join", true, Owner::kRoom, &ChatTopics::op_join},
    {"leave", true, Owner::kRoom, &ChatTopics::op_leave},
    {"members", true, Owner::kRoom, &ChatTopics::op_members},
    {"post", true, Owner::kRoom, &ChatTopics::op_post},
    {"history", true, Owner::kRoom, &ChatTopics::op_history},
    {"like", true, Owner::kRoom, &ChatTopics::op_like},
    {"unlike", true, Owner::kRoom, &ChatTopics::op_unlike},
    {"delete", true, Owner::kRoom, &ChatTopics::op_delete},
}};

std::string_view chat_op_name(ChatOp op) {
  const auto i = static_cast<size_t>(op);
  return i < ChatTopics::kOps.size() ? ChatTopics::kOps[i].name : "other";
}

ChatOp chat_op_of(std::string_view word) {
  for (size_t i = 0; i < ChatTopics::kOps.size(); ++i) {
    if (ChatTopics::kOps[i].name == word) return static_cast<ChatOp>(i);
  }
  return ChatOp::kOther;
}

std::string_view chat_rejection_name(ChatRejection r) {
  auto i = static_cast<size_t>(r);
  return i < kRejectionNames.size() ? kRejectionNames[i] : "unknown";
}

ChatTopics::ChatTopics(Publisher& publisher, chat::ChatService& service, ChatTopicsOptions options)
    : publisher_(publisher),
      service_(service),
      options_(std::move(options)),
      log_(options_.log, options_.log_interval) {}

std::vector<std::string> ChatTopics::subscriptions() const { return {options_.prefix + "/chat/+"}; }

std::string ChatTopics::request_topic(std::string_view op) const {
  return options_.prefix + "/chat/" + std::string(op);
}

std::string ChatTopics::room_events_topic(const std::string& room) const {
  return options_.prefix + "/rooms/" + room + "/events";
}

Status ChatTopics::install(MqttConnection& connection) {
  return connection.add_request_handler(subscriptions(), options_.qos,
                                        [this](const InboundMessage& m) { on_message(m); });
}

Status ChatTopics::install(MqttAdapter& adapter) { return install(adapter.connection()); }

// ---- answering ----

namespace {
// One line per answered chat request, as HTTP logs its requests: the op and the outcome
// ("ok" or the error code), never the payload (passwords, answers, session tokens).
void log_request(const ChatTopics::Reply& reply, std::string_view outcome) {
  if (!log::enabled(log::Level::kInfo)) return;
  log::info("mqtt", "chat request",
            {{"op", std::string(chat_op_name(reply.op))}, {"outcome", std::string(outcome)}});
}
}  // namespace

void ChatTopics::send_ok(const Reply& reply, json fields) {
  json body = codec::ok_reply(std::move(fields));
  body["id"] = reply.id;
  body["op"] = std::string(chat_op_name(reply.op));
  // Counted first: once the answer is out, a reader of the counters must see it.
  counters_.replies_ok.fetch_add(1);
  publisher_.publish_response(reply.topic, codec::to_wire(body), options_.qos, reply.correlation);
  log_request(reply, "ok");
}

void ChatTopics::send_error(const Reply& reply, ChatRejection reason, const Status& status) {
  counters_.rejected.count(reason);
  json body = codec::error_reply(status);
  // A throttled attempt says when to try again, as HTTP's Retry-After does.
  if (int64_t seconds = chat::retry_after_seconds(status); seconds > 0)
    body["error"]["retry_after"] = seconds;
  body["id"] = reply.id;
  body["op"] = std::string(chat_op_name(reply.op));
  counters_.replies_error.fetch_add(1);
  publisher_.publish_response(reply.topic, codec::to_wire(body), options_.qos, reply.correlation);
  log_request(reply, code_name(status.code()));
}

void ChatTopics::refuse_without_reply(ChatOp op, ChatRejection reason, const std::string& why,
                                      const Reply* fallback) {
  if (fallback != nullptr && !fallback->topic.empty()) {
    log_.log("mqtt chat/" + std::string(chat_op_name(op)) + ": " + why + "; error sent to " +
             fallback->topic);
    send_error(*fallback, reason, invalid_argument(why));
    return;
  }
  counters_.rejected.count(reason);
  counters_.dropped.fetch_add(1);
  log_.log("mqtt chat/" + std::string(chat_op_name(op)) + ": " + why + "; dropped (" +
           std::string(chat_rejection_name(reason)) + ")");
}

template <class T, class F>
chat::Callback<T> ChatTopics::answer(const Reply& reply, F to_fields) {
  // Runs on an actor or hashing thread: only builds JSON and publishes.
  return [this, reply, to_fields = std::move(to_fields)](Result<T> result) {
    if (!result) return send_error(reply, ChatRejection::kServiceRejected, result.status());
    send_ok(reply, to_fields(*result));
  };
}

// ---- requests ----

void ChatTopics::on_message(const InboundMessage& message) { handle(message, true); }

void ChatTopics::on_forwarded(const InboundMessage& message) { handle(message, false); }

bool ChatTopics::hand_on(const std::string& stream, std::string_view word,
                         std::string_view payload) {
  auto owner = options_.owner_elsewhere(stream);
  if (!owner) return false;
  // Counted first: once the owner's answer is out, a reader of the counters must see it.
  counters_.forwarded.fetch_add(1);
  options_.hand_on(*owner, word, payload);
  return true;
}

bool ChatTopics::forwarded(const std::string& stream, std::string_view word,
                           const InboundMessage& message) {
  // MQTT 5's Response Topic and Correlation Data would not travel with the payload: such a
  // request is served here (NATS, where requests are handed on, speaks MQTT 3.1.1 only).
  if (!options_.owner_elsewhere || message.has_correlation_data || !message.response_topic.empty())
    return false;
  return hand_on(stream, word, message.payload);
}

namespace {
// The stream whose owner serves a request about the entity in `field`; empty when the field
// holds no valid id (the op answers that itself).
std::string entity_stream(const json& request, const char* field, std::string_view kind) {
  auto it = request.find(field);
  if (it == request.end() || !it->is_string() || !is_valid_id(it->get_ref<const std::string&>()))
    return {};
  return std::string(kind) + "/" + it->get<std::string>();
}
}  // namespace

void ChatTopics::handle(const InboundMessage& message, bool may_forward) {
  const std::string head = options_.prefix + "/chat/";
  std::string_view word;
  if (message.topic.starts_with(head)) word = message.topic.substr(head.size());
  const ChatOp op = chat_op_of(word);
  counters_.received.count(op);

  Reply reply;
  reply.op = op;
  if (message.has_correlation_data) reply.correlation = std::string(message.correlation_data);
  const std::string response_topic(message.response_topic);

  // A payload we will not parse: answer only if we can tell where.
  auto refuse_payload = [&](ChatRejection reason, const Status& status) {
    std::string reply_to = response_topic;
    json id;
    std::string sniffed;
    sniff(message.payload, options_.max_payload_bytes, id, sniffed);
    if (reply_to.empty()) reply_to = sniffed;
    reply.id = id;
    if (reply_to.empty()) {
      return refuse_without_reply(op, reason, status.message() + " and no reply_to", nullptr);
    }
    if (auto v = validate_reply_to(reply_to, options_.prefix, options_.max_reply_topic_bytes);
        !v.is_ok()) {
      Reply fallback = reply;
      fallback.topic = inbox_error_topic(reply_to, options_.prefix);
      return refuse_without_reply(op, ChatRejection::kBadReplyTo, v.message(), &fallback);
    }
    reply.topic = reply_to;
    send_error(reply, reason, status);
  };

  if (message.payload.size() > options_.max_payload_bytes) {
    return refuse_payload(
        ChatRejection::kTooLarge,
        too_large("request of " + std::to_string(message.payload.size()) +
                  " bytes exceeds the limit of " + std::to_string(options_.max_payload_bytes)));
  }
  auto parsed = codec::parse_json(message.payload, options_.max_payload_bytes, kMaxJsonDepth);
  if (!parsed) {
    return refuse_payload(parsed.status().code() == Code::kTooLarge ? ChatRejection::kTooLarge
                                                                    : ChatRejection::kBadJson,
                          parsed.status());
  }
  if (!parsed->is_object()) {
    return refuse_payload(ChatRejection::kBadJson,
                          invalid_argument("a request must be a JSON object"));
  }
  const json& request = *parsed;  // parsed once: every op reads its fields from here

  // Where to answer.
  std::string reply_to = response_topic;
  if (reply_to.empty()) {
    auto it = request.find("reply_to");
    if (it != request.end() && it->is_string()) reply_to = it->get<std::string>();
  }
  bool id_ok = true;
  if (auto it = request.find("id"); it != request.end() && !it->is_null()) {
    if (it->is_number() ||
        (it->is_string() && it->get_ref<const std::string&>().size() <= options_.max_id_bytes)) {
      reply.id = *it;
    } else {
      id_ok = false;
    }
  }
  if (reply_to.empty()) {
    return refuse_without_reply(op, ChatRejection::kNoReplyTo,
                                "request without reply_to or Response Topic", nullptr);
  }
  if (auto v = validate_reply_to(reply_to, options_.prefix, options_.max_reply_topic_bytes);
      !v.is_ok()) {
    Reply fallback = reply;
    fallback.topic = inbox_error_topic(reply_to, options_.prefix);
    return refuse_without_reply(op, ChatRejection::kBadReplyTo, v.message(), &fallback);
  }
  reply.topic = std::move(reply_to);

  if (!id_ok) {
    return send_error(reply, ChatRejection::kBadField,
                      invalid_argument("field 'id' must be a number or a string of at most " +
                                       std::to_string(options_.max_id_bytes) + " bytes"));
  }
  if (message.retained) {
    return send_error(reply, ChatRejection::kRetained,
                      invalid_argument("requests must not be published retained"));
  }
  if (op == ChatOp::kOther) {
    return send_error(
        reply, ChatRejection::kUnknownOp,
        invalid_argument("unknown op " + excerpt(word) + " in topic " + excerpt(message.topic)));
  }
  const Op& entry = kOps[static_cast<size_t>(op)];
  // Cluster mode: a request about another node's room or user is answered by that node,
  // which checks the caller's session itself; everything above was answered here.
  if (may_forward && (entry.owner == Owner::kRoom || entry.owner == Owner::kNamedUser)) {
    const auto stream = entity_stream(request, entry.owner == Owner::kRoom ? "room" : "name",
                                      entry.owner == Owner::kRoom ? "room" : "user");
    if (!stream.empty() && forwarded(stream, word, message)) return;
  }
  static const std::string kNoToken;
  static const chat::Identity kNobody;
  if (!entry.needs_session) return (this->*entry.handler)(Call{request, reply, kNoToken, kNobody});

  auto token = string_field(request, "token", false);
  if (!token) return send_error(reply, ChatRejection::kBadField, token.status());
  if (token->empty()) {
    return send_error(reply, ChatRejection::kUnauthenticated,
                      unauthenticated("this op needs a session: log in and pass its \"token\""));
  }
  // An op of the session's own user is handed to the user's owner once the session says who
  // it is (any node checks a session: docs/cluster.md, "Chat across nodes").
  const bool by_user_owner = may_forward && entry.owner == Owner::kSessionUser &&
                             options_.owner_elsewhere && message.response_topic.empty() &&
                             !message.has_correlation_data;
  service_.authenticate(
      *token, [this, handler = entry.handler, request = std::move(*parsed), token = *token, reply,
               word = by_user_owner ? std::string(word) : std::string(),
               copy = by_user_owner ? std::string(message.payload) : std::string(),
               by_user_owner](Result<chat::Identity> who) {
        if (!who) return send_error(reply, ChatRejection::kUnauthenticated, who.status());
        if (by_user_owner && hand_on("user/" + who->user, word, copy)) return;
        (this->*handler)(Call{request, reply, token, *who});
      });
}

chat::Caller ChatTopics::caller(const Reply& reply) const {
  return chat::Caller{"mqtt", inbox_client(reply.topic, options_.prefix)};
}

void ChatTopics::bad_field(const Call& call, const Status& status) {
  send_error(call.reply, ChatRejection::kBadField, status);
}

namespace {

json room_fields(const chat::RoomView& room) { return json{{"room", codec::to_json(room)}}; }
json message_fields(const chat::MessageView& m) { return json{{"message", codec::to_json(m)}}; }
json no_fields(const chat::Ack&) { return json::object(); }

}  // namespace

// ---- the ops without a session: how one gets (back) a session ----

void ChatTopics::op_register(const Call& call) {
  auto name = string_field(call.request, "name");
  if (!name) return bad_field(call, name.status());
  auto password = string_field(call.request, "password");
  if (!password) return bad_field(call, password.status());
  service_.register_user(*name, *password, caller(call.reply),
                         answer<chat::UserView>(call.reply, [](const chat::UserView& user) {
                           return json{{"user", codec::to_json(user)}};
                         }));
}

void ChatTopics::op_login(const Call& call) {
  auto name = string_field(call.request, "name");
  if (!name) return bad_field(call, name.status());
  auto password = string_field(call.request, "password");
  if (!password) return bad_field(call, password.status());
  service_.login(*name, *password, caller(call.reply),
                 answer<chat::LoginResult>(call.reply, [](const chat::LoginResult& session) {
                   return codec::to_json(session);
                 }));
}

void ChatTopics::op_security_question(const Call& call) {
  auto name = string_field(call.request, "name");
  if (!name) return bad_field(call, name.status());
  service_.security_question(
      *name, answer<std::string>(call.reply, [user = *name](const std::string& question) {
        return json{{"user", user}, {"question", question}};
      }));
}

void ChatTopics::op_reset_password(const Call& call) {
  auto name = string_field(call.request, "name");
  if (!name) return bad_field(call, name.status());
  auto answer_text = string_field(call.request, "answer");
  if (!answer_text) return bad_field(call, answer_text.status());
  auto password = string_field(call.request, "new_password");
  if (!password) return bad_field(call, password.status());
  service_.reset_password(*name, *answer_text, *password, caller(call.reply),
                          answer<chat::Ack>(call.reply, no_fields));
}

// ---- the account, with a session ----

void ChatTopics::op_logout(const Call& call) {
  service_.logout(call.token, answer<chat::Ack>(call.reply, no_fields));
}

void ChatTopics::op_change_password(const Call& call) {
  auto old_password = string_field(call.request, "old_password");
  if (!old_password) return bad_field(call, old_password.status());
  auto new_password = string_field(call.request, "new_password");
  if (!new_password) return bad_field(call, new_password.status());
  // A wrong current password is the service's kPermissionDenied.
  service_.change_password(call.token, *old_password, *new_password, caller(call.reply),
                           answer<chat::Ack>(call.reply, no_fields));
}

void ChatTopics::op_set_security_question(const Call& call) {
  auto question = string_field(call.request, "question");
  if (!question) return bad_field(call, question.status());
  auto answer_text = string_field(call.request, "answer");
  if (!answer_text) return bad_field(call, answer_text.status());
  auto password = string_field(call.request, "password");
  if (!password) return bad_field(call, password.status());
  // The service checks the session, the password (throttled, without a login or logout) and
  // the question and answer.
  service_.set_own_security_question(call.token, *password, *question, *answer_text,
                                     caller(call.reply), answer<chat::Ack>(call.reply, no_fields));
}

void ChatTopics::op_whoami(const Call& call) {
  service_.get_user(call.who.user,
                    answer<chat::UserView>(call.reply, [expires = call.who.session_expires_at_ms](
                                                           const chat::UserView& user) {
                      return json{{"user", codec::to_json(user)},
                                  {"session", {{"expires_at", codec::iso8601_or_null(expires)}}}};
                    }));
}

// ---- rooms ----

void ChatTopics::op_rooms(const Call& call) {
  auto after = string_field(call.request, "after", false);
  if (!after) return bad_field(call, after.status());
  if (!after->empty() && !is_valid_id(*after)) {
    return bad_field(call, invalid_argument("field 'after' must be a room name"));
  }
  auto limit =
      limit_field(call.request, "limit", options_.rooms_page_default, options_.rooms_page_max);
  if (!limit) return bad_field(call, limit.status());
  // One more than asked tells whether another page exists.
  auto rooms = service_.list_rooms(*after, *limit + 1);
  if (!rooms) return send_error(call.reply, ChatRejection::kServiceRejected, rooms.status());
  json next = nullptr;
  if (rooms->size() > *limit) {
    rooms->resize(*limit);
    next = rooms->back();
  }
  send_ok(call.reply, {{"rooms", *rooms}, {"next", next}});
}

void ChatTopics::op_create_room(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) return bad_field(call, room.status());
  service_.create_room(call.who, *room, answer<chat::RoomView>(call.reply, room_fields));
}

void ChatTopics::op_join(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) return bad_field(call, room.status());
  service_.join(call.who, *room, answer<chat::RoomView>(call.reply, room_fields));
}

void ChatTopics::op_leave(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) return bad_field(call, room.status());
  service_.leave(call.who, *room, answer<chat::RoomView>(call.reply, room_fields));
}

void ChatTopics::op_members(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) return bad_field(call, room.status());
  service_.get_room(*room, answer<chat::RoomView>(call.reply, room_fields));
}

// ---- messages ----

void ChatTopics::op_post(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) return bad_field(call, room.status());
  auto text = string_field(call.request, "text");
  if (!text) return bad_field(call, text.status());
  auto client_msg_id = string_field(call.request, "client_msg_id", false);
  if (!client_msg_id) return bad_field(call, client_msg_id.status());
  service_.post(call.who, *room, *text, *client_msg_id,
                answer<chat::MessageView>(call.reply, message_fields));
}

void ChatTopics::op_history(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) return bad_field(call, room.status());
  auto before = uint_field(call.request, "before", false);
  if (!before) return bad_field(call, before.status());
  // The service's largest page (room_model.h kMaxPageSize).
  auto limit = limit_field(call.request, "limit", options_.history_page_default, 100);
  if (!limit) return bad_field(call, limit.status());
  service_.history(
      call.who, *room, *before, *limit,
      answer<chat::HistoryView>(call.reply, [name = *room](const chat::HistoryView& page) {
        json fields = codec::to_json(page);
        fields["room"] = name;
        return fields;
      }));
}

std::optional<ChatTopics::MessageRef> ChatTopics::message_ref(const Call& call) {
  auto room = string_field(call.request, "room");
  if (!room) {
    bad_field(call, room.status());
    return std::nullopt;
  }
  auto message_id = uint_field(call.request, "message_id", true);
  if (!message_id) {
    bad_field(call, message_id.status());
    return std::nullopt;
  }
  return MessageRef{std::move(*room), *message_id};
}

void ChatTopics::op_like(const Call& call) {
  if (auto ref = message_ref(call)) {
    service_.like(call.who, ref->room, ref->id,
                  answer<chat::MessageView>(call.reply, message_fields));
  }
}

void ChatTopics::op_unlike(const Call& call) {
  if (auto ref = message_ref(call)) {
    service_.unlike(call.who, ref->room, ref->id,
                    answer<chat::MessageView>(call.reply, message_fields));
  }
}

void ChatTopics::op_delete(const Call& call) {
  if (auto ref = message_ref(call)) {
    service_.delete_message(call.who, ref->room, ref->id, answer<chat::Ack>(call.reply, no_fields));
  }
}

// ---- room updates ----

void ChatTopics::on_room_update(const chat::RoomUpdate& update) {
  // Room names reach us validated; checked again because they become a topic level.
  if (!is_valid_id(update.room)) return;
  counters_.updates_published.fetch_add(1);
  publisher_.publish(room_events_topic(update.room), codec::to_wire(codec::to_json(update)),
                     options_.qos, false);
}

std::vector<std::pair<std::string, double>> ChatTopics::metrics() const {
  std::vector<std::pair<std::string, double>> out;
  auto add = [&out](std::string name, uint64_t value) {
    codec::add_series(out, std::move(name), value);
  };
  counters_.received.append_to(out, "gatehouse_mqtt_chat_received_total", "op", chat_op_name);
  counters_.rejected.append_to(out, "gatehouse_mqtt_chat_rejected_total", "reason",
                               chat_rejection_name);
  add("gatehouse_mqtt_chat_replies_total{result=\"ok\"}", counters_.replies_ok.load());
  add("gatehouse_mqtt_chat_replies_total{result=\"error\"}", counters_.replies_error.load());
  add("gatehouse_mqtt_chat_dropped_total", counters_.dropped.load());
  add("gatehouse_mqtt_chat_updates_published_total", counters_.updates_published.load());
  if (options_.owner_elsewhere)
    add("gatehouse_mqtt_chat_forwarded_total", counters_.forwarded.load());
  return out;
}

}  // namespace gh::mqtt_adapter
