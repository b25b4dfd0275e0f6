// Durable before visible: a process killed with SIGKILL while appending loses nothing it
// had acknowledged, and the store it leaves recovers to gapless streams. The writer runs in
// a child process (this binary re-executed with a filter), never in this one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "tests/events/temp_store.h"

namespace gh {
namespace {

constexpr const char* kChildStoreVariable = "GH_CRASH_CHILD_STORE";
constexpr int kWriters = 4;

// The child: appends forever from kWriters threads, printing "STREAM VERSION" after each
// acknowledgement, until it is killed.
TEST(JournalCrashTest, Child) {
  const char* path = std::getenv(kChildStoreVariable);
  if (path == nullptr) GTEST_SKIP() << "run by JournalCrashTest.KilledWriterLosesNothing";
  auto database = Database::open(path, OpenMode::kReadWrite);
  ASSERT_TRUE(database.is_ok()) << database.status().to_string();
  RocksdbJournal journal(database->get());
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&journal, w] {
      const std::string stream = "device/w" + std::to_string(w);
      for (uint64_t version = 0;; ++version) {
        auto result = journal.append_and_wait(testing::request_of(stream, version));
        if (!result.is_ok()) {
          std::printf("FAILED %s\n", result.status().to_string().c_str());
          std::fflush(stdout);
          return;
        }
        std::printf("%s %llu\n", stream.c_str(),
                    static_cast<unsigned long long>(result->last_version));
        std::fflush(stdout);
      }
    });
  }
  for (auto& writer : writers) writer.join();
}

TEST(JournalCrashTest, KilledWriterLosesNothingAcknowledged) {
  testing::TempDir dir;
  const std::string store = dir.sub("store");
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    setenv(kChildStoreVariable, store.c_str(), 1);
    execl("/proc/self/exe", "events_test", "--gtest_filter=JournalCrashTest.Child", nullptr);
    _exit(127);
  }
  close(pipe_fds[1]);
  FILE* acks = fdopen(pipe_fds[0], "r");
  ASSERT_NE(acks, nullptr);
  std::map<std::string, uint64_t> acknowledged;
  int count = 0;
  char line[256];
  while (count < 400 && std::fgets(line, sizeof line, acks) != nullptr) {
    // The child's stdout also carries gtest's own lines: only "device/..." lines are acks.
    const std::string text(line);
    if (text.starts_with("FAILED")) {
      ADD_FAILURE() << text;
      break;
    }
    char stream[128];
    unsigned long long version = 0;
    if (text.starts_with("device/") && std::sscanf(line, "%127s %llu", stream, &version) == 2) {
      acknowledged[stream] = version;
      ++count;
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  std::fclose(acks);
  ASSERT_EQ(count, 400) << "the child stopped early";

  auto database = Database::open(store, OpenMode::kReadWrite);
  ASSERT_TRUE(database.is_ok()) << database.status().to_string();
  RocksdbJournal journal(database->get());
  uint64_t total = 0;
  for (const auto& [stream, version] : acknowledged) {
    auto events = journal.read_stream(stream, 0, SIZE_MAX);
    ASSERT_TRUE(events.is_ok()) << events.status().to_string();
    EXPECT_GE(events->size(), version) << stream << ": acknowledged events are missing";
    total += events->size();
  }
  // Positions 1..last with no hole, whatever was cut off after the last acknowledgement.
  uint64_t expected = 1;
  ASSERT_TRUE(journal
                  .read_all(0,
                            [&](const Envelope& e) {
                              EXPECT_EQ(e.position(), expected);
                              ++expected;
                              return true;
                            })
                  .is_ok());
  EXPECT_EQ(expected - 1, total);
  EXPECT_EQ(journal.last_position(), total);
  // And the recovered journal keeps appending where the log ends.
  auto more = journal.append_and_wait(
      testing::request_of("device/w0", *journal.stream_version("device/w0")));
  ASSERT_TRUE(more.is_ok()) << more.status().to_string();
  EXPECT_EQ(more->last_position, total + 1);
}

}  // namespace
}  // namespace gh
