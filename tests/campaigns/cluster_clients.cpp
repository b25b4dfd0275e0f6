#include "tests/campaigns/cluster_clients.h"

#include <httplib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace gh::testing {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* kHost = "127.0.0.1";

// A paused node accepts connections and answers nothing: the read timeout is what moves a
// client on to the next node.
std::unique_ptr<httplib::Client> node_client(int port) {
  auto client = std::make_unique<httplib::Client>(kHost, port);
  client->set_connection_timeout(1, 0);
  client->set_read_timeout(3, 0);
  client->set_write_timeout(3, 0);
  client->set_tcp_nodelay(true);
  return client;
}

Target node_target(const ClusterTarget& target, size_t node) {
  Target t;
  t.http_port = target.http_ports[node];
  t.token = target.token;
  return t;
}

// Calls `attempt(node)` on each node in turn, starting at `first`, until it succeeds or
// `rounds` rounds have passed; true on success.
template <typename Attempt>
bool on_some_node(const ClusterTarget& target, size_t first, int rounds, Attempt attempt) {
  const size_t n = target.http_ports.size();
  for (size_t i = 0; i < n * size_t(rounds); ++i) {
    if (attempt((first + i) % n)) return true;
    if ((i + 1) % n == 0) std::this_thread::sleep_for(500ms);
  }
  return false;
}

// Sends one write until it is acknowledged or `stop`: `attempt(client, node)` true when
// acknowledged; after a failure, the next node. Counts into `progress`.
template <typename Attempt>
void until_acknowledged(const ClusterTarget& target,
                        std::vector<std::unique_ptr<httplib::Client>>& clients, size_t& node,
                        ClientProgress& progress, const std::atomic<bool>& stop, Attempt attempt) {
  while (!stop) {
    if (attempt(*clients[node], node)) {
      progress.acked++;
      progress.last_ack_s = wall_seconds();
      return;
    }
    progress.attempts_failed++;
    node = (node + 1) % target.http_ports.size();
    std::this_thread::sleep_for(100ms);
  }
}

std::vector<std::unique_ptr<httplib::Client>> clients_of(const ClusterTarget& target) {
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int port : target.http_ports) clients.push_back(node_client(port));
  return clients;
}

}  // namespace

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool provision_door_anywhere(const ClusterTarget& target, const std::string& id, int rounds) {
  return on_some_node(target, 0, rounds, [&](size_t node) {
    return !provision_door(node_target(target, node), id).empty();
  });
}

std::string prepare_poster(const ClusterTarget& target, const Person& person, WriteLedger& ledger,
                           int rounds) {
  if (!on_some_node(target, 0, rounds, [&](size_t node) {
        return register_person(node_target(target, node), person);
      }))
    return "";
  std::string session;
  if (!on_some_node(target, 0, rounds, [&](size_t node) {
        session = login(node_target(target, node), person, ledger);
        return !session.empty();
      }))
    return "";
  const bool created = on_some_node(target, 0, rounds, [&](size_t node) {
    auto client = node_client(target.http_ports[node]);
    auto result = client->Post("/api/rooms", {{"Authorization", "Bearer " + session}},
                               json{{"name", person.name}}.dump(), "application/json");
    return result && result->status == 201;
  });
  return created ? session : "";
}

void run_cluster_locker(const ClusterTarget& target, const std::string& run,
                        const std::string& door, WriteLedger& ledger, ClientTrouble& trouble,
                        ClientProgress& progress, const std::atomic<bool>& stop) {
  auto clients = clients_of(target);
  size_t node = 0;
  for (uint64_t n = 0; !stop; ++n) {
    const std::string key = run + "-" + door + "-" + std::to_string(n);
    const std::string action = n % 2 ? "UNLOCK" : "LOCK";
    until_acknowledged(target, clients, node, progress, stop,
                       [&](httplib::Client& client, size_t at) {
                         return send_command(client, node_target(target, at), door, key, action, 0,
                                             ledger, trouble);
                       });
    node = (node + 1) % target.http_ports.size();  // spread the load: mostly forwarded
    std::this_thread::sleep_for(100ms);
  }
}

void run_cluster_poster(const ClusterTarget& target, const std::string& run, const Person& person,
                        const std::string& session, WriteLedger& ledger, ClientTrouble& trouble,
                        ClientProgress& progress, const std::atomic<bool>& stop) {
  auto clients = clients_of(target);
  const std::string room = person.name;
  const std::string subject = "posts/" + room;
  const httplib::Headers headers{{"Authorization", "Bearer " + session}};
  size_t node = 0;
  for (uint64_t n = 0; !stop; ++n) {
    const std::string id = run + "-" + room + "-" + std::to_string(n);
    const std::string text = "post " + std::to_string(n) + " into " + room;
    ledger.sent(subject, id, text);
    until_acknowledged(target, clients, node, progress, stop, [&](httplib::Client& client, size_t) {
      auto result =
          client.Post("/api/rooms/" + room + "/messages", headers,
                      json{{"text", text}, {"client_msg_id", id}}.dump(), "application/json");
      if (!result || (result->status != 200 && result->status != 201)) return false;
      auto body = json::parse(result->body, nullptr, false);
      if (!body.is_object() || !body["message"].is_object() ||
          body["message"].value("client_msg_id", "") != id ||
          body["message"].value("text", "") != text) {
        trouble.add(room + ": the answer to the post " + id +
                    " names another message: " + result->body.substr(0, 300));
        return false;
      }
      ledger.acked(subject, id, text);
      return true;
    });
    node = (node + 1) % target.http_ports.size();
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace gh::testing
