// Fuzz target: every MQTT request topic family as the server's adapters handle it, payload
// codecs included: the door topics (hello, availability, state, stranger pictures), the chat
// topics (JSON requests, reply_to and the MQTT 5 Response Topic), the legacy chat (Python
// literals and returnTopic) and the seed's action table (first word, base64 pictures). The
// services behind them are stand-ins that answer every call, after the handler returned as
// the real ones do, with a default value or an error (chosen by the input), so both the
// refusals and the answers are exercised without actors, a store or a broker.
//
// Input: one selector byte (handler = byte % 4, services fail when byte & 4), then
// topic \0 payload \0 response topic.
// Promises: never a crash, an exception or a hang; whatever the request, gatehouse publishes
// only to topics that are valid reply topics (no wildcard, no '$', no empty level, no NUL),
// never into a wildcard or $SYS.
#include <deque>
#include <functional>

#include "adapters/mqtt/action_table.h"
#include "adapters/mqtt/chat_topics.h"
#include "adapters/mqtt/device_topics.h"
#include "adapters/mqtt/legacy_chat.h"
#include "adapters/mqtt/reply_topic.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace gh;

// Calls are answered once the handler returned (the real services answer from other threads).
struct Answers {
  bool fail = false;
  std::deque<std::function<void()>> pending;

  template <class T>
  void answer(std::function<void(Result<T>)> done) {
    if (fail) {
      pending.push_back([done = std::move(done)] { done(unavailable("stand-in service down")); });
    } else {
      pending.push_back([done = std::move(done)] { done(T{}); });
    }
  }
  void drain() {
    while (!pending.empty()) {
      auto next = std::move(pending.front());
      pending.pop_front();
      next();
    }
  }
};

class StandInDevices final : public device::DeviceService {
 public:
  explicit StandInDevices(Answers& a) : a_(a) {}
  void hello(const std::string&, device::DeviceInfo, device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void set_availability(const std::string&, bool, device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void report_state(const std::string&, device::LockState,
                    device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void report_stranger(const std::string&, device::Picture,
                       device::Callback<device::Stranger> d) override {
    a_.answer(std::move(d));
  }
  void provision(const std::string&, device::DeviceInfo, events::Cause,
                 device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void request_lock(const std::string&, device::LockAction, std::string, events::Cause,
                    device::Callback<device::CommandRecord> d) override {
    a_.answer(std::move(d));
  }
  void request_lock_and_wait(const std::string&, device::LockAction, std::string, events::Cause,
                             std::chrono::milliseconds,
                             device::Callback<device::CommandRecord> d) override {
    a_.answer(std::move(d));
  }
  void get(const std::string&, device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void remove(const std::string&, events::Cause, device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void review_alert(const std::string&, const std::string&, events::Cause,
                    device::Callback<device::State> d) override {
    a_.answer(std::move(d));
  }
  void request_lock_all(device::LockAction, events::Cause,
                        device::Callback<std::vector<device::FanOut>> d) override {
    a_.answer(std::move(d));
  }
  Result<std::vector<std::string>> list(const std::string&, size_t) override {
    return std::vector<std::string>{};
  }
  Result<std::vector<device::AuditEntry>> history(const std::string&) override {
    return std::vector<device::AuditEntry>{};
  }
  Result<std::vector<events::Envelope>> events(const std::string&) override {
    return std::vector<events::Envelope>{};
  }
  Result<device::State> state_at(const std::string&, uint64_t, int64_t) override {
    return device::State{};
  }
  Result<std::string> picture(const std::string&) override { return not_found("no picture"); }

 private:
  Answers& a_;
};

class StandInChat final : public chat::ChatService {
 public:
  explicit StandInChat(Answers& a) : a_(a) {}
  void register_user(const std::string&, const std::string&, const chat::Caller&,
                     chat::Callback<chat::UserView> d) override {
    a_.answer(std::move(d));
  }
  void login(const std::string&, const std::string&, const chat::Caller&,
             chat::Callback<chat::LoginResult> d) override {
    a_.answer(std::move(d));
  }
  void authenticate(const std::string&, chat::Callback<chat::Identity> d) override {
    a_.answer(std::move(d));
  }
  void logout(const std::string&, chat::Callback<chat::Ack> d) override { a_.answer(std::move(d)); }
  void logout_everywhere(const std::string&, chat::Callback<chat::Ack> d) override {
    a_.answer(std::move(d));
  }
  void change_password(const std::string&, const std::string&, const std::string&,
                       const chat::Caller&, chat::Callback<chat::Ack> d) override {
    a_.answer(std::move(d));
  }
  void set_security_question(const std::string&, const std::string&, const std::string&,
                             const chat::Caller&, chat::Callback<chat::Ack> d) override {
    a_.answer(std::move(d));
  }
  void set_own_security_question(const std::string&, const std::string&, const std::string&,
                                 const std::string&, const chat::Caller&,
                                 chat::Callback<chat::Ack> d) override {
    a_.answer(std::move(d));
  }
  void security_question(const std::string&, chat::Callback<std::string> d) override {
    a_.answer(std::move(d));
  }
  void reset_password(const std::string&, const std::string&, const std::string&,
                      const chat::Caller&, chat::Callback<chat::Ack> d) override {
    a_.answer(std::move(d));
  }
  void get_user(const std::string&, chat::Callback<chat::UserView> d) override {
    a_.answer(std::move(d));
  }
  Result<uint64_t> user_number(const std::string&) override { return uint64_t{1}; }
  void create_room(const chat::Identity&, const std::string&,
                   chat::Callback<chat::RoomView> d) override {
    a_.answer(std::move(d));
  }
  Result<std::vector<std::string>> list_rooms(const std::string&, size_t) override {
    return std::vector<std::string>{"lobby"};
  }
  void get_room(const std::string&, chat::Callback<chat::RoomView> d) override {
    a_.answer(std::move(d));
  }
  void join(const chat::Identity&, const std::string&, chat::Callback<chat::RoomView> d) override {
    a_.answer(std::move(d));
  }
  void leave(const chat::Identity&, const std::string&, chat::Callback<chat::RoomView> d) override {
    a_.answer(std::move(d));
  }
  void post(const chat::Identity&, const std::string&, const std::string&, const std::string&,
            chat::Callback<chat::MessageView> d) override {
    a_.answer(std::move(d));
  }
  void history(const chat::Identity&, const std::string&, uint64_t, size_t,
               chat::Callback<chat::HistoryView> d) override {
    a_.answer(std::move(d));
  }
  void like(const chat::Identity&, const std::string&, uint64_t,
            chat::Callback<chat::MessageView> d) override {
    a_.answer(std::move(d));
  }
  void unlike(const chat::Identity&, const std::string&, uint64_t,
              chat::Callback<chat::MessageView> d) override {
    a_.answer(std::move(d));
  }
  void like_anonymously(const std::string&, uint64_t,
                        chat::Callback<chat::MessageView> d) override {
    a_.answer(std::move(d));
  }
  void delete_message(const chat::Identity&, const std::string&, uint64_t,
                      chat::Callback<chat::Ack> d) override {
    a_.answer(std::move(d));
  }

 private:
  Answers& a_;
};

// Checks where every publish goes.
class CheckedPublisher final : public mqtt_adapter::Publisher {
 public:
  void publish(const std::string& topic, std::string payload, int, bool) override {
    (void)payload;
    fuzz::require(mqtt_adapter::check_reply_topic(topic, 1024).is_ok(),
                  "gatehouse publishes only to valid, wildcard-free topics");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const auto f = fuzz::fields(fuzz::as_text(data + 1, size - 1), 3);
  const std::string topic(f[0]), payload(f[1]);

  static CheckedPublisher publisher;
  static Answers answers;
  static StandInDevices devices(answers);
  static StandInChat chat(answers);
  static mqtt_adapter::DeviceTopics device_topics(publisher, [] {
    mqtt_adapter::DeviceTopicsOptions o;
    o.max_payload_bytes = 4096;
    o.max_picture_bytes = 4096;
    o.picture_url = [](const std::string& id) { return "/pictures/" + id; };
    return o;
  }());
  static mqtt_adapter::ChatTopics chat_topics(publisher, chat, [] {
    mqtt_adapter::ChatTopicsOptions o;
    o.max_payload_bytes = 4096;
    o.log = [](const std::string&) {};
    return o;
  }());
  static mqtt_adapter::LegacyChat legacy(publisher, chat, [] {
    mqtt_adapter::LegacyChatOptions o;
    o.max_payload_bytes = 4096;
    o.log = [](const std::string&) {};
    return o;
  }());
  static mqtt_adapter::ActionTable table(publisher, [] {
    mqtt_adapter::ActionTableOptions o;
    o.max_payload_bytes = 4096;
    o.max_picture_bytes = 2048;
    o.picture_url = [](const std::string& id) { return "/pictures/" + id; };
    return o;
  }());
  static bool wired = [] {
    device_topics.set_service(&devices);
    table.set_devices(&devices);
    return true;
  }();
  (void)wired;

  answers.fail = (selector & 4) != 0;
  const bool retained = (selector & 8) != 0;
  switch (selector % 4) {
    case 0:
      device_topics.on_message(topic, payload, retained);
      break;
    case 1: {
      mqtt_adapter::InboundMessage message;
      message.topic = topic;
      message.payload = payload;
      message.retained = retained;
      message.response_topic = f[2];
      message.has_correlation_data = (selector & 16) != 0;
      message.correlation_data = f[2];
      chat_topics.on_message(message);
      break;
    }
    case 2:
      legacy.on_message(topic, payload, retained);
      break;
    case 3:
      table.on_message(topic, payload, retained);
      break;
  }
  answers.drain();
  return 0;
}
