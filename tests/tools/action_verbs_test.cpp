// gatehousectl's action verbs through run(), against a real store in a temporary directory:
// install (checked in the sandbox, hash and operator recorded), list, show, disable, enable,
// remove, runs, and try (a new script against the recorded inputs, side by side). Installed
// actions survive closing and reopening the store (a restart replays system/actions).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/actions/action_model.h"
#include "tests/events/temp_store.h"
#include "tools/ctl/action_admin.h"
#include "tools/ctl/cli.h"

namespace gh::ctl {
namespace {

using gh::testing::TempStore;

struct Outcome {
  int code;
  std::string out, err;
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kGreet = "function handle(msg)\n  return 'hello ' .. msg.args\nend\n";
const std::string kShout =
    "function handle(msg)\n  if msg.args == 'x' then error('no x') end\n"
    "  return 'HELLO ' .. string.upper(msg.args)\nend\n";

class ActionVerbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<TempStore>();
    store_->close();  // the write verbs need the store to themselves, as with a stopped server
  }

  Outcome ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", store_->path()});
    std::ostringstream out, err;
    int code = run(args, out, err);
    return {code, out.str(), err.str()};
  }

  std::string file(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(scripts_dir());
    const std::string path = scripts_dir() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // Records invocations of `name` as the runner would: one per input, run in the sandbox.
  void record_runs(const std::string& name, const std::vector<std::string>& inputs) {
    store_->open();
    auto table = actions::load_table(store_->journal());
    ASSERT_TRUE(table.is_ok());
    const auto* action = table->find(name);
    ASSERT_NE(action, nullptr);
    uint64_t version = *store_->journal().stream_version(actions::runs_stream(name));
    for (const auto& input : inputs) {
      actions::Message message{"server", input};
      auto result = actions::run(action->source, message, {}, {});
      AppendRequest request;
      request.stream = actions::runs_stream(name);
      request.expected_version = version++;
      request.events.push_back(actions::record(actions::to_invocation(*action, message, result)));
      ASSERT_TRUE(store_->journal().append_and_wait(std::move(request)).is_ok());
    }
    store_->close();
  }

  void TearDown() override { std::filesystem::remove_all(scripts_dir()); }
  std::string scripts_dir() const { return store_->path() + ".scripts"; }

  std::unique_ptr<TempStore> store_;
};

TEST_F(ActionVerbsTest, InstallListShowDisableEnableRemove) {
  auto installed = ctl({"action", "install", "greet", file("greet.lua", kGreet), "--as", "ops"});
  ASSERT_EQ(installed.code, kExitOk) << installed.err;
  EXPECT_TRUE(has(installed.err, "action greet installed (revision 1, sha256 "));

  auto list = ctl({"action", "list"});
  ASSERT_EQ(list.code, kExitOk) << list.err;
  EXPECT_TRUE(has(list.out, "greet r1 enabled sha256 ")) << list.out;
  EXPECT_TRUE(has(list.out, "by operator:ops/tool")) << list.out;
  auto show = ctl({"action", "show", "greet"});
  ASSERT_EQ(show.code, kExitOk);
  EXPECT_TRUE(has(show.out, kGreet)) << show.out;
  EXPECT_EQ(ctl({"action", "show", "nope"}).code, kExitFailed);

  // Refused: twice without --replace, a bad script, a sandbox escape at top level, a
  // built-in's name, an unreadable file.
  auto again = ctl({"action", "install", "greet", file("greet.lua", kGreet)});
  EXPECT_EQ(again.code, kExitFailed);
  EXPECT_TRUE(has(again.err, "already_exists")) << again.err;
  auto syntax = ctl({"action", "install", "bad", file("bad.lua", "function handle(")});
  EXPECT_EQ(syntax.code, kExitFailed);
  EXPECT_TRUE(has(syntax.err, "invalid_argument")) << syntax.err;
  auto escape = ctl(
      {"action", "install", "evil", file("evil.lua", "os.execute('id')\nfunction handle() end")});
  EXPECT_EQ(escape.code, kExitFailed);
  EXPECT_TRUE(has(escape.err, "global 'os'")) << escape.err;
  EXPECT_EQ(ctl({"action", "install", "lock", file("greet.lua", kGreet)}).code, kExitFailed);
  EXPECT_EQ(ctl({"action", "install", "x", "/nonexistent/file.lua"}).code, kExitFailed);

  auto replaced = ctl({"action", "install", "greet", file("shout.lua", kShout), "--replace"});
  ASSERT_EQ(replaced.code, kExitOk) << replaced.err;
  EXPECT_TRUE(has(replaced.err, "revision 2"));

  ASSERT_EQ(ctl({"action", "disable", "greet"}).code, kExitOk);
  EXPECT_TRUE(has(ctl({"action", "list"}).out, "greet r2 disabled (operator)"));
  ASSERT_EQ(ctl({"action", "enable", "greet"}).code, kExitOk);
  EXPECT_TRUE(has(ctl({"action", "list"}).out, "greet r2 enabled"));
  ASSERT_EQ(ctl({"action", "remove", "greet"}).code, kExitOk);
  EXPECT_EQ(ctl({"action", "list"}).out, "");
  EXPECT_EQ(ctl({"action", "remove", "greet"}).code, kExitFailed);
  EXPECT_EQ(ctl({"action", "frobnicate"}).code, kExitUsage);
  EXPECT_EQ(ctl({"action", "install", "greet"}).code, kExitUsage);

  // Every change is in the log with who made it: a restart replays the same table.
  store_->open(OpenMode::kReadOnly);
  auto events = store_->journal().read_stream(std::string(actions::kStream), 1);
  ASSERT_TRUE(events.is_ok());
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].cause().name(), "ops");
  EXPECT_EQ((*events)[0].action_installed().sha256(), actions::sha256_of(kGreet));
  store_->close();
}

TEST_F(ActionVerbsTest, InstalledActionsSurviveARestart) {
  ASSERT_EQ(ctl({"action", "install", "greet", file("greet.lua", kGreet)}).code, kExitOk);
  store_->open();
  store_->close();
  store_->open(OpenMode::kReadOnly);
  auto table = actions::load_table(store_->journal());
  ASSERT_TRUE(table.is_ok());
  ASSERT_NE(table->find("greet"), nullptr);
  EXPECT_EQ(table->find("greet")->source, kGreet);
  store_->close();
}

TEST_F(ActionVerbsTest, RunsAndTryShowRecordedInputsSideBySide) {
  ASSERT_EQ(ctl({"action", "install", "greet", file("greet.lua", kGreet)}).code, kExitOk);
  record_runs("greet", {"greet bob", "greet x", "greet alice"});
  auto runs = ctl({"action", "runs", "greet"});
  ASSERT_EQ(runs.code, kExitOk) << runs.err;
  EXPECT_TRUE(has(runs.out, "'greet bob' -> replied 'hello bob'")) << runs.out;

  auto tried = ctl({"action", "try", "greet", file("shout.lua", kShout)});
  ASSERT_EQ(tried.code, kExitOk) << tried.err;
  EXPECT_TRUE(has(tried.out,
                  "v1 'greet bob'\n  recorded: replied 'hello bob'\n"
                  "  new:      replied 'HELLO BOB'\n  DIFFERS\n"))
      << tried.out;
  EXPECT_TRUE(has(tried.out, "  new:      error (action:2: no x)")) << tried.out;
  EXPECT_TRUE(has(tried.err, "3 recorded inputs, 3 answered differently")) << tried.err;

  auto same = ctl({"action", "try", "greet", file("greet.lua", kGreet), "--limit", "2"});
  ASSERT_EQ(same.code, kExitOk);
  EXPECT_TRUE(has(same.err, "2 recorded inputs, 0 answered differently")) << same.err;
  // A script the sandbox refuses is not tried at all; nothing was written by any try.
  auto endless = ctl({"action", "try", "greet", file("loop.lua", "while true do end")});
  EXPECT_EQ(endless.code, kExitFailed);
  EXPECT_TRUE(has(endless.err, "instruction budget")) << endless.err;
  EXPECT_EQ(ctl({"action", "try", "nobody", file("greet.lua", kGreet)}).err,
            "0 recorded inputs, 0 answered differently\n");
}

}  // namespace
}  // namespace gh::ctl
