// The real gatehousectl executable in its own process, against a store this test process
// holds open read-write as the server would: RocksDB's lock between processes, not only
// within one.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <string>

#include "tests/events/temp_store.h"

namespace gh {
namespace {

struct Ran {
  int code = -1;
  std::string output;  // stdout and stderr
};

Ran run_ctl(const std::string& args) {
  const std::string command = std::string(GH_BINARY_DIR) + "/tools/gatehousectl " + args + " 2>&1";
  Ran ran;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ran;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) ran.output.append(buffer, n);
  int status = pclose(pipe);
  ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

TEST(GatehousectlProcessTest, ReadsWhileAnotherProcessHoldsTheStoreAndRefusesToWrite) {
  testing::TempStore server;
  ASSERT_TRUE(server.journal().append_and_wait(testing::request_of("device/d1", 0, 3)).is_ok());
  const std::string store = "--store " + server.path() + " ";

  auto streams = run_ctl(store + "streams");
  EXPECT_EQ(streams.code, 0) << streams.output;
  EXPECT_EQ(streams.output, "device/d1 3\n");

  auto verify = run_ctl(store + "verify");
  EXPECT_EQ(verify.code, 0) << verify.output;

  auto token = run_ctl(store + "token create ci");
  EXPECT_EQ(token.code, 1) << token.output;
  EXPECT_NE(token.output.find("stop the server first"), std::string::npos) << token.output;

  auto grant = run_ctl(store + "user grant alice operator");
  EXPECT_EQ(grant.code, 1) << grant.output;
  EXPECT_NE(grant.output.find("stop the server first"), std::string::npos) << grant.output;

  server.close();  // the server stopped
  token = run_ctl(store + "token create ci");
  EXPECT_EQ(token.code, 0) << token.output;
  EXPECT_NE(token.output.find("shown only once"), std::string::npos) << token.output;
}

}  // namespace
}  // namespace gh
