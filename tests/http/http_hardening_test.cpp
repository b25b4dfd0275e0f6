// The HTTP server against hostile clients, on real loopback sockets (docs/security.md
// "HTTP"): header floods and too many headers (431, flat memory), slow heads (408), too many
// connections per address and in all (429, 503), a refused chunked body (one answer with
// `Connection: close`, then the close), and pipelined keep-alive requests. Bounds are
// generous: nothing here measures speed.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "adapters/http/http_server.h"
#include "tests/http/raw_socket.h"

namespace gh::http::testing {
namespace {

using namespace std::chrono_literals;

class HttpHardeningTest : public ::testing::Test {
 protected:
  void start(ServerOptions options) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options);
    server_->router().Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"ok\":true}", "application/json");
    });
    server_->router().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    auto port = server_->start();
    ASSERT_TRUE(port.is_ok()) << port.status().to_string();
    port_ = *port;
  }
  void TearDown() override {
    for (int fd : open_) ::close(fd);
    if (server_) server_->stop();
  }
  // A connection kept until the end of the test.
  int hold() {
    int fd = connect_loopback(port_);
    if (fd >= 0) open_.push_back(fd);
    return fd;
  }
  // One GET /ok on a fresh httplib client: its status, or -1.
  int get_ok() {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60s);
    auto result = client.Get("/ok");
    return result ? result->status : -1;
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::vector<int> open_;
};

TEST_F(HttpHardeningTest, HeaderFloodIs431AndMemoryStaysFlat) {
  ASSERT_NO_FATAL_FAILURE(start(ServerOptions{}));
  const uint64_t before = resident_bytes();
  ASSERT_GT(before, 0u);
  int fd = connect_loopback(port_);
  ASSERT_GE(fd, 0);
  // 60 MiB of header lines, each well under httplib's 8 KiB line limit (the attack of
  // issue 9: 24 MB -> 864 MB). The sender stops when the server closes.
  std::atomic<uint64_t> sent{0};
  std::thread flood([&] {
    timeval limit{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (!send_all(fd, "GET /ok HTTP/1.1\r\nHost: localhost\r\n")) return;
    const std::string line = "X-Flood: " + std::string(1000, 'a') + "\r\n";
    std::string chunk;
    for (int i = 0; i < 64; ++i) chunk += line;
    while (sent < 60ull << 20) {
      if (!send_all(fd, chunk)) return;
      sent += chunk.size();
    }
  });
  const std::string answer = read_until_close(fd, 60s);
  flood.join();
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("\"code\":\"too_large\""), std::string::npos) << answer.substr(0, 400);
  EXPECT_NE(answer.find("Connection: close"), std::string::npos);
  const uint64_t after = resident_bytes();
  EXPECT_LT(after, before + (50ull << 20)) << "RSS grew from " << before << " to " << after;
  std::printf("[ figures  ] header flood: %.1f MiB sent before the close, RSS %.1f -> %.1f MB\n",
              sent.load() / 1048576.0, before / 1e6, after / 1e6);
  EXPECT_GE(server_->refusals().get(Refusal::kHeaderTooLarge), 1u);
  // The server still serves.
  EXPECT_EQ(get_ok(), 200);
}

TEST_F(HttpHardeningTest, MoreThanMaxHeadersIs431) {
  ServerOptions options;
  options.max_headers = 20;
  ASSERT_NO_FATAL_FAILURE(start(options));
  auto request = [&](int headers) {
    std::string head = "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    for (int i = 2; i < headers; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
    head += "\r\n";
    int fd = connect_loopback(port_);
    EXPECT_TRUE(send_all(fd, head));
    std::string answer = read_until_close(fd, 30s);
    ::close(fd);
    return answer;
  };
  EXPECT_EQ(request(20).rfind("HTTP/1.1 200", 0), 0u);
  const std::string refused = request(21);
  EXPECT_EQ(refused.rfind("HTTP/1.1 431", 0), 0u) << refused;
  EXPECT_NE(refused.find("\"ok\":false"), std::string::npos) << refused;
  EXPECT_EQ(server_->refusals().get(Refusal::kTooManyHeaders), 1u);
}

TEST_F(HttpHardeningTest, SlowHeadIs408AndClosed) {
  ServerOptions options;
  options.header_timeout = 1s;
  ASSERT_NO_FATAL_FAILURE(start(options));
  int fd = hold();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n"));  // and never the rest
  bool closed = false;
  const std::string answer = read_until_close(fd, 60s, &closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"code\":\"timeout\""), std::string::npos) << answer;
  EXPECT_TRUE(closed);
  EXPECT_GE(server_->refusals().get(Refusal::kHeaderTimeout), 1u);
}

TEST_F(HttpHardeningTest, ConnectionsPerSourceAreCappedAt429) {
  ServerOptions options;
  options.max_connections_per_source = 4;
  ASSERT_NO_FATAL_FAILURE(start(options));
  for (int i = 0; i < 4; ++i) ASSERT_GE(hold(), 0);
  int fifth = connect_loopback(port_);
  ASSERT_GE(fifth, 0);
  send_all(fifth, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string answer = read_until_close(fifth, 30s);
  ::close(fifth);
  EXPECT_EQ(answer.rfind("HTTP/1.1 429", 0), 0u) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  EXPECT_GE(server_->refusals().get(Refusal::kSourceConnections), 1u);
  // A closed connection gives its place back.
  ::close(open_.back());
  open_.pop_back();
  int status = -1;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    status = get_ok();
    if (status != 200) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpHardeningTest, ConnectionsInTotalAreCappedAt503) {
  ServerOptions options;
  options.max_connections = 3;
  ASSERT_NO_FATAL_FAILURE(start(options));
  for (int i = 0; i < 3; ++i) ASSERT_GE(hold(), 0);
  int fourth = connect_loopback(port_);
  ASSERT_GE(fourth, 0);
  send_all(fourth, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string answer = read_until_close(fourth, 30s);
  ::close(fourth);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_GE(server_->refusals().get(Refusal::kTotalConnections), 1u);
}

TEST_F(HttpHardeningTest, IdleAndSlowConnectionsHoldNoWorker) {
  ServerOptions options;
  options.threads = 2;
  options.max_connections_per_source = 2000;
  options.max_connections = 4000;
  options.header_timeout = 300s;  // the machine may be slow to open them all
  ASSERT_NO_FATAL_FAILURE(start(options));
  // 300 idle and 300 that stopped in the middle of their head: far more than the workers.
  for (int i = 0; i < 600; ++i) {
    int fd = hold();
    ASSERT_GE(fd, 0) << i;
    if (i % 2 == 1) {
      ASSERT_TRUE(send_all(fd, "GET /ok HTTP/1.1\r\nX-Slow: 1\r\n"));
    }
  }
  // Keep-alive connections that finished a request go back to waiting, not to a worker.
  std::vector<std::unique_ptr<httplib::Client>> kept;
  for (int i = 0; i < 10; ++i) {
    kept.push_back(std::make_unique<httplib::Client>("127.0.0.1", port_));
    kept.back()->set_keep_alive(true);
    auto result = kept.back()->Get("/ok");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200);
  }
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(get_ok(), 200);
    const auto took = std::chrono::steady_clock::now() - start;  // printed, not asserted
    std::printf("[ figures  ] GET beside 600 idle/slow connections, 2 workers: %.2f ms\n",
                std::chrono::duration<double, std::milli>(took).count());
  }
  EXPECT_GE(server_->open_connections(), 600u);
}

TEST_F(HttpHardeningTest, RefusedChunkedBodyAnswersOnceWithCloseThenCloses) {
  ASSERT_NO_FATAL_FAILURE(start(ServerOptions{}));
  int fd = connect_loopback(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd,
                       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Type: text/plain\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  bool closed = false;
  const std::string answer = read_until_close(fd, 60s, &closed);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 411", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("Keep-Alive"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << "answered twice: " << answer;
  EXPECT_TRUE(closed) << "the server kept the connection open";
  EXPECT_EQ(server_->refusals().get(Refusal::kBodyFraming), 1u);
}

TEST_F(HttpHardeningTest, PipelinedRequestsAreAllAnswered) {
  ASSERT_NO_FATAL_FAILURE(start(ServerOptions{}));
  int fd = hold();
  ASSERT_GE(fd, 0);
  // Two requests in one write, the second with a body, then a third in a separate write.
  ASSERT_TRUE(send_all(fd,
                       "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
                       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(send_all(fd, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  const std::string answer = read_until_close(fd, 60s, &closed);
  size_t count = 0;
  for (size_t at = answer.find("HTTP/1.1 200"); at != std::string::npos;
       at = answer.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u) << answer;
  EXPECT_NE(answer.find("hello"), std::string::npos) << answer;
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace gh::http::testing
