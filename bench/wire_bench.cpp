// The wire-level benchmark (docs/benchmarks.md "Over the wire"): drives a running gatehouse
// over MQTT and HTTP exactly as its clients do, and measures in the same run the ceiling of
// each workload: a bare responder on the same broker (or a bare cpp-httplib server), with
// the same client library and settings, that answers at once with no logic and no disk.
//
//   gatehouse_wire_bench --broker-port P --http-port H --token T --server-secret FILE
//                        [--seconds S] [--dir DIR]
//
// bench/wire.sh starts gatehouse on a temporary store with free ports and runs this. T is an
// operator API token (it provisions the door); FILE holds gatehouse's own broker password
// (RUN-DIR/mqtt-server.secret), with which the echo responders connect: only that identity
// may use topics outside gatehouse's, so the ceiling pays the broker's access checks too.
#include <httplib.h>
#include <mqtt/async_client.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "adapters/mqtt/tcp_nodelay.h"
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
  std::string only;  // run only the workloads whose name contains this
  int window = 0;    // run only this window (0: both)
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

// One client of a workload: who it is, where it asks, where it is answered, what it sends.
struct Requester {
  std::string client_id, user, password;
  std::string request_topic, reply_topic;
  std::function<std::string(uint64_t)> payload;  // the n-th request
};

// Each requester keeps `window` requests outstanding until `seconds` have passed, then waits
// (at most 10 s) for the answers still due. Answers are matched to requests in order: every
// workload here answers one client's requests in the order they were sent.
Figures drive(int broker_port, const std::vector<Requester>& specs, int window, double seconds,
              const std::function<bool(const std::string&)>& is_success) {
  struct Live {
    const Requester* spec = nullptr;
    std::unique_ptr<mqtt::async_client> client;
    std::mutex mu;
    std::deque<Clock::time_point> sent;
    uint64_t next = 0;
  };
  Tally tally;
  std::atomic<bool> sending{false};
  std::atomic<int64_t> outstanding{0};
  std::vector<std::unique_ptr<Live>> live;
  // All at once: paho completes a connect only on its receive thread's next turn (up to a
  // second or two with many clients), so one after the other takes minutes.
  std::vector<mqtt::token_ptr> connecting;
  for (const auto& spec : specs) {
    auto l = std::make_unique<Live>();
    l->spec = &spec;
    l->client = client_of(spec.client_id, broker_port);
    connecting.push_back(l->client->connect(connect_options(spec.user, spec.password)));
    live.push_back(std::move(l));
  }
  for (size_t i = 0; i < live.size(); ++i) wait_connected(connecting[i], specs[i].client_id);
  auto send_one = [&](Live& l) {  // l.mu held
    l.sent.push_back(Clock::now());
    outstanding.fetch_add(1);
    l.client->publish(
        mqtt::make_message(l.spec->request_topic, l.spec->payload(l.next++), 1, false));
  };
  for (auto& l : live) {
    Live* raw = l.get();
    raw->client->set_message_callback([&, raw](mqtt::const_message_ptr m) {
      const auto now = Clock::now();
      std::lock_guard lock(raw->mu);
      if (raw->sent.empty()) return;  // a stray answer
      tally.add(ms_between(raw->sent.front(), now), is_success(m->get_payload_str()));
      raw->sent.pop_front();
      outstanding.fetch_sub(1);
      if (sending.load()) send_one(*raw);
    });
    auto token = raw->client->subscribe(raw->spec->reply_topic, 1);
    token->wait();
    auto granted = token->get_subscribe_response();
    for (auto code : granted.get_reason_codes())
      if (int(code) >= 0x80) fail("subscription to " + raw->spec->reply_topic + " refused");
  }
  nagle_off(broker_port);
  const auto start = Clock::now();
  sending = true;
  for (auto& l : live) {
    std::lock_guard lock(l->mu);
    for (int i = 0; i < window; ++i) send_one(*l);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  sending = false;
  // What is still due: waited for until 10 s pass without an answer, or 60 s in all (then it
  // counts as lost).
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
  auto figures = tally.finish(start, uint64_t(std::max<int64_t>(0, outstanding.load())));
  // All at once, and at most 5 s in all: a client whose answers never came back would
  // otherwise hold each disconnect for its full timeout.
  std::vector<mqtt::token_ptr> leaving;
  for (auto& l : live) {
    try {
      leaving.push_back(l->client->disconnect(0));
    } catch (const std::exception&) {
    }
  }
  const auto leave_until = Clock::now() + std::chrono::seconds(5);
  for (auto& t : leaving) {
    try {
      t->wait_until(leave_until);
    } catch (const std::exception&) {
    }
  }
  return figures;
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

// `connections` threads, each with one keep-alive connection, one request at a time (HTTP/1.1
// without pipelining), until `seconds` have passed.
Figures drive_http(
    int port, int connections, double seconds,
    const std::function<httplib::Result(httplib::Client&, int conn, uint64_t n)>& call,
    const std::function<bool(const httplib::Result&)>& is_success) {
  Tally tally;
  std::atomic<uint64_t> lost{0};
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < connections; ++i) clients.push_back(http_client(port));
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
  return tally.finish(start, lost.load());
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
    relay->publish(mqtt::make_message("bench/door/command", lock ? "LOCK" : "UNLOCK", 1, false));
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
};

void print_figures(const char* who, const Figures& f) {
  std::printf("    %-10s %9.0f/s  p50 %7.2f ms  p99 %7.2f ms  (%llu answered", who, f.rate,
              f.p50_ms, f.p99_ms, (unsigned long long)f.answered);
  if (f.refused) std::printf(", %llu refused", (unsigned long long)f.refused);
  if (f.lost) std::printf(", %llu LOST", (unsigned long long)f.lost);
  std::printf(")\n");
}

void print_row(const Row& r) {
  std::printf("%s, window %d\n", r.what.c_str(), r.window);
  print_figures("gatehouse", r.gatehouse);
  print_figures(r.ceiling_name.c_str(), r.ceiling);
  std::printf("    ratio      %.2fx the rate, p50 +%.2f ms\n",
              r.ceiling.rate > 0 ? r.gatehouse.rate / r.ceiling.rate : 0,
              r.gatehouse.p50_ms - r.ceiling.p50_ms);
  std::fflush(stdout);
}

void print_markdown(const std::vector<Row>& rows, double raw) {
  std::printf("\n| workload | window | gatehouse: rate, p50 | ceiling: rate, p50 | ratio |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  for (const auto& r : rows) {
    std::printf("| %s | %d | %.0f/s, %.2f ms | %.0f/s, %.2f ms (%s) | %.2f |\n", r.what.c_str(),
                r.window, r.gatehouse.rate, r.gatehouse.p50_ms, r.ceiling.rate, r.ceiling.p50_ms,
                r.ceiling_name.c_str(), r.ceiling.rate > 0 ? r.gatehouse.rate / r.ceiling.rate : 0);
  }
  std::printf(
      "| raw RocksDB, synced WriteBatch of 64 (`gatehouse_bench append`'s ceiling) | — | "
      "%.0f events/s | | |\n",
      raw);
}

bool legacy_success(const std::string& answer) {
  return answer.find("'code': 1") != std::string::npos;
}
bool v1_success(const std::string& answer) {
  return answer.find("\"ok\":true") != std::string::npos;
}
bool any_answer(const std::string&) { return true; }

int run(const Options& o) {
  const std::string secret = read_secret(o.server_secret);
  Ceiling ceiling;
  start_ceiling(o.broker_port, secret, ceiling);
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
    legacy.push_back({"bench-legacy-client-" + std::to_string(i), "", "", "chatsend", back,
                      [user = user_name(i), back](uint64_t n) {
                        return "{'userName': '" + user + "', 'message': 'hello " +
                               std::to_string(n) + "', 'returnTopic': '" + back + "'}";
                      }});
  }
  // v1 chat/post: 64 clients logged in as their users (session token as the MQTT password).
  auto v1 = [&](bool own_rooms) {
    std::vector<Requester> out;
    for (int i = 0; i < 64; ++i) {
      auto id = "bench-v1-" + std::to_string(i);
      auto room = own_rooms ? "bench-room-" + std::to_string(i) : std::string("lobby");
      out.push_back({id, user_name(i), tokens[size_t(i)], "gatehouse/chat/post",
                     "gatehouse/inbox/" + id + "/r",
                     [id, room, token = tokens[size_t(i)]](uint64_t n) {
                       return json{{"id", n},
                                   {"reply_to", "gatehouse/inbox/" + id + "/r"},
                                   {"token", token},
                                   {"room", room},
                                   {"text", "hello " + std::to_string(n)}}
                           .dump();
                     }});
    }
    return out;
  };
  struct MqttWorkload {
    std::string what;
    std::vector<Requester> requesters;
    std::function<bool(const std::string&)> is_success;
  };
  std::vector<MqttWorkload> mqtt_workloads = {
      {"MQTT legacy `chatsend`, 20 users, lobby", legacy, legacy_success},
      {"MQTT `chat/post`, 64 clients, one room", v1(false), v1_success},
      {"MQTT `chat/post`, 64 clients, 64 rooms", v1(true), v1_success}};
  auto wanted = [&](const std::string& what) { return what.find(o.only) != std::string::npos; };
  for (const auto& w : mqtt_workloads) {
    if (!wanted(w.what)) continue;
    for (int window : {1, 100}) {
      if (o.window != 0 && window != o.window) continue;
      Row r{w.what, window, {}, {}, "echo"};
      r.gatehouse = drive(o.broker_port, w.requesters, window, o.seconds, w.is_success);
      r.ceiling =
          drive(o.broker_port, echo_requesters(int(w.requesters.size()), secret, w.requesters),
                window, o.seconds, any_answer);
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
          "bare httplib"};
    r.gatehouse = drive_http(o.http_port, 64, o.seconds, post, created);
    r.ceiling = drive_http(ceiling.post_port, 64, o.seconds, post, created);
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
    Row r{"HTTP lock round trip (`lock?wait` → door → state → confirmed)", 1, {}, {}, "bare relay"};
    r.gatehouse = drive_http(o.http_port, 1, o.seconds, lock, confirmed);
    r.ceiling = drive_http(ceiling.lock_port, 1, o.seconds, lock, confirmed);
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
  print_markdown(rows, raw);
  return 0;
}

}  // namespace
}  // namespace gh::bench

int main(int argc, char** argv) {
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
