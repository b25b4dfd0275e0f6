#include "tests/campaigns/crash_checks.h"

#include <httplib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gh::testing {

using nlohmann::json;

CheckFigures& CheckFigures::operator+=(const CheckFigures& other) {
  ledger += other.ledger;
  state_mismatches += other.state_mismatches;
  verify_failures += other.verify_failures;
  read_failures += other.read_failures;
  sessions_checked += other.sessions_checked;
  problems.insert(problems.end(), other.problems.begin(), other.problems.end());
  return *this;
}

namespace {

// GET `path` with `token`; the JSON body when the status is 200, else null (and a problem).
json get(httplib::Client& client, const std::string& path, const std::string& token,
         CheckFigures& figures) {
  auto result = client.Get(path, {{"Authorization", "Bearer " + token}});
  if (!result || result->status != 200) {
    ++figures.read_failures;
    figures.problems.push_back(
        "GET " + path + ": " +
        (result ? std::to_string(result->status) + " " + result->body : std::string("no answer")));
    return json();
  }
  return json::parse(result->body, nullptr, false);
}

void check_door(httplib::Client& client, const Target& target, const std::string& door,
                WriteLedger& ledger, CheckFigures& figures) {
  auto history = get(client, "/devices/" + door + "/history", target.token, figures);
  if (!history.is_object()) return;
  std::vector<ReadBack> commands, confirmations;
  for (const auto& entry : history["history"]) {
    if (entry.value("kind", "") != "command") continue;
    const std::string id = entry.value("command_id", "");
    commands.push_back({id, entry.value("action", "")});
    if (entry.value("status", "") == "confirmed") confirmations.push_back({id, "confirmed"});
  }
  figures.ledger += ledger.check("commands/" + door, commands, &figures.problems);
  figures.ledger += ledger.check("confirmations/" + door, confirmations, &figures.problems);

  auto live = get(client, "/devices/" + door, target.token, figures);
  if (!live.is_object()) return;
  auto state = live["device"];
  const auto version = state.value("version", uint64_t(0));
  auto replayed = get(client, "/devices/" + door + "?version=" + std::to_string(version),
                      target.token, figures)["device"];
  for (auto* s : {&state, &replayed}) {
    if (!s->is_object()) return;
    s->erase("presence");  // judged against the broker session, never history
    s->erase("online");
  }
  if (state != replayed) {
    ++figures.state_mismatches;
    figures.problems.push_back(door + ": live state " + state.dump() + " != replay to version " +
                               std::to_string(version) + " " + replayed.dump());
  }
}

void check_posts(httplib::Client& client, const std::string& token, WriteLedger& ledger,
                 CheckFigures& figures) {
  std::vector<ReadBack> posts;
  std::string before;
  for (;;) {
    auto page = get(client, "/api/rooms/lobby/messages?limit=100" + before, token, figures);
    if (!page.is_object()) return;
    for (const auto& m : page["messages"]) {
      const auto& id = m["client_msg_id"];
      posts.push_back(
          {id.is_string() ? id.get<std::string>() : "(no client_msg_id) #" + m["id"].dump(),
           m.value("text", "")});
    }
    if (!page["next_before"].is_number()) break;
    before = "&before=" + page["next_before"].dump();
  }
  figures.ledger += ledger.check("posts/lobby", posts, &figures.problems);
}

// A user keeps at most their 16 newest sessions (actors/user/user_model.h): an older one
// ends at a newer login, by design. So the newest 8 acknowledged logins of each user are
// looked up, leaving room for logins in flight at the kill and the reader's own.
void check_sessions(httplib::Client& client, WriteLedger& ledger, CheckFigures& figures) {
  constexpr size_t kNewest = 8;
  for (const auto& subject : ledger.subjects()) {
    if (subject.rfind("sessions/", 0) != 0) continue;
    std::vector<std::pair<uint64_t, std::string>> by_order;
    for (const auto& [token, order] : ledger.acked_writes(subject))
      by_order.emplace_back(std::stoull(order), token);
    std::sort(by_order.rbegin(), by_order.rend());
    if (by_order.size() > kNewest) by_order.resize(kNewest);
    std::vector<std::string> asked;
    std::vector<ReadBack> present;
    for (const auto& [order, token] : by_order) {
      asked.push_back(token);
      auto result = client.Get("/api/me", {{"Authorization", "Bearer " + token}});
      if (result && result->status == 200) present.push_back({token, std::to_string(order)});
    }
    figures.sessions_checked += asked.size();
    figures.ledger += ledger.check_only(subject, asked, present, &figures.problems);
  }
}

void run_verify(const std::filesystem::path& ctl, const std::filesystem::path& store,
                CheckFigures& figures) {
  const auto out = store.parent_path() / "verify.out";
  const std::string command = "'" + ctl.string() + "' --store '" + store.string() + "' verify > '" +
                              out.string() + "' 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream file(out);
  std::stringstream text;
  text << file.rdbuf();
  if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0 || text.str().find(": ok\n") == std::string::npos) {
    ++figures.verify_failures;
    figures.problems.push_back("gatehousectl verify: " + text.str());
  }
}

}  // namespace

CheckFigures check_after_restart(const Target& target, const std::vector<DoorIdentity>& doors,
                                 const Person& reader, WriteLedger& ledger,
                                 const std::filesystem::path& ctl,
                                 const std::filesystem::path& store) {
  CheckFigures figures;
  httplib::Client client("127.0.0.1", target.http_port);
  client.set_read_timeout(30, 0);
  for (const auto& door : doors) check_door(client, target, door.id, ledger, figures);
  const std::string token = login(target, reader, ledger);
  if (token.empty()) {
    ++figures.read_failures;
    figures.problems.push_back("the reader could not log in");
  } else {
    check_posts(client, token, ledger, figures);
  }
  check_sessions(client, ledger, figures);
  run_verify(ctl, store, figures);
  return figures;
}

}  // namespace gh::testing
