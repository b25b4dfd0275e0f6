// The seed's action table end to end: plain MQTT clients publish "<word> <args>" on `server`
// through a real mosquitto to our MqttConnection + ActionTable, backed by the real
// DeviceSystem on a real RocksDB journal, and read the answer on the topic named by the word.
#include "adapters/mqtt/action_table.h"

#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <mutex>
#include <nlohmann/json.hpp>

#include "actors/actions/action_runner.h"
#include "actors/device/device_system.h"
#include "tests/mqtt/device_stack.h"
#include "tests/mqtt/test_support.h"

namespace gh::mqtt_adapter {
namespace {

using mqtt_test::kWait;
using mqtt_test::Message;
using nlohmann::json;

const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(1000, 'j');

json parse(const std::string& text) { return json::parse(text, nullptr, false); }

std::string base64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// A stand-in for the action runner: "greet" answers, "quiet" answers nothing, "broken" fails.
class FakeActions : public actions::ActionService {
 public:
  bool has(const std::string& name) override {
    return name == "greet" || name == "quiet" || name == "broken";
  }
  void invoke(const std::string& name, const std::string& topic, const std::string& payload,
              std::function<void(Result<std::optional<std::string>>)> done) override {
    seen.push_back(topic + "|" + payload);
    if (name == "greet") return done(std::optional<std::string>("hello " + payload.substr(6)));
    if (name == "quiet") return done(std::optional<std::string>());
    done(internal_error("action:2: boom"));
  }
  std::vector<std::string> seen;
};

class ActionTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(stack_.start_broker("mqtt-actions"));
    ASSERT_NO_FATAL_FAILURE(stack_.open_store());
    ASSERT_NO_FATAL_FAILURE(stack_.create_adapter(stack_.adapter_options()));
    MqttConnection& connection = stack_.adapter->connection();
    ActionTableOptions table_options;
    table_options.log = [this](const std::string& line) {
      std::lock_guard lock(log_mu_);
      log_.push_back(line);
    };
    table_options.picture_url = [](const std::string& id) {
      return "http://127.0.0.1:8080/pictures/" + id + "?sig=test";
    };
    table_ = std::make_unique<ActionTable>(connection, table_options);
    ASSERT_TRUE(table_->install(connection).is_ok());
    ASSERT_NO_FATAL_FAILURE(stack_.start_devices());
    journal_ = stack_.journal.get();
    devices_ = stack_.devices.get();
    table_->set_devices(devices_);
    table_->set_actions(&actions_);

    client_ = std::make_unique<mqtt_test::TestClient>(stack_.broker->url(), "seed-client");
    ASSERT_TRUE(client_->connect());
    ASSERT_TRUE(client_->subscribe("#"));
  }

  void TearDown() override {
    stack_.stop();
    table_.reset();
    client_.reset();
  }

  // Publishes `payload` on `server` and waits for the next answer on `word`.
  json ask(const std::string& word, const std::string& payload) {
    size_t n = client_->messages_on(word).size();
    EXPECT_TRUE(client_->publish("server", payload));
    std::optional<std::string> reply;
    EXPECT_TRUE(mqtt_test::eventually([&] {
      auto replies = client_->messages_on(word);
      if (replies.size() <= n) return false;
      reply = replies[n].payload;
      return true;
    })) << payload.substr(0, 60);
    return reply ? parse(*reply) : json();
  }

  json expect_error(const std::string& word, const std::string& payload, const std::string& code) {
    auto before = journal_->last_position();
    json reply = ask(word, payload);
    EXPECT_EQ(reply["ok"], false) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], code) << reply.dump();
    EXPECT_EQ(reply["action"], word);
    EXPECT_EQ(journal_->last_position(), before) << "a refused action wrote an event";
    return reply;
  }

  // Registers `id` as an operator would (POST /devices): what hand_shake needs now.
  void provision(const std::string& id) {
    events::Cause op;
    op.set_kind(events::Cause::API_TOKEN);
    op.set_name("ops");
    auto done = device::wait_for<device::State>(
        [&](auto cb) { devices_->provision(id, device::DeviceInfo{}, op, std::move(cb)); });
    ASSERT_TRUE(done.is_ok()) << done.status().to_string();
  }

  std::vector<std::string> log_lines() {
    std::lock_guard lock(log_mu_);
    return log_;
  }

  std::vector<events::Envelope> stream(const std::string& name) {
    auto events = journal_->read_stream(name, 0);
    EXPECT_TRUE(events.is_ok());
    return events.is_ok() ? *events : std::vector<events::Envelope>{};
  }

  mqtt_test::DeviceStack stack_;
  RocksdbJournal* journal_ = nullptr;
  device::DeviceSystem* devices_ = nullptr;
  std::unique_ptr<ActionTable> table_;
  FakeActions actions_;
  std::unique_ptr<mqtt_test::TestClient> client_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(ActionTableTest, HandShakeLockUnlockFindStranger) {
  provision("door1");
  provision("door2");
  json hello = ask("hand_shake", "hand_shake door1");
  ASSERT_EQ(hello["ok"], true) << hello.dump();
  EXPECT_EQ(hello["device"]["id"], "door1");
  EXPECT_EQ(hello["device"]["registered"], true);
  EXPECT_EQ(ask("hand_shake", "  hand_shake   door2 ")["ok"], true);
  EXPECT_FALSE(stream("device/door1").empty());

  // One device: the command goes out to it, and the log says who asked.
  json locked = ask("lock", "lock door1");
  ASSERT_EQ(locked["ok"], true) << locked.dump();
  EXPECT_EQ(locked["device"], "door1");
  EXPECT_FALSE(locked["command"].value("command_id", "").empty());
  EXPECT_TRUE(client_->wait_for("gatehouse/devices/door1/command",
                                [](const Message& m) { return m.payload == "LOCK"; }));
  bool audited = false;
  for (const auto& e : stream("device/door1"))
    if (e.has_lock_command_requested()) audited = e.cause().channel() == "legacy";
  EXPECT_TRUE(audited);

  // No device named: all of them.
  json all = ask("unlock", "unlock");
  ASSERT_EQ(all["ok"], true) << all.dump();
  ASSERT_EQ(all["devices"].size(), 2u) << all.dump();
  for (const auto& one : all["devices"]) EXPECT_EQ(one["ok"], true) << one.dump();
  EXPECT_TRUE(client_->wait_for("gatehouse/devices/door2/command",
                                [](const Message& m) { return m.payload == "UNLOCK"; }));

  // A stranger: stored, alerted, answered with the picture's link.
  json stranger = ask("find_stranger", "find_stranger door1 " + base64(kJpeg));
  ASSERT_EQ(stranger["ok"], true) << stranger.dump();
  const std::string picture = stranger["stranger"].value("picture_id", "");
  EXPECT_EQ(stranger["url"], "http://127.0.0.1:8080/pictures/" + picture + "?sig=test");
  EXPECT_TRUE(client_->wait_for("gatehouse/alerts/stranger"));
  auto bytes = devices_->picture(picture);
  ASSERT_TRUE(bytes.is_ok());
  EXPECT_EQ(*bytes, kJpeg);
  EXPECT_EQ(table_->counters().received_of(ActionWord::kFindStranger), 1u);
}

TEST_F(ActionTableTest, BadRequestsAreAnsweredAndStoreNothing) {
  json unknown = expect_error("dance", "dance now", "not_found");
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("unknown action 'dance'"),
            std::string::npos);
  expect_error("hand_shake", "hand_shake", "invalid_argument");
  expect_error("hand_shake", "hand_shake a b", "invalid_argument");
  expect_error("hand_shake", "hand_shake bad!id", "invalid_argument");
  expect_error("lock", "lock bad!id", "invalid_argument");
  expect_error("lock", "lock ghost", "failed_precondition");
  expect_error("find_stranger", "find_stranger door1", "invalid_argument");
  expect_error("find_stranger", "find_stranger door1 ***", "invalid_argument");
  expect_error("find_stranger", "find_stranger door1 " + base64("not a picture"),
               "invalid_argument");
  EXPECT_EQ(table_->counters().errors.load(), 9u);
}

// Issue 9: anyone may publish on the legacy topics, so hand_shake registering an unknown door
// let anyone register doors (all then included in `lock`). Now an unknown door is refused,
// counted and logged, and nothing is written; a provisioned door is greeted as before.
TEST_F(ActionTableTest, HandShakeOfAnUnknownDoorRegistersNothing) {
  auto before = journal_->last_position();
  json refused = expect_error("hand_shake", "hand_shake stranger-door", "failed_precondition");
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("not provisioned"),
            std::string::npos)
      << refused.dump();
  EXPECT_NE(
      refused["error"]["message"].get<std::string>().find("gatehouse/provision/KEY/stranger-door"),
      std::string::npos)
      << refused.dump();
  EXPECT_EQ(journal_->last_position(), before);
  EXPECT_TRUE(stream("device/stranger-door").empty());
  EXPECT_EQ(table_->counters().unprovisioned.load(), 1u);
  auto lines = log_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("hand_shake refused: device stranger-door is not provisioned"),
            std::string::npos)
      << lines[0];
  bool counted = false;
  for (const auto& [name, value] : table_->metrics())
    if (name == "gatehouse_mqtt_actions_refused_total{reason=\"unprovisioned\"}")
      counted = value == 1.0;
  EXPECT_TRUE(counted);
  // Nor does a lock of every door reach it.
  json all = ask("lock", "lock");
  ASSERT_EQ(all["ok"], true) << all.dump();
  EXPECT_TRUE(all["devices"].empty()) << all.dump();

  // The same door once an operator provisioned it: greeted, marked online.
  provision("stranger-door");
  json hello = ask("hand_shake", "hand_shake stranger-door");
  ASSERT_EQ(hello["ok"], true) << hello.dump();
  EXPECT_EQ(hello["device"]["online"], true) << hello.dump();
  EXPECT_EQ(table_->counters().unprovisioned.load(), 1u);
}

TEST_F(ActionTableTest, UnsafeWordsAndRetainedAreDropped) {
  ASSERT_TRUE(client_->publish("server", "server loop"));  // would answer on itself
  ASSERT_TRUE(client_->publish("server", "a/b x"));        // not a plain topic
  ASSERT_TRUE(client_->publish("server", "# x"));          // a wildcard
  ASSERT_TRUE(client_->publish("server", "   "));          // no word
  // A retained request (the broker hands it over again on every resubscribe).
  table_->on_message("server", "lock door1", true);
  EXPECT_TRUE(mqtt_test::eventually([&] {
    return table_->counters().dropped_of(ActionDrop::kUnsafeWord) == 4 &&
           table_->counters().dropped_of(ActionDrop::kRetained) == 1;
  })) << table_->counters().dropped_of(ActionDrop::kUnsafeWord);
  // Still serving.
  provision("door9");
  EXPECT_EQ(ask("hand_shake", "hand_shake door9")["ok"], true);
  EXPECT_TRUE(client_->messages_on("a/b").empty());
  EXPECT_EQ(client_->messages_on("server").size(), 5u);  // ours only: no answer came back here
  EXPECT_TRUE(client_->messages_on("lock").empty());
}

TEST_F(ActionTableTest, ScriptedActionsAnswerOnTheirWord) {
  ASSERT_TRUE(client_->publish("server", "greet bob"));
  auto reply = client_->wait_for("greet");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->payload, "hello bob");
  ASSERT_TRUE(client_->publish("server", "quiet please"));
  json failed = ask("broken", "broken x");
  EXPECT_EQ(failed["ok"], false);
  EXPECT_EQ(failed["error"]["code"], "internal");
  EXPECT_EQ(failed["error"]["message"], "action:2: boom");
  EXPECT_TRUE(client_->messages_on("quiet").empty());
  EXPECT_EQ(actions_.seen.size(), 3u);
  EXPECT_EQ(actions_.seen[0], "server|greet bob");
  EXPECT_EQ(table_->counters().received_of(ActionWord::kScripted), 3u);
}

// Issue 9: anonymous callers sent five ~4 MiB payloads to an installed action; each blew the
// Lua memory cap and the fifth disabled the action. Now they are answered too_large before
// any script runs, recorded nowhere, and the action stays enabled. Real runner, real broker.
TEST_F(ActionTableTest, OversizedScriptedPayloadsAreRefusedAndDisableNothing) {
  auto runner = actions::ActionRunner::create(*journal_, *devices_,
                                              [](const std::string&, const std::string&) {}, {});
  ASSERT_TRUE(runner.is_ok()) << runner.status().to_string();
  events::Cause op;
  op.set_kind(events::Cause::OPERATOR);
  op.set_name("root");
  ASSERT_TRUE(
      (*runner)
          ->install("echo", "function handle(msg) return 'echo ' .. #msg.payload end", false, op)
          .is_ok());
  table_->set_actions(runner->get());
  const std::string big = "echo " + std::string(4 * 1024 * 1024 - 64, 'x');
  for (int i = 0; i < 6; ++i) {
    json reply = expect_error("echo", big, "too_large");
    EXPECT_NE(reply["error"]["message"].get<std::string>().find("at most 16384 bytes"),
              std::string::npos)
        << reply.dump();
  }
  EXPECT_TRUE((*runner)->table().find("echo")->enabled);
  EXPECT_TRUE(stream(actions::runs_stream("echo")).empty());
  ASSERT_TRUE(client_->publish("server", "echo " + std::string(100, 'y')));
  EXPECT_TRUE(mqtt_test::eventually([&] {
    auto replies = client_->messages_on("echo");
    return !replies.empty() && replies.back().payload == "echo 105";
  }));
  table_->set_actions(nullptr);
  runner->reset();
}

TEST(ActionTableUnitTest, DecodeBase64) {
  EXPECT_EQ(ActionTable::decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(ActionTable::decode_base64("aGVsbG8"), "hello");
  EXPECT_EQ(ActionTable::decode_base64("aGVs\nbG8h"), "hello!");
  EXPECT_EQ(ActionTable::decode_base64(""), "");
  EXPECT_EQ(ActionTable::decode_base64(base64(kJpeg)), kJpeg);
  EXPECT_FALSE(ActionTable::decode_base64("aGVs*G8="));
  EXPECT_FALSE(ActionTable::decode_base64("aGVsbG8=x"));
  EXPECT_FALSE(ActionTable::decode_base64("a"));
  EXPECT_FALSE(ActionTable::decode_base64("aGVsbG8==="));
}

}  // namespace
}  // namespace gh::mqtt_adapter
