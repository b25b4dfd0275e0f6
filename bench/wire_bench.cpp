// The wire-level benchmark (docs/benchmarks.md "Over the wire"): drives a running gatehouse
// over MQTT and HTTP exactly as its clients do, and measures in the same run the ceiling of
// each workload: a bare responder on the same broker (or a bare cpp-httplib server), with
// the same client library and settings, that answers at once with no logic and no disk.
//
//   gatehouse_wire_bench --broker-port P --http-port H --token T --server-secret FILE
//                        [--seconds S] [--window 1|100] [--only WORKLOAD]
//                        [--client-processes N] [--server-pid PID --broker-pid PID] [--dir DIR]
//
// bench/wire.sh starts gatehouse on a temporary store with free ports and runs this. T is an
// operator API token (it provisions the door); FILE holds gatehouse's own broker password
// (RUN-DIR/mqtt-server.secret), with which the echo responders connect: only that identity
// may use topics outside gatehouse's, so the ceiling pays the broker's access checks too.
// The MQTT clients run in client processes, each this program started again with `--worker`
// (internal: it reads its clients on stdin).
#include <fcntl.h>
#include <httplib.h>
#include <mqtt/async_client.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/mqtt/tcp_nodelay.h"
#include "bench/process_cpu.h"
#include "bench/raw_append.h"

namespace gh::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  int broker_port = 0;
  int http_port = 0;
  std::string token;
  std::string server_secret;
  double seconds = 5;
  std::string only;          // run only the workloads whose name contains this
  int client_processes = 4;  // MQTT clients are spread over this many processes
  pid_t server_pid = 0;      // gatehouse and its broker, for their CPU (0: not reported)
  pid_t broker_pid = 0;
  int window = 0;  // run only this window (0: both)
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "gatehouse-wire-bench";
};

const char* kHost = "127.0.0.1";
const char* kPassword = "wire-bench-password";

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "gatehouse_wire_bench: " << why << "\n";
  std::exit(1);
}

// ---- what one run measured ----

struct Figures {
  double rate = 0;  // answers per second
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t answered = 0;
  uint64_t refused = 0;  // answered, but not with success
  uint64_t lost = 0;     // never answered
  // CPU used during the run, in cores (CPU seconds per second: 1.0 is one core busy): the
  // benchmark's clients, the answering server (gatehouse or the ceiling's), the broker.
  double client_cpu = 0, server_cpu = 0, broker_cpu = 0;
  int client_processes = 1;
};

// Collects latencies from many threads; `finish` turns them into Figures.
class Tally {
 public:
  void add(double ms, bool ok) {
    std::lock_guard lock(mu_);
    ms_.push_back(ms);
    if (!ok) ++refused_;
    last_ = Clock::now();
  }
  Figures finish(Clock::time_point start, uint64_t lost) {
    std::lock_guard lock(mu_);
    Figures f;
    f.answered = ms_.size();
    f.refused = refused_;
    f.lost = lost;
    if (ms_.empty()) return f;
    std::sort(ms_.begin(), ms_.end());
    f.p50_ms = ms_[ms_.size() / 2];
    f.p99_ms = ms_[ms_.size() * 99 / 100];
    f.rate = double(ms_.size()) / (ms_between(start, last_) / 1000.0);
    return f;
  }

 private:
  std::mutex mu_;
  std::vector<double> ms_;
  uint64_t refused_ = 0;
  Clock::time_point last_ = Clock::now();
};

// ---- MQTT: request/answer clients with a window ----

mqtt::connect_options connect_options(const std::string& user, const std::string& password) {
  auto builder =
      mqtt::connect_options_builder().mqtt_version(5).clean_start(true).keep_alive_interval(
          std::chrono::seconds(30));
  if (!user.empty()) builder.user_name(user).password(password);
  return builder.finalize();
}

std::unique_ptr<mqtt::async_client> client_of(const std::string& client_id, int broker_port) {
  auto url = "tcp://" + std::string(kHost) + ":" + std::to_string(broker_port);
  // paho refuses a publish beyond max_buffered_messages queued (default 100); a window of
  // 100 with its answers in flight needs more.
  mqtt::create_options create(5);
  create.set_max_buffered_messages(100000);
  return std::make_unique<mqtt::async_client>(url, client_id, create);
}

void wait_connected(mqtt::token_ptr token, const std::string& client_id) {
  try {
    token->wait();
  } catch (const std::exception& e) {
    fail("MQTT client " + client_id + " cannot connect: " + e.what());
  }
}

std::unique_ptr<mqtt::async_client> connected(const std::string& client_id, const std::string& user,
                                              const std::string& password, int broker_port) {
  auto client = client_of(client_id, broker_port);
  wait_connected(client->connect(connect_options(user, password)), client_id);
  return client;
}

// Paho C has no TCP_NODELAY option (tcp_nodelay.h): every socket of this process to the
// broker gets it, before any measured message.
void nagle_off(int broker_port) {
  (void)mqtt_adapter::set_nodelay_to_peer(kHost, uint16_t(broker_port));
}

// What a client's requests say: the seed's `chatsend` or v1 `chat/post`. Plain data, so a
// client process can be handed its clients over a pipe.
struct Payload {
  enum class Kind { legacy, v1 } kind = Kind::legacy;
  std::string author;    // legacy: userName
  std::string reply_to;  // legacy: returnTopic; v1: reply_to
  std::string token;     // v1: the session token
  std::string room;      // v1: the room posted into
};

// The n-th request of a client.
std::string payload_text(const Payload& p, uint64_t n) {
  if (p.kind == Payload::Kind::legacy)
    return "{'userName': '" + p.author + "', 'message': 'hello " + std::to_string(n) +
           "', 'returnTopic': '" + p.reply_to + "'}";
  return json{{"id", n},
              {"reply_to", p.reply_to},
              {"token", p.token},
              {"room", p.room},
              {"text", "hello " + std::to_string(n)}}
      .dump();
}

// One client of a workload: who it is, where it asks, where it is answered, what it sends.
struct Requester {
  std::string client_id, user, password;
  std::string request_topic, reply_topic;
  Payload payload;
};

json to_json(const Requester& r) {
  return {{"client_id", r.client_id},     {"user", r.user},
          {"password", r.password},       {"request_topic", r.request_topic},
          {"reply_topic", r.reply_topic}, {"v1", r.payload.kind == Payload::Kind::v1},
          {"author", r.payload.author},   {"reply_to", r.payload.reply_to},
          {"token", r.payload.token},     {"room", r.payload.room}};
}

Requester requester_of(const json& j) {
  Requester r{j.at("client_id"),
              j.at("user"),
              j.at("password"),
              j.at("request_topic"),
              j.at("reply_topic"),
              {j.at("v1").get<bool>() ? Payload::Kind::v1 : Payload::Kind::legacy, j.at("author"),
               j.at("reply_to"), j.at("token"), j.at("room")}};
  return r;
}

// How a client tells a successful answer: by name, so a client process can be told over a pipe.
enum class Success { legacy, v1, any };

bool is_success(Success kind, const std::string& answer) {
  switch (kind) {
    case Success::legacy:
      return answer.find("'code': 1") != std::string::npos;
    case Success::v1:
      return answer.find("\"ok\":true") != std::string::npos;
    case Success::any:
      return true;
  }
  return false;
}

// ---- CPU time, to show where the bound is ----

// CPU seconds (user + system) `pid` has used so far; 0 when it cannot be read.
double cpu_seconds_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// The processes whose CPU a run reports: gatehouse, its broker, the ceiling's server.
struct Watched {
  pid_t server = 0, broker = 0, ceiling = 0;
};

struct CpuSample {
  double server = 0, broker = 0, ceiling = 0;
  Clock::time_point at = Clock::now();
};

CpuSample sample_cpu(const Watched& w) {
  CpuSample s;
  if (w.server > 0) s.server = cpu_seconds_of(w.server);
  if (w.broker > 0) s.broker = cpu_seconds_of(w.broker);
  if (w.ceiling > 0) s.ceiling = cpu_seconds_of(w.ceiling);
  s.at = Clock::now();
  return s;
}

// ---- the clients: several processes, so the benchmark is not its own bound ----
//
// Each client process is a fresh exec of this program (`--worker`), never a fork of it: a
// fork copies whatever paho state and locks the parent holds, and only the forking thread.
// The parent hands a worker its clients over its stdin, and reads its "ready" and its results
// on kWorkerOut, from all workers at once (poll), with a deadline.

constexpr int kWorkerOut = 3;  // a worker's results; its spec and "go" come on stdin
const auto kConnectDeadline = std::chrono::seconds(120);
// A worker waits at most 60 s for the answers still due after its run (drive_group); this is
// that plus time to spare, so only a stuck worker reaches it.
const auto kReportSlack = std::chrono::seconds(90);

bool write_all(int fd, const void* data, size_t size) {
  auto p = static_cast<const char*>(data);
  while (size > 0) {
    auto n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t size) {
  auto p = static_cast<char*>(data);
  while (size > 0) {
    auto n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

// What one client process sends back after its run, followed by `answered` latencies (ms).
struct GroupHeader {
  uint64_t answered = 0, refused = 0, lost = 0;
  double seconds = 0;      // from "go" to its last answer
  double cpu_seconds = 0;  // this process's CPU from "go" to the end of the run
};

// What a client process is told: where, whom, how hard, how long, and what counts as success.
struct GroupSpec {
  int broker_port = 0;
  int window = 1;
  double seconds = 5;
  Success success = Success::any;
  std::vector<Requester> requesters;
};

std::string encode(const GroupSpec& g) {
  json requesters = json::array();
  for (const auto& r : g.requesters) requesters.push_back(to_json(r));
  return json{{"broker_port", g.broker_port},
              {"window", g.window},
              {"seconds", g.seconds},
              {"success", int(g.success)},
              {"requesters", requesters}}
      .dump();
}

GroupSpec decode_group_spec(const std::string& text) {
  auto j = json::parse(text);
  GroupSpec g{j.at("broker_port"),
              j.at("window"),
              j.at("seconds"),
              Success(j.at("success").get<int>()),
              {}};
  for (const auto& r : j.at("requesters")) g.requesters.push_back(requester_of(r));
  return g;
}

// Runs in a client process: connects the group's clients, says it is ready on `out`, waits for
// "go" on `in`, keeps `window` requests outstanding per client until `seconds` have passed,
// then waits (at most 10 s without progress, 60 s in all) for the answers still due and writes
// a GroupHeader and the latencies (ms) to `out`. Answers are matched to requests in order:
// every workload here answers one client's requests in the order they were sent.
[[noreturn]] void drive_group(const GroupSpec& g, int in, int out) {
  struct Live {
    const Requester* spec = nullptr;
    std::unique_ptr<mqtt::async_client> client;
    std::mutex mu;  // sent, next
    std::deque<Clock::time_point> sent;
    uint64_t next = 0;
  };
  std::mutex tally_mu;
  std::vector<double> latencies;
  uint64_t refused = 0;
  Clock::time_point last_answer = Clock::now();
  std::atomic<bool> sending{false};
  std::atomic<int64_t> outstanding{0};
  std::vector<std::unique_ptr<Live>> live;
  // All at once: paho completes a connect only on its receive thread's next turn (up to a
  // second or two with many clients), so one after the other takes minutes.
  std::vector<mqtt::token_ptr> connecting;
  for (const auto& spec : g.requesters) {
    auto l = std::make_unique<Live>();
    l->spec = &spec;
    l->client = client_of(spec.client_id, g.broker_port);
    connecting.push_back(l->client->connect(connect_options(spec.user, spec.password)));
    live.push_back(std::move(l));
  }
  for (size_t i = 0; i < live.size(); ++i) wait_connected(connecting[i], g.requesters[i].client_id);
  // Never publish while holding `mu`: paho's receive thread holds paho's global mutex while it
  // runs the message callback (which takes `mu`), and a publish from another thread takes that
  // global mutex, so publishing under `mu` deadlocks the process (it did, at window 100).
  // Two threads may then publish for one client in the other order than they stamped `sent`;
  // the latencies they swap differ by microseconds.
  auto send_one = [&](Live& l) {
    std::string payload;
    outstanding.fetch_add(1);
    {
      std::lock_guard lock(l.mu);
      l.sent.push_back(Clock::now());
      payload = payload_text(l.spec->payload, l.next++);
    }
    l.client->publish(mqtt::make_message(l.spec->request_topic, payload, 1, false));
  };
  for (auto& l : live) {
    Live* raw = l.get();
    raw->client->set_message_callback([&, raw](mqtt::const_message_ptr m) {
      const auto now = Clock::now();
      {
        std::lock_guard lock(raw->mu);
        if (raw->sent.empty()) return;  // a stray answer
        std::lock_guard tally(tally_mu);
        latencies.push_back(ms_between(raw->sent.front(), now));
        if (!is_success(g.success, m->get_payload_str())) ++refused;
        last_answer = now;
        raw->sent.pop_front();
      }
      outstanding.fetch_sub(1);
      if (sending.load()) send_one(*raw);
    });
    auto token = raw->client->subscribe(raw->spec->reply_topic, 1);
    token->wait();
    auto granted = token->get_subscribe_response();
    for (auto code : granted.get_reason_codes())
      if (int(code) >= 0x80) fail("subscription to " + raw->spec->reply_topic + " refused");
  }
  nagle_off(g.broker_port);
  char byte = 'r';
  if (!write_all(out, &byte, 1)) std::_Exit(3);
  if (!read_all(in, &byte, 1)) std::_Exit(0);  // the parent gave up
  const double cpu_at_start = own_cpu_seconds();
  const auto start = Clock::now();
  sending = true;
  for (auto& l : live)
    for (int i = 0; i < g.window; ++i) send_one(*l);
  std::this_thread::sleep_for(std::chrono::duration<double>(g.seconds));
  sending = false;
  int64_t due = outstanding.load();
  auto last_progress = Clock::now();
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (due > 0 && Clock::now() - last_progress < std::chrono::seconds(10) &&
         Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (int64_t now_due = outstanding.load(); now_due < due) {
      due = now_due;
      last_progress = Clock::now();
    }
  }
  GroupHeader header;
  {
    std::lock_guard tally(tally_mu);
    header.answered = latencies.size();
    header.refused = refused;
    header.lost = uint64_t(std::max<int64_t>(0, outstanding.load()));
    header.seconds = latencies.empty() ? 0 : ms_between(start, last_answer) / 1000.0;
    header.cpu_seconds = own_cpu_seconds() - cpu_at_start;
    if (!write_all(out, &header, sizeof header) ||
        !write_all(out, latencies.data(), latencies.size() * sizeof(double)))
      std::_Exit(3);
  }
  // Not a clean disconnect: the process ends, and the broker drops its sessions.
  std::_Exit(0);
}

// `gatehouse_wire_bench --worker`: a client process. Reads its GroupSpec (a 4-byte length,
// then the JSON) and later "go" on stdin, reports on kWorkerOut.
int worker_main() {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;  // the parent is already gone
  uint32_t size = 0;
  if (!read_all(0, &size, sizeof size)) return 1;
  std::string text(size, '\0');
  if (!read_all(0, text.data(), size)) return 1;
  drive_group(decode_group_spec(text), 0, kWorkerOut);
}

// A client process as the parent sees it.
struct Worker {
  pid_t pid = -1;
  int to = -1, from = -1;  // its stdin; its kWorkerOut
  std::string clients;     // for error messages: "bench-v1-0, bench-v1-4, ..."
  std::string got;         // what it has written so far
  bool ended = false;      // its kWorkerOut is closed
};

// Moves `fd` above the standard descriptors and kWorkerOut, so the child's dup2 onto them
// never meets one of its own pipe ends; close-on-exec, so no other worker inherits it.
int high_fd(int fd) {
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (moved < 0) fail("fcntl failed");
  ::close(fd);
  return moved;
}

Worker spawn_worker(const GroupSpec& group) {
  int down[2], up[2];
  if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) fail("pipe failed");
  for (int* fd : {&down[0], &down[1], &up[0], &up[1]}) *fd = high_fd(*fd);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, down[0], 0);
  ::posix_spawn_file_actions_adddup2(&actions, up[1], kWorkerOut);
  char name[] = "gatehouse_wire_bench", flag[] = "--worker";
  char* argv[] = {name, flag, nullptr};
  Worker w;
  const int rc = ::posix_spawn(&w.pid, "/proc/self/exe", &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(down[0]);
  ::close(up[1]);
  if (rc != 0) fail(std::string("cannot start a client process: ") + std::strerror(rc));
  w.to = down[1];
  w.from = up[0];
  for (const auto& r : group.requesters) w.clients += (w.clients.empty() ? "" : ", ") + r.client_id;
  const std::string spec = encode(group);
  const uint32_t size = uint32_t(spec.size());
  if (!write_all(w.to, &size, sizeof size) || !write_all(w.to, spec.data(), spec.size()))
    fail("client process " + std::to_string(w.pid) + " did not take its clients");
  return w;
}

void stop_workers(std::vector<Worker>& workers) {
  for (auto& w : workers) {
    if (w.pid > 0) {
      ::kill(w.pid, SIGKILL);
      ::waitpid(w.pid, nullptr, 0);
      w.pid = -1;
    }
    for (int* fd : {&w.to, &w.from})
      if (*fd >= 0) ::close(*fd), *fd = -1;
  }
}

// Reads from every worker at once until `done(worker)` holds for all of them or `deadline`
// passes; a worker that ends early or misses the deadline stops the run with an error naming
// `what` and the worker. Reading all of them at once matters: a worker blocks writing results
// larger than a pipe holds (64 KiB) until someone reads them.
void collect(std::vector<Worker>& workers, const std::function<bool(const Worker&)>& done,
             Clock::time_point deadline, const std::string& what, const char* waiting_for) {
  auto give_up = [&](const Worker& w, const std::string& why) {
    const std::string message = what + ": client process " + std::to_string(w.pid) + " (" +
                                w.clients + ") " + why + " while the benchmark waited for " +
                                waiting_for;
    stop_workers(workers);
    fail(message);
  };
  char buffer[1 << 16];
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Worker*> polled;
    for (auto& w : workers) {
      if (done(w)) continue;
      if (w.ended) give_up(w, "ended early (" + std::to_string(w.got.size()) + " bytes sent)");
      fds.push_back({w.from, POLLIN, 0});
      polled.push_back(&w);
    }
    if (fds.empty()) return;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) give_up(*polled.front(), "did not answer in time");
    const int ready = ::poll(fds.data(), fds.size(), int(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) fail("poll failed");
    for (size_t i = 0; ready > 0 && i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const auto n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) polled[i]->got.append(buffer, size_t(n));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) polled[i]->ended = true;
    }
  }
}

// Spreads `specs` over `processes` client processes (paho runs all the clients of a process
// on one receive and one send thread, which 64 clients at window 100 overwhelm), starts
// them together and merges what they measured. The CPU the clients used is in `client_cpu`
// (CPU seconds per second of the run: 1.0 is one core busy). `what` names the workload in
// errors.
Figures drive(const std::string& what, int broker_port, const std::vector<Requester>& specs,
              int window, double seconds, Success success, int processes, const Watched& watched,
              pid_t answering) {
  processes = std::max(1, std::min(processes, int(specs.size())));
  std::vector<Worker> workers;
  for (int p = 0; p < processes; ++p) {
    GroupSpec group{broker_port, window, seconds, success, {}};
    for (size_t i = size_t(p); i < specs.size(); i += size_t(processes))
      group.requesters.push_back(specs[i]);
    workers.push_back(spawn_worker(group));
  }
  collect(
      workers, [](const Worker& w) { return !w.got.empty(); }, Clock::now() + kConnectDeadline,
      what, "its clients to connect");
  const auto before = sample_cpu(watched);
  const double answering_before = cpu_seconds_of(answering);
  const char go = 'g';
  for (auto& w : workers)
    if (!write_all(w.to, &go, 1)) {
      stop_workers(workers);
      fail(what + ": client process " + std::to_string(w.pid) + " (" + w.clients +
           ") ended before the run");
    }
  const auto report_by =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) +
      kReportSlack;
  collect(
      workers, [](const Worker& w) { return w.ended; }, report_by, what, "its results");
  std::vector<double> all;
  Figures f;
  f.client_processes = processes;
  double longest = 0;
  double client_cpu = 0;
  for (auto& w : workers) {
    GroupHeader header;
    const size_t results = w.got.size() - 1;  // after its "ready"
    if (results < sizeof header) {
      stop_workers(workers);
      fail(what + ": client process " + std::to_string(w.pid) + " (" + w.clients +
           ") died before reporting");
    }
    std::memcpy(&header, w.got.data() + 1, sizeof header);
    if (results != sizeof header + header.answered * sizeof(double)) {
      stop_workers(workers);
      fail(what + ": client process " + std::to_string(w.pid) + " (" + w.clients + ") reported " +
           std::to_string(results) + " bytes, not a whole result");
    }
    const auto* latencies = reinterpret_cast<const char*>(w.got.data() + 1 + sizeof header);
    for (uint64_t i = 0; i < header.answered; ++i) {
      double ms = 0;
      std::memcpy(&ms, latencies + i * sizeof(double), sizeof ms);
      all.push_back(ms);
    }
    f.refused += header.refused;
    f.lost += header.lost;
    longest = std::max(longest, header.seconds);
    client_cpu += header.cpu_seconds;
  }
  stop_workers(workers);  // all have reported and ended; this reaps them
  // The children report their last answer; the servers are sampled once every child has
  // reported, which also counts the drain of the last answers (at most a few ms).
  const auto after = sample_cpu(watched);
  const double wall = std::chrono::duration<double>(after.at - before.at).count();
  f.server_cpu = (cpu_seconds_of(answering) - answering_before) / wall;
  f.broker_cpu = (after.broker - before.broker) / wall;
  f.answered = all.size();
  f.client_cpu = longest > 0 ? client_cpu / longest : 0;
  if (all.empty()) return f;
  std::sort(all.begin(), all.end());
  f.p50_ms = all[all.size() / 2];
  f.p99_ms = all[all.size() * 99 / 100];
  f.rate = double(all.size()) / longest;
  return f;
}

// A bare responder on the same broker: every message on bench/echo/{n}/request goes back,
// unchanged, to bench/echo/{n}/reply. One paho client, as gatehouse has one.
class EchoResponder {
 public:
  EchoResponder(int broker_port, const std::string& secret) {
    client_ = connected("bench-echo-responder", "gatehouse", secret, broker_port);
    client_->set_message_callback([this](mqtt::const_message_ptr m) {
      std::string topic = m->get_topic();
      topic.replace(topic.size() - std::string("request").size(), std::string::npos, "reply");
      client_->publish(mqtt::make_message(topic, m->get_payload_str(), 1, false));
    });
    client_->subscribe("bench/echo/+/request", 1)->wait();
  }
  ~EchoResponder() {
    try {
      client_->disconnect()->wait();
    } catch (const std::exception&) {
    }
  }

 private:
  std::unique_ptr<mqtt::async_client> client_;
};

std::vector<Requester> echo_requesters(int clients, const std::string& secret,
                                       const std::vector<Requester>& like) {
  std::vector<Requester> out;
  for (int i = 0; i < clients; ++i) {
    auto base = "bench/echo/" + std::to_string(i);
    out.push_back({"bench-echo-" + std::to_string(i), "gatehouse", secret, base + "/request",
                   base + "/reply", like[size_t(i)].payload});
  }
  return out;
}

// ---- HTTP ----

std::unique_ptr<httplib::Client> http_client(int port) {
  auto c = std::make_unique<httplib::Client>(kHost, port);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  c->set_read_timeout(30, 0);
  return c;
}

// gatehouse's journal counters (GET /metrics), read before and after each of its runs: how
// many fsyncs a run took and how long an append waited for its batch to be durable.
struct JournalCounters {
  double appends = 0, events = 0, batches = 0;
  double append_seconds = 0;  // sum of append() -> durable
  double fsync_seconds = 0;   // sum of the synced batches' write + fsync
};

JournalCounters journal_counters(int http_port, const std::string& token) {
  JournalCounters c;
  auto http = http_client(http_port);
  auto res = http->Get("/metrics", {{"Authorization", "Bearer " + token}});
  if (!res || res->status != 200) return c;
  std::istringstream lines(res->body);
  std::string name;
  double value = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    if (!(fields >> name >> value)) continue;
    if (name == "gatehouse_journal_appends_total") c.appends = value;
    if (name == "gatehouse_journal_events_appended_total") c.events = value;
    if (name == "gatehouse_journal_batches_synced_total") c.batches = value;
    if (name == "gatehouse_journal_append_latency_seconds_sum") c.append_seconds = value;
    if (name == "gatehouse_journal_fsync_duration_seconds_sum") c.fsync_seconds = value;
  }
  return c;
}

// What the journal did between two readings, one line.
std::string journal_line(const JournalCounters& a, const JournalCounters& b, double answered) {
  const double appends = b.appends - a.appends, batches = b.batches - a.batches;
  if (appends <= 0 || batches <= 0) return "";
  char line[256];
  std::snprintf(line, sizeof line,
                "journal: %.0f appends in %.0f fsyncs (%.1f appends per fsync, %.2f fsyncs per "
                "answer), append -> durable mean %.2f ms, write + fsync mean %.2f ms",
                appends, batches, appends / batches, answered > 0 ? batches / answered : 0,
                (b.append_seconds - a.append_seconds) / appends * 1000,
                (b.fsync_seconds - a.fsync_seconds) / batches * 1000);
  return line;
}

// `connections` threads, each with one keep-alive connection, one request at a time (HTTP/1.1
// without pipelining), until `seconds` have passed.
Figures drive_http(
    int port, int connections, double seconds,
    const std::function<httplib::Result(httplib::Client&, int conn, uint64_t n)>& call,
    const std::function<bool(const httplib::Result&)>& is_success, const Watched& watched,
    pid_t answering) {
  Tally tally;
  std::atomic<uint64_t> lost{0};
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(http_client(port));
  const auto before = sample_cpu(watched);
  const double answering_before = cpu_seconds_of(answering);
  const double own_before = own_cpu_seconds();
  const auto start = Clock::now();
  const auto stop =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      for (uint64_t n = 0; Clock::now() < stop; ++n) {
        auto t = Clock::now();
        auto res = call(*clients[size_t(i)], i, n);
        if (!res) {
          lost.fetch_add(1);
          continue;
        }
        tally.add(ms_between(t, Clock::now()), is_success(res));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto f = tally.finish(start, lost.load());
  const auto after = sample_cpu(watched);
  const double wall = std::chrono::duration<double>(after.at - before.at).count();
  f.client_cpu = (own_cpu_seconds() - own_before) / wall;
  f.server_cpu = (cpu_seconds_of(answering) - answering_before) / wall;
  f.broker_cpu = (after.broker - before.broker) / wall;
  return f;
}

// A bare cpp-httplib server on a free port, one worker per connection (plain cpp-httplib
// keeps a worker per keep-alive connection).
class BareHttpServer {
 public:
  explicit BareHttpServer(int workers) {
    server_.new_task_queue = [workers] { return new httplib::ThreadPool(size_t(workers)); };
    server_.set_tcp_nodelay(true);
  }
  httplib::Server& routes() { return server_; }
  int start() {
    port_ = server_.bind_to_any_port(kHost);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return port_;
  }
  ~BareHttpServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// ---- the ceiling's server: a process of its own, as gatehouse is ----

// What a bare server answers to POST /api/rooms/{room}/messages.
const char* kPostedReply =
    R"({"ok":true,"message":{"room":"lobby","id":1,"author":"bench0","text":"hello"}})";

// Runs in the child: the echo responder, a bare HTTP server for the posts and one that relays
// a lock to a bare door over the broker. Writes the two HTTP ports to `report`, then serves
// until killed. Its own process, because paho runs every client of a process on one receive
// and one send thread: in the benchmark's process the ceiling would share them with the
// clients it answers, which gatehouse does not.
[[noreturn]] void serve_ceiling(int broker_port, const std::string& secret, int report) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  EchoResponder echo(broker_port, secret);
  BareHttpServer posts(64);
  posts.routes().Post(R"(/api/rooms/([^/]+)/messages)",
                      [](const httplib::Request&, httplib::Response& res) {
                        res.status = 201;
                        res.set_content(kPostedReply, "application/json");
                      });
  auto relay = connected("bench-echo-relay", "gatehouse", secret, broker_port);
  std::mutex mu;
  std::condition_variable cv;
  std::string last_state;
  relay->set_message_callback([&](mqtt::const_message_ptr m) {
    std::lock_guard lock(mu);
    last_state = m->get_payload_str();
    cv.notify_all();
  });
  relay->subscribe("bench/door/state", 1)->wait();
  nagle_off(broker_port);
  BareHttpServer locks(8);
  locks.routes().Post(R"(/devices/bench-door/(lock|unlock))", [&](const httplib::Request& req,
                                                                  httplib::Response& res) {
    const bool lock = req.matches[1] == "lock";
    std::unique_lock held(mu);
    last_state.clear();
    // Not under `mu`: the state's callback takes it on paho's receive thread, which holds
    // paho's global mutex there, and a publish from this thread takes that mutex (drive_group).
    held.unlock();
    relay->publish(mqtt::make_message("bench/door/command", lock ? "LOCK" : "UNLOCK", 1, false));
    held.lock();
    cv.wait_for(held, std::chrono::seconds(10), [&] { return !last_state.empty(); });
    res.set_content(R"({"ok":true,"command":{"status":"confirmed"}})", "application/json");
  });
  int ports[2] = {posts.start(), locks.start()};
  if (::write(report, ports, sizeof ports) != sizeof ports) std::_Exit(1);
  for (;;) ::pause();
}

struct Ceiling {
  pid_t pid = -1;
  int post_port = 0;
  int lock_port = 0;
  ~Ceiling() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Forks the ceiling's server; before any paho client exists in this process.
void start_ceiling(int broker_port, const std::string& secret, Ceiling& ceiling) {
  int fds[2];
  if (::pipe(fds) != 0) fail("pipe failed");
  ceiling.pid = ::fork();
  if (ceiling.pid < 0) fail("fork failed");
  if (ceiling.pid == 0) {
    ::close(fds[0]);
    serve_ceiling(broker_port, secret, fds[1]);
  }
  ::close(fds[1]);
  int ports[2] = {0, 0};
  if (::read(fds[0], ports, sizeof ports) != sizeof ports)
    fail("the ceiling's server did not start");
  ::close(fds[0]);
  ceiling.post_port = ports[0];
  ceiling.lock_port = ports[1];
}

// ---- setting gatehouse up as its users would ----

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

json post_json(httplib::Client& http, const std::string& path, const json& body,
               const httplib::Headers& headers = {}) {
  auto res = http.Post(path.c_str(), headers, body.dump(), "application/json");
  if (!res) fail("POST " + path + ": no answer");
  if (res->status >= 300)
    fail("POST " + path + ": " + std::to_string(res->status) + " " + res->body);
  return json::parse(res->body);
}

std::string user_name(int i) { return "bench" + std::to_string(i); }

// Registers users bench0..bench{n-1} and logs each in; returns their session tokens.
std::vector<std::string> users_with_sessions(int http_port, int n) {
  auto http = http_client(http_port);
  std::vector<std::string> tokens;
  for (int i = 0; i < n; ++i) {
    json who = {{"name", user_name(i)}, {"password", kPassword}};
    post_json(*http, "/api/users", who);
    tokens.push_back(post_json(*http, "/api/sessions", who).at("token").get<std::string>());
  }
  return tokens;
}

std::string read_secret(const std::string& path) {
  std::ifstream in(path);
  std::string secret;
  in >> secret;
  if (secret.empty()) fail("no secret in " + path);
  return secret;
}

// ---- the table ----

struct Row {
  std::string what;
  int window = 1;
  Figures gatehouse, ceiling;
  std::string ceiling_name;
  std::string journal;  // what gatehouse's journal did in its run
};

void print_figures(const char* who, const Figures& f) {
  std::printf("    %-10s %9.0f/s  p50 %7.2f ms  p99 %7.2f ms  (%llu answered", who, f.rate,
              f.p50_ms, f.p99_ms, (unsigned long long)f.answered);
  if (f.refused) std::printf(", %llu refused", (unsigned long long)f.refused);
  if (f.lost) std::printf(", %llu LOST", (unsigned long long)f.lost);
  std::printf(")\n");
  // Where the CPU went: a server near 2 cores, or clients near one core per process, is the
  // bound; otherwise the figure is latency (waits), not CPU.
  const double per_answer_us = f.rate > 0 ? f.server_cpu / f.rate * 1e6 : 0;
  std::printf(
      "               CPU: server %.2f cores (%.0f us per answer), broker %.2f, clients %.2f "
      "in %d process%s\n",
      f.server_cpu, per_answer_us, f.broker_cpu, f.client_cpu, f.client_processes,
      f.client_processes == 1 ? "" : "es");
}

void print_row(const Row& r) {
  std::printf("%s, window %d\n", r.what.c_str(), r.window);
  print_figures("gatehouse", r.gatehouse);
  if (!r.journal.empty()) std::printf("               %s\n", r.journal.c_str());
  print_figures(r.ceiling_name.c_str(), r.ceiling);
  std::printf("    ratio      %.2fx the rate, p50 %+.2f ms\n",
              r.ceiling.rate > 0 ? r.gatehouse.rate / r.ceiling.rate : 0,
              r.gatehouse.p50_ms - r.ceiling.p50_ms);
  std::fflush(stdout);
}

double load_average() {
  double one = 0;
  std::ifstream("/proc/loadavg") >> one;
  return one;
}

// A table ready to paste into docs/benchmarks.md.
void print_markdown(const std::vector<Row>& rows, double raw, double load_before,
                    double load_after) {
  std::printf(
      "\n| workload | window | gatehouse: rate, p50 | ceiling: rate, p50 | ratio | p50 above the "
      "ceiling | of the raw append ceiling | gatehouse CPU per answer |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& r : rows) {
    const bool one_room = r.what.find("one room") != std::string::npos ||
                          r.what.find("HTTP `POST") != std::string::npos;
    char of_raw[32] = "";
    if (one_room && raw > 0) std::snprintf(of_raw, sizeof of_raw, "%.2f", r.gatehouse.rate / raw);
    std::printf(
        "| %s | %d | %.0f/s, %.2f ms | %.0f/s, %.2f ms (%s) | %.2f | %+.2f ms | %s | %.0f us |\n",
        r.what.c_str(), r.window, r.gatehouse.rate, r.gatehouse.p50_ms, r.ceiling.rate,
        r.ceiling.p50_ms, r.ceiling_name.c_str(),
        r.ceiling.rate > 0 ? r.gatehouse.rate / r.ceiling.rate : 0,
        r.gatehouse.p50_ms - r.ceiling.p50_ms, of_raw,
        r.gatehouse.rate > 0 ? r.gatehouse.server_cpu / r.gatehouse.rate * 1e6 : 0);
  }
  std::printf(
      "| raw RocksDB, synced WriteBatch of 64 (`gatehouse_bench append`'s ceiling) | — | "
      "%.0f events/s | | | | | |\n",
      raw);
  std::printf("\n%u cores, load average %.1f before and %.1f after the run.\n",
              std::thread::hardware_concurrency(), load_before, load_after);
}

int run(const Options& o) {
  const double load_before = load_average();
  const std::string secret = read_secret(o.server_secret);
  Ceiling ceiling;
  start_ceiling(o.broker_port, secret, ceiling);
  const Watched watched{o.server_pid, o.broker_pid, ceiling.pid};
  std::vector<Row> rows;

  std::printf("setup: registering and logging in 64 users (Argon2id, about 5 s)\n");
  std::fflush(stdout);
  const auto tokens = users_with_sessions(o.http_port, 64);
  {
    // 64 rooms, one per client, each created by its client (its first member).
    auto http = http_client(o.http_port);
    for (int i = 0; i < 64; ++i)
      post_json(*http, "/api/rooms", {{"name", "bench-room-" + std::to_string(i)}},
                bearer(tokens[size_t(i)]));
  }

  // Legacy chatsend: 20 anonymous seed clients, each posting into the lobby as its user.
  std::vector<Requester> legacy;
  for (int i = 0; i < 20; ++i) {
    auto back = "bench-legacy-" + std::to_string(i);
    legacy.push_back({"bench-legacy-client-" + std::to_string(i),
                      "",
                      "",
                      "chatsend",
                      back,
                      {Payload::Kind::legacy, user_name(i), back, "", ""}});
  }
  // v1 chat/post: 64 clients logged in as their users (session token as the MQTT password).
  auto v1 = [&](bool own_rooms) {
    std::vector<Requester> out;
    for (int i = 0; i < 64; ++i) {
      auto id = "bench-v1-" + std::to_string(i);
      auto room = own_rooms ? "bench-room-" + std::to_string(i) : std::string("lobby");
      const auto inbox = "gatehouse/inbox/" + id + "/r";
      out.push_back({id,
                     user_name(i),
                     tokens[size_t(i)],
                     "gatehouse/chat/post",
                     inbox,
                     {Payload::Kind::v1, "", inbox, tokens[size_t(i)], room}});
    }
    return out;
  };
  struct MqttWorkload {
    std::string what;
    std::vector<Requester> requesters;
    Success success;
  };
  std::vector<MqttWorkload> mqtt_workloads = {
      {"MQTT legacy `chatsend`, 20 users, lobby", legacy, Success::legacy},
      {"MQTT `chat/post`, 64 clients, one room", v1(false), Success::v1},
      {"MQTT `chat/post`, 64 clients, 64 rooms", v1(true), Success::v1}};
  auto wanted = [&](const std::string& what) { return what.find(o.only) != std::string::npos; };
  for (const auto& w : mqtt_workloads) {
    if (!wanted(w.what)) continue;
    for (int window : {1, 100}) {
      if (o.window != 0 && window != o.window) continue;
      Row r{w.what, window, {}, {}, "echo", {}};
      const auto journal_before = journal_counters(o.http_port, o.token);
      const auto name = w.what + ", window " + std::to_string(window);
      r.gatehouse = drive(name + " (gatehouse)", o.broker_port, w.requesters, window, o.seconds,
                          w.success, o.client_processes, watched, o.server_pid);
      r.journal = journal_line(journal_before, journal_counters(o.http_port, o.token),
                               double(r.gatehouse.answered));
      r.ceiling = drive(name + " (echo)", o.broker_port,
                        echo_requesters(int(w.requesters.size()), secret, w.requesters), window,
                        o.seconds, Success::any, o.client_processes, watched, ceiling.pid);
      print_row(r);
      rows.push_back(r);
    }
  }

  // HTTP post: 64 keep-alive connections, one user each, into the lobby.
  if (wanted("HTTP post")) {
    auto post = [&](httplib::Client& c, int conn, uint64_t n) {
      return c.Post("/api/rooms/lobby/messages", bearer(tokens[size_t(conn)]),
                    json{{"text", "hello " + std::to_string(n)}}.dump(), "application/json");
    };
    auto created = [](const httplib::Result& r) { return r->status == 201; };
    Row r{"HTTP `POST /api/rooms/lobby/messages`, 64 keep-alive connections",
          1,
          {},
          {},
          "bare httplib",
          {}};
    const auto journal_before = journal_counters(o.http_port, o.token);
    r.gatehouse = drive_http(o.http_port, 64, o.seconds, post, created, watched, o.server_pid);
    r.journal = journal_line(journal_before, journal_counters(o.http_port, o.token),
                             double(r.gatehouse.answered));
    r.ceiling = drive_http(ceiling.post_port, 64, o.seconds, post, created, watched, ceiling.pid);
    print_row(r);
    rows.push_back(r);
  }

  // HTTP lock round trip: a door provisioned by the operator answers every command at once.
  if (wanted("HTTP lock")) {
    auto http = http_client(o.http_port);
    auto door =
        post_json(*http, "/devices", {{"id", "bench-door"}, {"type", "lock"}, {"name", "bench"}},
                  bearer(o.token));
    auto door_secret = door.at("credential").at("secret").get<std::string>();
    auto device = connected("bench-door", "bench-door", door_secret, o.broker_port);
    device->set_message_callback([&device](mqtt::const_message_ptr m) {
      auto state = m->get_payload_str() == "LOCK" ? "LOCKED" : "UNLOCKED";
      device->publish(mqtt::make_message("gatehouse/devices/bench-door/state", state, 1, false));
    });
    device->subscribe("gatehouse/devices/bench-door/command", 1)->wait();
    device
        ->publish(mqtt::make_message("gatehouse/devices/bench-door/hello",
                                     R"({"type":"lock","name":"bench"})", 1, false))
        ->wait();

    // The ceiling: a bare httplib server (serve_ceiling) that sends the command to a bare
    // door on the same broker and answers when the door's state comes back: HTTP plus the
    // same two hops.
    auto door_echo = connected("bench-echo-door", "gatehouse", secret, o.broker_port);
    door_echo->set_message_callback([&door_echo](mqtt::const_message_ptr m) {
      auto state = m->get_payload_str() == "LOCK" ? "LOCKED" : "UNLOCKED";
      door_echo->publish(mqtt::make_message("bench/door/state", state, 1, false));
    });
    door_echo->subscribe("bench/door/command", 1)->wait();
    nagle_off(o.broker_port);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the hello is applied
    auto lock = [&](httplib::Client& c, int, uint64_t n) {
      auto path = std::string("/devices/bench-door/") + (n % 2 ? "unlock" : "lock") + "?wait=10";
      return c.Post(path.c_str(), bearer(o.token), "", "text/plain");
    };
    auto confirmed = [](const httplib::Result& r) {
      return r->status == 200 && r->body.find("\"confirmed\"") != std::string::npos;
    };
    Row r{"HTTP lock round trip (`lock?wait` → door → state → confirmed)",
          1,
          {},
          {},
          "bare relay",
          {}};
    const auto journal_before = journal_counters(o.http_port, o.token);
    r.gatehouse = drive_http(o.http_port, 1, o.seconds, lock, confirmed, watched, o.server_pid);
    r.journal = journal_line(journal_before, journal_counters(o.http_port, o.token),
                             double(r.gatehouse.answered));
    r.ceiling = drive_http(ceiling.lock_port, 1, o.seconds, lock, confirmed, watched, ceiling.pid);
    print_row(r);
    rows.push_back(r);
    device->disconnect()->wait();
    door_echo->disconnect()->wait();
  }

  std::filesystem::remove_all(o.dir);
  std::filesystem::create_directories(o.dir);
  const double raw = raw_rocksdb_batches_of_64(o.dir / "raw", 3000, 72);
  std::filesystem::remove_all(o.dir);
  std::printf("append: raw RocksDB sync WriteBatch-of-64 %9.0f events/s\n", raw);
  for (const auto& r : rows) {
    if (r.what.find("one room") != std::string::npos || r.what.find("HTTP `POST") == 0)
      std::printf("    %s, window %d: %.2f of the raw ceiling\n", r.what.c_str(), r.window,
                  r.gatehouse.rate / raw);
  }
  print_markdown(rows, raw, load_before, load_average());
  return 0;
}

}  // namespace
}  // namespace gh::bench

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--worker") return gh::bench::worker_main();
  gh::bench::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) gh::bench::fail(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--broker-port") {
      o.broker_port = std::stoi(value());
    } else if (arg == "--http-port") {
      o.http_port = std::stoi(value());
    } else if (arg == "--token") {
      o.token = value();
    } else if (arg == "--server-secret") {
      o.server_secret = value();
    } else if (arg == "--seconds") {
      o.seconds = std::stod(value());
    } else if (arg == "--window") {
      o.window = std::stoi(value());
    } else if (arg == "--only") {
      o.only = value();
    } else if (arg == "--client-processes") {
      o.client_processes = std::stoi(value());
    } else if (arg == "--server-pid") {
      o.server_pid = std::stoi(value());
    } else if (arg == "--broker-pid") {
      o.broker_pid = std::stoi(value());
    } else if (arg == "--dir") {
      o.dir = value();
    } else {
      gh::bench::fail("unknown argument " + arg + " (see bench/wire_bench.cpp)");
    }
  }
  if (o.broker_port == 0 || o.http_port == 0 || o.token.empty() || o.server_secret.empty())
    gh::bench::fail("--broker-port, --http-port, --token and --server-secret are required");
  return gh::bench::run(o);
}
