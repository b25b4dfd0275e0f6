#include "adapters/mqtt/legacy_chat.h"

#include <algorithm>

#include "adapters/codec/iso_time.h"
#include "adapters/codec/py_literal.h"
#include "adapters/mqtt/mqtt_adapter.h"
#include "events/log.h"

namespace gh::mqtt_adapter {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, static_cast<size_t>(LegacyTopic::kCount)> kTopicNames = {
    "register",
    "login",
    "chatsend",
    "chatall",
    "like",
    "set_security_question",
    "request_security_question",
    "verify_security_answer",
    "other"};

constexpr std::array<std::string_view, static_cast<size_t>(LegacyRejection::kCount)>
    kRejectionNames = {"too_large", "bad_payload",      "bad_field",
                       "retained",  "bad_return_topic", "service_rejected"};

constexpr std::string_view kLobby = "lobby";  // room_model.h kLobby: the seed had one room
constexpr size_t kMaxPage = 100;              // the service's largest history page
constexpr size_t kMaxCachedNumbers = 10000;

// The seed server's own answers, kept word for word: its clients print them.
constexpr const char* kRegistered = "用户添加成功!";
constexpr const char* kUserExists = "用户添加失败,用户存在";
constexpr const char* kRegisterServerError = "用户添加失败,错误发生在服务器!";
constexpr const char* kBadCredentials = "账号或密码错误";
constexpr const char* kWelcomeBack = "验证通过,欢迎回来";
constexpr const char* kSent = "消息发送成功";
constexpr const char* kSendFailed = "消息发送失败";
constexpr const char* kNoSuchSender = "消息发送失败,找不到用户";
constexpr const char* kLikeFailed = "点赞失败";

LegacyTopic topic_of(std::string_view topic) {
  for (size_t i = 0; i + 1 < kTopicNames.size(); ++i) {
    if (kTopicNames[i] == topic) return static_cast<LegacyTopic>(i);
  }
  return LegacyTopic::kOther;
}

// Who is calling: channel "legacy" (recorded when a user registers: that makes a legacy
// user), and the returnTopic as the source the service throttles by (with one shared
// bucket for all of MQTT, since topics are free to choose).
chat::Caller legacy_caller(const std::string& reply_to) { return chat::Caller{"legacy", reply_to}; }

json code_message(int code, const std::string& message) {
  return {{"code", code}, {"message", message}};
}

// A string field; numbers are accepted as their text for free-text fields (a seed client
// that sends message=1234 meant the text "1234").
Result<std::string> text_field(const json& request, const char* name, bool numbers_ok = false) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) {
    return invalid_argument(std::string("missing '") + name + "'");
  }
  if (it->is_string()) return it->get<std::string>();
  if (numbers_ok && it->is_number()) return it->dump();
  return invalid_argument(std::string("'") + name + "' must be a string");
}

}  // namespace

std::string_view legacy_topic_name(LegacyTopic topic) {
  return kTopicNames[std::min(static_cast<size_t>(topic), kTopicNames.size() - 1)];
}

std::string_view legacy_rejection_name(LegacyRejection reason) {
  auto i = static_cast<size_t>(reason);
  return i < kRejectionNames.size() ? kRejectionNames[i] : "unknown";
}

struct LegacyChat::ChatAllJob {
  std::string reply_to;
  size_t max = 0;
  std::vector<chat::MessageView> messages;  // newest first
};

LegacyChat::LegacyChat(Publisher& publisher, chat::ChatService& service, LegacyChatOptions options)
    : publisher_(publisher),
      service_(service),
      options_(std::move(options)),
      log_(options_.log, options_.log_interval) {
  reserved_ = topics();
  reserved_.insert(reserved_.end(), options_.reserved_topics.begin(),
                   options_.reserved_topics.end());
}

std::vector<std::string> LegacyChat::topics() {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < kTopicNames.size(); ++i) out.emplace_back(kTopicNames[i]);
  return out;
}

Status LegacyChat::install(MqttConnection& connection) {
  return connection.add_handler(topics(), options_.qos,
                                [this](const std::string& topic, const std::string& payload,
                                       bool retained) { on_message(topic, payload, retained); });
}

Status LegacyChat::install(MqttAdapter& adapter) { return install(adapter.connection()); }

std::string LegacyChat::legacy_time(int64_t unix_ms) {
  // "2026-11-23T09:04:23.123Z" -> "2026-11-23 09:04:23.123000"
  std::string iso = codec::iso8601_ms(unix_ms);
  if (iso.size() == 24 && iso[10] == 'T' && iso.back() == 'Z') {
    iso[10] = ' ';
    iso.pop_back();
    iso += "000";
  }
  return iso;
}

void LegacyChat::reply(const std::string& reply_to, const json& value) {
  if (reply_to.empty()) {
    counters_.unanswered.fetch_add(1);
    return;
  }
  counters_.replies.fetch_add(1);  // first: once the answer is out, the count shows it
  publisher_.publish(reply_to, codec::to_py_literal(value), options_.qos, false);
}

void LegacyChat::drop(LegacyTopic topic, LegacyRejection reason, const std::string& why) {
  counters_.rejected.count(reason);
  counters_.dropped.fetch_add(1);
  log_.log("mqtt legacy " + std::string(legacy_topic_name(topic)) + ": " + why + "; dropped (" +
           std::string(legacy_rejection_name(reason)) + ")");
}

void LegacyChat::on_message(const std::string& topic, const std::string& payload, bool retained) {
  const LegacyTopic which = topic_of(topic);
  counters_.received.count(which);
  if (which == LegacyTopic::kOther) return;  // not subscribed: a bridge's stray message
  if (retained) {
    // The broker hands a retained request to us again on every resubscribe.
    return drop(which, LegacyRejection::kRetained, "retained request");
  }
  if (payload.size() > options_.max_payload_bytes) {
    return drop(which, LegacyRejection::kTooLarge,
                "payload of " + std::to_string(payload.size()) + " bytes");
  }
  auto parsed = codec::parse_legacy_payload(
      payload, codec::PyLiteralLimits{options_.max_payload_bytes, options_.max_depth});
  if (!parsed) {
    return drop(which,
                parsed.status().code() == Code::kTooLarge ? LegacyRejection::kTooLarge
                                                          : LegacyRejection::kBadPayload,
                parsed.status().message());
  }
  const json& request = *parsed;
  std::string reply_to;
  if (auto it = request.find("returnTopic"); it != request.end() && !it->is_null()) {
    if (!it->is_string()) {
      return drop(which, LegacyRejection::kBadReturnTopic, "returnTopic is not a string");
    }
    reply_to = it->get<std::string>();
    if (auto v = validate_return_topic(reply_to, options_.own_prefix, reserved_,
                                       options_.max_return_topic_bytes);
        !v.is_ok()) {
      return drop(which, LegacyRejection::kBadReturnTopic, v.message());
    }
  }
  // One line per accepted legacy request, as v1 chat logs its answers: the op, never the
  // payload (passwords, answers). Dropped requests are logged by drop().
  if (log::enabled(log::Level::kInfo)) {
    log::info("mqtt", "legacy chat request", {{"op", std::string(legacy_topic_name(which))}});
  }
  switch (which) {
    case LegacyTopic::kRegister:
      return on_register(request, reply_to);
    case LegacyTopic::kLogin:
      return on_login(request, reply_to);
    case LegacyTopic::kChatSend:
      return on_chatsend(request, reply_to);
    case LegacyTopic::kChatAll:
      return on_chatall(reply_to);
    case LegacyTopic::kLike:
      return on_like(request, reply_to);
    case LegacyTopic::kSetSecurityQuestion:
      return on_set_question(request, reply_to);
    case LegacyTopic::kRequestSecurityQuestion:
      return on_request_question(request, reply_to);
    case LegacyTopic::kVerifySecurityAnswer:
      return on_verify_answer(request, reply_to);
    default:
      return;
  }
}

// ---- users ----

void LegacyChat::on_register(const json& request, const std::string& reply_to) {
  auto name = text_field(request, "userName");
  auto password = name ? text_field(request, "userPwd") : name;
  if (!password) {
    counters_.rejected.count(LegacyRejection::kBadField);
    return reply(reply_to, code_message(0, std::string(kRegisterServerError) + " " +
                                               password.status().message()));
  }
  service_.register_user(
      *name, *password, legacy_caller(reply_to), [this, reply_to](Result<chat::UserView> user) {
        if (user) return reply(reply_to, code_message(1, kRegistered));
        counters_.rejected.count(LegacyRejection::kServiceRejected);
        const Status& s = user.status();
        if (s.code() == Code::kAlreadyExists) return reply(reply_to, code_message(0, kUserExists));
        if (s.code() == Code::kInvalidArgument || s.code() == Code::kTooLarge) {
          // Our rules are stricter than the seed's (names, 8-character passwords): say which.
          return reply(reply_to, code_message(0, "用户添加失败: " + s.message()));
        }
        reply(reply_to, code_message(0, kRegisterServerError));
      });
}

void LegacyChat::on_login(const json& request, const std::string& reply_to) {
  auto name = text_field(request, "userName");
  auto password = name ? text_field(request, "userPwd") : name;
  if (!password) {
    counters_.rejected.count(LegacyRejection::kBadField);
    return reply(reply_to, code_message(0, kBadCredentials));
  }
  service_.login(*name, *password, legacy_caller(reply_to),
                 [this, reply_to, user = *name](Result<chat::LoginResult> r) {
                   if (r) {
                     // The seed has no sessions; leave none behind (a user has a bounded number of
                     // them, and legacy logins must not push out the web console's).
                     service_.logout(r->token, [](Result<chat::Ack>) {});
                     return reply(reply_to, code_message(1, kWelcomeBack + user));
                   }
                   counters_.rejected.count(LegacyRejection::kServiceRejected);
                   if (r.status().code() == Code::kUnauthenticated) {
                     return reply(reply_to, code_message(0, kBadCredentials));
                   }
                   reply(reply_to,
                         code_message(0, r.status().message()));  // throttled (retry in ...), busy
                 });
}

// ---- the lobby ----

void LegacyChat::on_chatsend(const json& request, const std::string& reply_to) {
  auto name = text_field(request, "userName");
  auto text = name ? text_field(request, "message", /*numbers_ok=*/true) : name;
  if (!text) {
    counters_.rejected.count(LegacyRejection::kBadField);
    return reply(reply_to,
                 code_message(0, std::string(kSendFailed) + ": " + text.status().message()));
  }
  // The seed trusted the name in the payload; so must we, but only for registered users.
  service_.get_user(*name, [this, reply_to, text = *text](Result<chat::UserView> user) {
    if (!user) {
      counters_.rejected.count(LegacyRejection::kServiceRejected);
      if (user.status().code() == Code::kNotFound) {
        return reply(reply_to, code_message(0, kNoSuchSender));
      }
      return reply(reply_to,
                   code_message(0, std::string(kSendFailed) + ": " + user.status().message()));
    }
    chat::Identity who;
    who.user = user->name;
    who.roles = user->roles;
    service_.post(
        who, std::string(kLobby), text, "", [this, reply_to](Result<chat::MessageView> posted) {
          if (posted) return reply(reply_to, code_message(1, kSent));
          counters_.rejected.count(LegacyRejection::kServiceRejected);
          reply(reply_to,
                code_message(0, std::string(kSendFailed) + ": " + posted.status().message()));
        });
  });
}

void LegacyChat::on_chatall(const std::string& reply_to) {
  auto job = std::make_shared<ChatAllJob>();
  job->reply_to = reply_to;
  job->max = std::max<size_t>(1, options_.chatall_max_messages);
  fetch_chatall_page(std::move(job), 0);
}

void LegacyChat::fetch_chatall_page(std::shared_ptr<ChatAllJob> job, uint64_t before_id) {
  const size_t want = std::min(kMaxPage, job->max - job->messages.size());
  // No viewer: the seed's list had no "liked by me".
  service_.history(chat::Identity{}, std::string(kLobby), before_id, want,
                   [this, job](Result<chat::HistoryView> page) {
                     if (!page) {
                       counters_.rejected.count(LegacyRejection::kServiceRejected);
                       // What the seed sent when its query failed: str(None).
                       return reply(job->reply_to, json(nullptr));
                     }
                     for (auto& m : page->messages) job->messages.push_back(std::move(m));
                     if (page->next_before_id != 0 && !page->messages.empty() &&
                         job->messages.size() < job->max) {
                       return fetch_chatall_page(job, page->next_before_id);
                     }
                     finish_chatall(*job);
                   });
}

void LegacyChat::finish_chatall(const ChatAllJob& job) {
  // The seed listed its table in id order: oldest first.
  json list = json::array();
  for (auto it = job.messages.rbegin(); it != job.messages.rend(); ++it) {
    list.push_back({{"id", it->id},
                    {"message", it->text},
                    {"senderId", sender_id(it->author)},
                    {"time", legacy_time(it->posted_at_ms)},
                    {"senderName", it->author}});
  }
  reply(job.reply_to, list);
}

uint64_t LegacyChat::sender_id(const std::string& user) {
  {
    std::lock_guard lock(numbers_mu_);
    if (auto it = numbers_.find(user); it != numbers_.end()) return it->second;
  }
  // A read of the user's first event; cached, since it never changes for a name.
  auto number = service_.user_number(user);
  if (!number) return 0;  // an erased author
  std::lock_guard lock(numbers_mu_);
  if (numbers_.size() >= kMaxCachedNumbers) numbers_.clear();
  numbers_[user] = *number;
  return *number;
}

void LegacyChat::on_like(const json& request, const std::string& reply_to) {
  uint64_t id = 0;
  auto it = request.find("message_id");
  if (it != request.end() && it->is_number_unsigned()) {
    id = it->get<uint64_t>();
  } else if (it != request.end() && it->is_number_integer() && it->get<int64_t>() > 0) {
    id = static_cast<uint64_t>(it->get<int64_t>());
  } else if (it != request.end() && it->is_string()) {
    // Like(messageId) passes on whatever it was given; a form field is a string.
    const auto& s = it->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 19 &&
        std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      id = std::stoull(s);
    }
  }
  if (id == 0) {
    counters_.rejected.count(LegacyRejection::kBadField);
    return reply(reply_to, code_message(0, kLikeFailed));
  }
  service_.like_anonymously(
      std::string(kLobby), id, [this, reply_to](Result<chat::MessageView> liked) {
        if (liked) {
          return reply(reply_to, {{"code", 1}, {"like_count", liked->like_count}});
        }
        counters_.rejected.count(LegacyRejection::kServiceRejected);
        reply(reply_to, code_message(0, kLikeFailed));
      });
}

// ---- the security question ----

void LegacyChat::on_set_question(const json& request, const std::string& reply_to) {
  auto failed = [this, reply_to](LegacyRejection reason, const Status& s) {
    counters_.rejected.count(reason);
    reply(reply_to, {{"action", "set_question"}, {"code", 0}, {"message", s.message()}});
  };
  auto name = text_field(request, "userName");
  auto question = name ? text_field(request, "question") : name;
  auto answer = question ? text_field(request, "answer") : question;
  if (!answer) return failed(LegacyRejection::kBadField, answer.status());
  // Without sessions anyone could name any user here: the user model allows only a first
  // question, only for a user registered over these topics, never for an operator (the
  // seed's own flow); anything else needs a session and the password.
  service_.set_security_question(*name, *question, *answer, legacy_caller(reply_to),
                                 [this, reply_to, failed](Result<chat::Ack> ack) {
                                   if (!ack) {
                                     return failed(LegacyRejection::kServiceRejected, ack.status());
                                   }
                                   reply(reply_to, {{"action", "set_question"}, {"code", 1}});
                                 });
}

void LegacyChat::on_request_question(const json& request, const std::string& reply_to) {
  auto failed = [this, reply_to](LegacyRejection reason, const Status& s) {
    counters_.rejected.count(reason);
    reply(reply_to, {{"action", "request_question"},
                     {"code", 0},
                     {"question", nullptr},
                     {"message", s.message()}});
  };
  auto name = text_field(request, "userName");
  if (!name) return failed(LegacyRejection::kBadField, name.status());
  service_.security_question(*name, [this, reply_to, failed](Result<std::string> question) {
    if (!question) return failed(LegacyRejection::kServiceRejected, question.status());
    reply(reply_to, {{"action", "request_question"}, {"code", 1}, {"question", *question}});
  });
}

void LegacyChat::on_verify_answer(const json& request, const std::string& reply_to) {
  auto failed = [this, reply_to](LegacyRejection reason, const Status& s) {
    counters_.rejected.count(reason);
    reply(reply_to, {{"action", "verify_security_answer"}, {"code", 0}, {"message", s.message()}});
  };
  auto name = text_field(request, "userName");
  auto answer = name ? text_field(request, "answer") : name;
  if (!answer) return failed(LegacyRejection::kBadField, answer.status());
  // The seed's server read new_password while its client sent newPassword: take either.
  auto password = text_field(request, "new_password");
  if (!password) password = text_field(request, "newPassword");
  if (!password) {
    return failed(LegacyRejection::kBadField, invalid_argument("missing 'newPassword'"));
  }
  service_.reset_password(*name, *answer, *password, legacy_caller(reply_to),
                          [this, reply_to, failed](Result<chat::Ack> ack) {
                            if (!ack)
                              return failed(LegacyRejection::kServiceRejected, ack.status());
                            reply(reply_to, {{"action", "verify_security_answer"}, {"code", 1}});
                          });
}

std::vector<std::pair<std::string, double>> LegacyChat::metrics() const {
  std::vector<std::pair<std::string, double>> out;
  auto add = [&out](std::string name, uint64_t value) {
    codec::add_series(out, std::move(name), value);
  };
  counters_.received.append_to(out, "gatehouse_mqtt_legacy_chat_received_total", "topic",
                               legacy_topic_name);
  counters_.rejected.append_to(out, "gatehouse_mqtt_legacy_chat_rejected_total", "reason",
                               legacy_rejection_name);
  add("gatehouse_mqtt_legacy_chat_replies_total", counters_.replies.load());
  add("gatehouse_mqtt_legacy_chat_unanswered_total", counters_.unanswered.load());
  add("gatehouse_mqtt_legacy_chat_dropped_total", counters_.dropped.load());
  return out;
}

}  // namespace gh::mqtt_adapter
