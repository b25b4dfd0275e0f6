#include "tests/campaigns/crash_clients.h"

#include <httplib.h>
#include <mqtt/async_client.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "adapters/mqtt/tcp_nodelay.h"

namespace gh::testing {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kHost = "127.0.0.1";
const std::string kPrefix = "gatehouse";

httplib::Client http_client(const Target& target) {
  httplib::Client client(kHost, target.http_port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(10, 0);
  client.set_tcp_nodelay(true);
  return client;
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

json body_of(const httplib::Result& result) {
  if (!result) return json();
  return json::parse(result->body, nullptr, false);
}

std::string broker_url(const Target& target) {
  return "tcp://" + std::string(kHost) + ":" + std::to_string(target.broker_port);
}

// A paho client with no persistence; its callbacks must not block.
std::unique_ptr<mqtt::async_client> mqtt_client(const Target& target, const std::string& id) {
  return std::make_unique<mqtt::async_client>(broker_url(target), id, mqtt::create_options(4),
                                              nullptr);
}

bool connect_as(mqtt::async_client& client, const Target& target, const std::string& user,
                const std::string& password) {
  try {
    auto options = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_3_1_1)
                       .clean_session(true)
                       .user_name(user)
                       .password(password)
                       .finalize();
    if (!client.connect(options)->wait_for(10s)) return false;
    (void)mqtt_adapter::set_nodelay_to_peer(kHost, uint16_t(target.broker_port));
    return client.is_connected();
  } catch (const std::exception&) {
    return false;
  }
}

void disconnect_quietly(mqtt::async_client& client) {
  try {
    client.set_message_callback([](mqtt::const_message_ptr) {});
    if (client.is_connected()) client.disconnect()->wait_for(2s);
  } catch (const std::exception&) {
  }
}

bool publish(mqtt::async_client& client, const std::string& topic, const std::string& payload) {
  try {
    client.publish(topic, payload.data(), payload.size(), 1, false);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Waits on `cv` until `done` holds, `stop` is set or `limit` has passed; true when `done`
// holds. Nobody notifies at `stop`, so it is polled.
template <typename Done>
bool wait_unless_stopped(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         std::chrono::milliseconds limit, const std::atomic<bool>& stop,
                         Done done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (stop || std::chrono::steady_clock::now() >= deadline) return false;
    cv.wait_for(lock, 20ms);
  }
  return true;
}

}  // namespace

void ClientTrouble::add(const std::string& what) {
  std::lock_guard lock(mu_);
  notes_.push_back(what);
}
uint64_t ClientTrouble::count() const {
  std::lock_guard lock(mu_);
  return notes_.size();
}
std::vector<std::string> ClientTrouble::notes() const {
  std::lock_guard lock(mu_);
  return notes_;
}

std::string provision_door(const Target& target, const std::string& id) {
  auto client = http_client(target);
  auto body = body_of(
      client.Post("/devices", bearer(target.token), json{{"id", id}}.dump(), "application/json"));
  if (!body.is_object() || !body.value("ok", false)) return "";
  return body["credential"].value("secret", "");
}

bool register_person(const Target& target, const Person& person) {
  auto client = http_client(target);
  auto result = client.Post("/api/users", {},
                            json{{"name", person.name}, {"password", person.password}}.dump(),
                            "application/json");
  return result && result->status == 201;
}

std::string login(const Target& target, const Person& person, WriteLedger& ledger) {
  auto client = http_client(target);
  auto result = client.Post("/api/sessions", {},
                            json{{"name", person.name}, {"password", person.password}}.dump(),
                            "application/json");
  if (!result || result->status != 201) return "";
  auto body = body_of(result);
  const std::string token = body.is_object() ? body.value("token", "") : "";
  // The value is the login's place in the order of acknowledgement: a user keeps only their
  // newest sessions, so the check looks up the newest.
  static std::atomic<uint64_t> order{0};
  if (!token.empty()) ledger.acked("sessions/" + person.name, token, std::to_string(++order));
  return token;
}

// ---- the door ----

namespace {

// What a door knows from its retained status: the pending command.
struct PendingView {
  std::string id, action, status;
};

class PlayedDoor {
 public:
  PlayedDoor(const Target& target, const DoorIdentity& door, WriteLedger& ledger)
      : target_(target),
        door_(door),
        ledger_(ledger),
        client_(mqtt_client(target, door.id + "-c" + std::to_string(target.cycle))) {
    client_->set_message_callback([this](mqtt::const_message_ptr m) { on_message(m); });
  }
  ~PlayedDoor() { disconnect_quietly(*client_); }

  bool start() {
    if (!connect_as(*client_, target_, door_.id, door_.secret)) return false;
    try {
      const std::string base = kPrefix + "/devices/" + door_.id;
      if (!client_->subscribe(base + "/command", 1)->wait_for(10s)) return false;
      if (!client_->subscribe(base + "/status", 1)->wait_for(10s)) return false;
    } catch (const std::exception&) {
      return false;
    }
    return publish(
        *client_, base() + "/hello",
        json{{"type", "lock"}, {"firmware", "c" + std::to_string(target_.cycle)}}.dump());
  }

  // Answers each LOCK/UNLOCK once the status names it: a command sent and not yet answered
  // (a status naming an answered one is older than the command). Ignores GET: a report
  // that no command of ours asked for could confirm a command nobody recorded as reported.
  void run(const std::atomic<bool>& stop) {
    std::unique_lock lock(mu_);
    while (!stop) {
      if (!cv_.wait_for(lock, 50ms, [&] { return !commands_.empty(); })) continue;
      const std::string word = commands_.front();
      commands_.pop_front();
      const bool named = wait_unless_stopped(lock, cv_, 2s, stop, [&] {
        return pending_.action == word && pending_.status == "sent" &&
               !reported_.count(pending_.id);
      });
      if (!named) continue;
      const std::string command_id = pending_.id;
      reported_.insert(command_id);
      lock.unlock();
      ledger_.sent("confirmations/" + door_.id, command_id, "confirmed");
      publish(*client_, base() + "/state", word == "LOCK" ? "LOCKED" : "UNLOCKED");
      lock.lock();
    }
  }

 private:
  std::string base() const { return kPrefix + "/devices/" + door_.id; }

  void on_message(const mqtt::const_message_ptr& m) {
    const std::string topic = m->get_topic();
    const std::string payload = m->get_payload_str();
    std::lock_guard lock(mu_);
    if (topic == base() + "/command") {
      if (payload == "LOCK" || payload == "UNLOCK") commands_.push_back(payload);
    } else if (topic == base() + "/status") {
      auto status = json::parse(payload, nullptr, false);
      if (!status.is_object()) return;
      const auto& p = status["pending"];
      pending_ = p.is_object() ? PendingView{p.value("command_id", ""), p.value("action", ""),
                                             p.value("status", "")}
                               : PendingView{};
    }
    cv_.notify_all();
  }

  const Target& target_;
  const DoorIdentity& door_;
  WriteLedger& ledger_;
  std::unique_ptr<mqtt::async_client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> commands_;
  PendingView pending_;
  std::set<std::string> reported_;
};

}  // namespace

void run_door(const Target& target, const DoorIdentity& door, WriteLedger& ledger,
              const std::atomic<bool>& stop) {
  PlayedDoor played(target, door, ledger);
  if (!played.start()) return;  // gatehouse (and its broker) killed before the door was in
  played.run(stop);
}

// ---- HTTP lock/unlock ----

bool send_command(httplib::Client& client, const Target& target, const std::string& door,
                  const std::string& key, const std::string& action, int wait_s,
                  WriteLedger& ledger, ClientTrouble& trouble) {
  const std::string subject = "commands/" + door;
  ledger.sent(subject, key, action);
  auto headers = bearer(target.token);
  headers.emplace("Idempotency-Key", key);
  const std::string path = "/devices/" + door + "/" + (action == "LOCK" ? "lock" : "unlock") +
                           "?wait=" + std::to_string(wait_s);
  auto result = client.Post(path, headers, std::string(), "application/json");
  if (!result || (result->status != 200 && result->status != 202)) return false;
  auto body = body_of(result);
  if (!body.is_object() || body.value("command_id", "") != key ||
      body["command"].value("action", "") != action) {
    trouble.add(door + ": the answer to " + action + " with Idempotency-Key " + key +
                " names another command: " + result->body.substr(0, 300));
    return false;
  }
  ledger.acked(subject, key, action);
  if (body["command"].value("status", "") == "confirmed")
    ledger.acked("confirmations/" + door, key, "confirmed");
  return true;
}

void run_locker(const Target& target, const std::string& door, WriteLedger& ledger,
                const std::atomic<bool>& stop, ClientTrouble& trouble) {
  auto client = http_client(target);
  std::mt19937_64 rng(std::hash<std::string>{}(door) + target.cycle);
  for (uint64_t n = 0; !stop; ++n) {
    const std::string key =
        "k" + std::to_string(target.cycle) + "-" + door + "-" + std::to_string(n);
    const std::string action = rng() % 2 ? "LOCK" : "UNLOCK";
    // Waits for the outcome (the door answers in milliseconds), so that a command is
    // superseded only when the door did not answer it.
    if (!send_command(client, target, door, key, action, 5, ledger, trouble)) {
      std::this_thread::sleep_for(20ms);  // killed, most likely: stop is coming
    }
  }
}

Repeats& Repeats::operator+=(const Repeats& other) {
  unanswered += other.unanswered;
  answered += other.answered;
  return *this;
}

Repeats retry_commands(const Target& target, const std::string& door, WriteLedger& ledger,
                       ClientTrouble& trouble) {
  auto client = http_client(target);
  Repeats repeats;
  // The newest answered ones first: the ledger lists keys in their order, not in time.
  std::vector<std::pair<std::string, std::string>> newest;
  const std::string previous = "k" + std::to_string(target.cycle - 1) + "-";
  for (const auto& [key, action] : ledger.acked_writes("commands/" + door))
    if (key.rfind(previous, 0) == 0) newest.emplace_back(key, action);
  std::sort(newest.begin(), newest.end(), [](const auto& a, const auto& b) {
    return std::stoull(a.first.substr(a.first.rfind('-') + 1)) >
           std::stoull(b.first.substr(b.first.rfind('-') + 1));
  });
  if (newest.size() > 2) newest.resize(2);
  for (const auto& [key, action] : ledger.unknown_writes("commands/" + door)) {
    send_command(client, target, door, key, action, 0, ledger, trouble);
    ++repeats.unanswered;
  }
  for (const auto& [key, action] : newest) {
    send_command(client, target, door, key, action, 0, ledger, trouble);
    ++repeats.answered;
  }
  return repeats;
}

// ---- chat ----

namespace {

class Poster {
 public:
  Poster(const Target& target, const Person& person, WriteLedger& ledger)
      : target_(target),
        person_(person),
        ledger_(ledger),
        client_id_("poster-" + person.name),
        client_(mqtt_client(target, client_id_)) {
    client_->set_message_callback([this](mqtt::const_message_ptr m) {
      auto answer = json::parse(m->get_payload_str(), nullptr, false);
      if (!answer.is_object() || !answer["id"].is_string()) return;
      std::lock_guard lock(mu_);
      answers_[answer["id"].get<std::string>()] = answer.value("ok", false);
      cv_.notify_all();
    });
  }
  ~Poster() { disconnect_quietly(*client_); }

  bool start() {
    token_ = login(target_, person_, ledger_);
    if (token_.empty() || !connect_as(*client_, target_, person_.name, token_)) return false;
    try {
      return client_->subscribe(kPrefix + "/inbox/" + client_id_ + "/#", 1)->wait_for(10s);
    } catch (const std::exception&) {
      return false;
    }
  }

  // Posts `text` as `msg_id` and waits for the answer; acknowledged when it is ok.
  void post(const std::string& msg_id, const std::string& text, const std::atomic<bool>& stop) {
    ledger_.sent("posts/lobby", msg_id, text);
    const json request{
        {"id", msg_id},    {"reply_to", kPrefix + "/inbox/" + client_id_ + "/replies"},
        {"token", token_}, {"room", "lobby"},
        {"text", text},    {"client_msg_id", msg_id}};
    if (!publish(*client_, kPrefix + "/chat/post", request.dump())) {
      std::this_thread::sleep_for(20ms);
      return;
    }
    std::unique_lock lock(mu_);
    if (wait_unless_stopped(lock, cv_, 5s, stop, [&] { return answers_.count(msg_id) > 0; }) &&
        answers_[msg_id])
      ledger_.acked("posts/lobby", msg_id, text);
  }

  std::string text_of(const std::string& msg_id) const { return msg_id + " by " + person_.name; }

 private:
  const Target& target_;
  const Person& person_;
  WriteLedger& ledger_;
  std::string client_id_;
  std::string token_;
  std::unique_ptr<mqtt::async_client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, bool> answers_;
};

}  // namespace

void run_poster(const Target& target, const Person& person, WriteLedger& ledger,
                const std::atomic<bool>& stop, Repeats& repeats) {
  Poster poster(target, person, ledger);
  if (!poster.start()) return;
  const std::string mine = "-" + person.name + "-";
  Repeats mine_repeated;
  for (const auto& [msg_id, text] : ledger.unknown_writes("posts/lobby")) {
    if (stop) break;
    if (msg_id.find(mine) == std::string::npos) continue;
    poster.post(msg_id, text, stop);
    ++mine_repeated.unanswered;
  }
  // The newest answered post of the previous cycle, once more: answered, never posted twice.
  const std::string previous = "p" + std::to_string(target.cycle - 1) + mine;
  std::pair<uint64_t, std::string> newest{0, ""};
  for (const auto& [msg_id, text] : ledger.acked_writes("posts/lobby")) {
    if (msg_id.rfind(previous, 0) != 0) continue;
    newest = std::max(newest, {std::stoull(msg_id.substr(previous.size())) + 1, msg_id});
  }
  if (!stop && newest.first > 0) {
    poster.post(newest.second, poster.text_of(newest.second), stop);
    ++mine_repeated.answered;
  }
  {
    static std::mutex mu;
    std::lock_guard lock(mu);
    repeats += mine_repeated;
  }
  // Ten posts a second: every restart reads the whole lobby back, so its size sets the
  // cost of a long campaign.
  for (uint64_t n = 0; !stop; ++n) {
    const std::string msg_id = "p" + std::to_string(target.cycle) + mine + std::to_string(n);
    poster.post(msg_id, poster.text_of(msg_id), stop);
    std::this_thread::sleep_for(100ms);
  }
}

void run_logins(const Target& target, const Person& person, WriteLedger& ledger,
                const std::atomic<bool>& stop) {
  while (!stop) {
    if (login(target, person, ledger).empty()) std::this_thread::sleep_for(20ms);
  }
}

}  // namespace gh::testing
