// The seed chat's own Python client classes (tests/mqtt/seed_clients/client.py, unchanged
// but for indentation) against gatehouse's legacy topics: a real mosquitto, the real
// ChatSystem, and `python3 driver.py` using Debian's python3-paho-mqtt. Also: real Python
// eval() of what to_py_literal writes gives back exactly the value.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "adapters/codec/py_literal.h"
#include "tests/mqtt/chat_test_support.h"

namespace gh::mqtt_adapter {
namespace {

using nlohmann::json;

const std::string kSeedClients = std::string(GH_SOURCE_DIR) + "/tests/mqtt/seed_clients";

// Runs `command` through the shell; its stdout and exit status.
std::pair<std::string, int> run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {"", -1};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// A python3 that has paho.mqtt (Debian's python3-paho-mqtt lives in /usr/bin/python3's
// dist-packages; a python3 first on PATH, e.g. pyenv's, may lack it). Empty if none.
std::string python_with_paho() {
  for (std::string python : {"/usr/bin/python3", "python3"}) {
    if (run(python + " -c 'import paho.mqtt.client' 2>/dev/null").second == 0) return python;
  }
  return "";
}

std::string python_any() {
  for (std::string python : {"/usr/bin/python3", "python3"}) {
    if (run(python + " -c 'pass' 2>/dev/null").second == 0) return python;
  }
  return "";
}

TEST(PyLiteralPythonTest, EvalOfWhatWeWriteIsTheValue) {
  const std::string python = python_any();
  if (python.empty()) GTEST_SKIP() << "no python3";
  json value = json::array();
  value.push_back({{"code", 1}, {"message", "用户添加成功!"}});
  value.push_back("it's \"both\" \\ '''triple''' \"\"\" \n\r\t\x01\x7f é 中 😀 \xff end\\");
  value.push_back("'); __import__('os').system('echo pwned'); ('");
  value.push_back({1, -2, 2.5, 2.0, 1e300, true, false, nullptr, UINT64_MAX, INT64_MIN});
  value.push_back({{"nested", {{"list", json::array()}, {"dict", json::object()}}}});
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  value.push_back(all);

  auto dir = mqtt_test::temp_dir("py-eval");
  { std::ofstream(dir / "in.txt") << codec::to_py_literal(value); }
  // eval() with no builtins: a name in our output would raise NameError. Printed as JSON
  // with \u escapes so the comparison does not depend on the terminal's encoding.
  auto [out, status] = run(python +
                           " -c 'import json,sys; "
                           "v = eval(open(sys.argv[1], encoding=\"ascii\").read(), "
                           "{\"__builtins__\": {}}, {}); print(json.dumps(v))' " +
                           (dir / "in.txt").string());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(status, 0) << out;
  json back = json::parse(out, nullptr, false);
  ASSERT_FALSE(back.is_discarded()) << out;
  json expected = value;
  // Invalid UTF-8 is written as U+FFFD; everything else comes back as it was.
  expected[1] = "it's \"both\" \\ '''triple''' \"\"\" \n\r\t\x01\x7f é 中 😀 \xEF\xBF\xBD end\\";
  std::string all_fixed;
  for (int c = 1; c < 128; ++c) all_fixed += static_cast<char>(c);
  for (int c = 128; c < 256; ++c) all_fixed += "\xEF\xBF\xBD";
  expected[5] = all_fixed;
  EXPECT_EQ(back, expected);
}

class LegacySeedClientsTest : public mqtt_test::ChatServerFixture {};

TEST_F(LegacySeedClientsTest, TheSeedsClientClassesWorkUnchanged) {
  const std::string python = python_with_paho();
  if (python.empty()) {
    GTEST_SKIP() << "no python3 with paho.mqtt (Debian: apt-get install python3-paho-mqtt, "
                    "as scripts/setup does)";
  }
  start(/*chat_topics=*/false, /*legacy=*/true);
  const std::string command = "cd " + kSeedClients + " && HOST=" + broker_->host() +
                              " PORT=" + std::to_string(broker_->port()) +
                              " PYTHONDONTWRITEBYTECODE=1 WAIT_SECONDS=60 timeout 280 " + python +
                              " driver.py 2>&1";
  auto [out, status] = run(command);
  ASSERT_EQ(status, 0) << out;
  auto at = out.rfind("RESULT ");
  ASSERT_NE(at, std::string::npos) << out;
  json r = json::parse(out.substr(at + 7), nullptr, false);
  ASSERT_TRUE(r.is_object()) << out;
  SCOPED_TRACE(r.dump(1));

  EXPECT_EQ(r["register"], json({{"code", 1}, {"message", "用户添加成功!"}}));
  EXPECT_EQ(r["register_flag"], true);
  EXPECT_EQ(r["register_again"], json({{"code", 0}, {"message", "用户添加失败,用户存在"}}));
  EXPECT_EQ(r["login"], json({{"code", 1}, {"message", "验证通过,欢迎回来seeduser"}}));
  EXPECT_EQ(r["login_flag"], true);
  EXPECT_EQ(r["login_wrong"], json({{"code", 0}, {"message", "账号或密码错误"}}));
  EXPECT_EQ(r["send"], json({{"code", 1}, {"message", "消息发送成功"}}));
  EXPECT_EQ(r["send_unknown_user"], json({{"code", 0}, {"message", "消息发送失败,找不到用户"}}));

  const std::string text = "hello 'world' \"quoted\" \\ 中文 😀\nsecond line";
  EXPECT_EQ(r["sent_text"], text);
  ASSERT_TRUE(r["chatall"].is_array());
  ASSERT_EQ(r["chatall"].size(), 1u);
  const json& m = r["chatall"][0];
  EXPECT_EQ(m["id"], 1);
  EXPECT_EQ(m["message"], text);
  EXPECT_EQ(m["senderName"], "seeduser");
  auto number = chat_->user_number("seeduser");
  ASSERT_TRUE(number.is_ok());
  EXPECT_EQ(m["senderId"], *number);
  EXPECT_TRUE(m["time"].is_string());

  // The seed's Like (publish fixed in the driver) and then a like with a returnTopic.
  ASSERT_TRUE(r["like"].is_object());
  EXPECT_EQ(r["like"]["code"], 1);
  EXPECT_EQ(r["like"]["like_count"], 2);
  auto page = mqtt_test::call<chat::HistoryView>(
      [&](auto done) { chat_->history(chat::Identity{}, "lobby", 0, 10, done); });
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_EQ(page->messages[0].like_count, 2u);

  EXPECT_EQ(r["set_question"], json({{"action", "set_question"}, {"code", 1}}));
  EXPECT_EQ(r["set_question_again"]["code"], 0);  // only a first question without sessions
  EXPECT_EQ(
      r["request_question"],
      json({{"action", "request_question"}, {"code", 1}, {"question", "Name of your first pet?"}}));
  EXPECT_EQ(r["reset_wrong"]["action"], "verify_security_answer");
  EXPECT_EQ(r["reset_wrong"]["code"], 0);
  EXPECT_EQ(r["reset"], json({{"action", "verify_security_answer"}, {"code", 1}}));
  EXPECT_EQ(r["login_new"]["code"], 1);
  EXPECT_EQ(r["login_old"]["code"], 0);

  // The unchanged GetMessage, retried until it won the seed's race.
  ASSERT_TRUE(r["plain_chatall"].is_array());
  EXPECT_EQ(r["plain_chatall"], r["chatall"]);

  EXPECT_EQ(legacy_->counters().dropped.load(), 0u);
  EXPECT_EQ(legacy_->counters().unanswered.load(), 1u);  // the seed's Like
}

}  // namespace
}  // namespace gh::mqtt_adapter
