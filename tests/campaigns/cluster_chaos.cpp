// The load and the checks of the cluster chaos campaign (scripts/cluster-chaos, docs/cluster.md
// "Chaos"); the script kills and pauses the parts of the cluster while `load` runs.
//
//   cluster_chaos load --nodes PORT,PORT,... --token-file FILE --work DIR [--doors N]
//                      [--rooms N] [--run NAME]
//     Provisions N doors (default 6) and N users each with a room of their name (default 3)
//     through whichever node serves them, then runs one locker per door and one poster per
//     room (cluster_clients.h) with one WriteLedger, until DIR/stop exists. Meanwhile it
//     writes DIR/ready once the load runs and, every 100 ms, DIR/progress: the wall time
//     (Unix seconds) by which EVERY client had a write acknowledged, then the writes
//     acknowledged so far (and the same line appended to DIR/progress.log: its history). Then it
//     reads the whole log back (PostgreSQL, below) and checks the ledger (the log's own checks are
//     `check`'s): the lock/unlock commands of each door (LockCommandRequested, its envelope's
//     command id and action) and the posts of each room (MessagePosted: client_msg_id, text).
//   cluster_chaos check
//     Checks the log alone (cluster_checks.h): versions contiguous, epochs per shard never
//     decreasing, no fenced write without an epoch.
//
// The log is read through PgJournal with the connection string in the environment variable
// GH_PG_CONNINFO (as scripts/cluster-up saves it in cluster.env: with its password, which
// thus stays off the command line). Both print their figures; the exit status is 1 on any
// violation (a lost, unexpected, duplicated or changed write, a gap, a lower epoch), 2 on a
// usage error or when the load could not start or the log could not be read.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "events/event.pb.h"
#include "events/pg_journal.h"
#include "tests/campaigns/cluster_checks.h"
#include "tests/campaigns/cluster_clients.h"
#include "tests/campaigns/write_ledger.h"

namespace gh::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* kUsage =
    "usage: cluster_chaos load --nodes PORT,PORT,... --token-file FILE --work DIR [--doors N]\n"
    "                          [--rooms N] [--run NAME]\n"
    "       cluster_chaos check\n"
    "both read the log with the libpq connection string in $GH_PG_CONNINFO\n";

struct LoadOptions {
  std::vector<int> ports;
  fs::path token_file, work;
  int doors = 6;
  int rooms = 3;
  std::string run;
};

std::vector<int> parse_ports(const std::string& list) {
  std::vector<int> ports;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    const int port = std::atoi(item.c_str());
    if (port <= 0 || port > 65535) return {};
    ports.push_back(port);
  }
  return ports;
}

std::optional<LoadOptions> parse_load(int argc, char** argv) {
  LoadOptions o;
  o.run = "c" + std::to_string(::time(nullptr));
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string arg = argv[i], value = argv[i + 1];
    if (arg == "--nodes") {
      o.ports = parse_ports(value);
    } else if (arg == "--token-file") {
      o.token_file = value;
    } else if (arg == "--work") {
      o.work = value;
    } else if (arg == "--doors") {
      o.doors = std::atoi(value.c_str());
    } else if (arg == "--rooms") {
      o.rooms = std::atoi(value.c_str());
    } else if (arg == "--run") {
      o.run = value;
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 != 0 || o.ports.empty() || o.token_file.empty() || o.work.empty() || o.doors < 1 ||
      o.rooms < 0)
    return std::nullopt;
  return o;
}

std::unique_ptr<PgJournal> open_log() {
  const char* conninfo = std::getenv("GH_PG_CONNINFO");
  if (conninfo == nullptr || *conninfo == '\0') {
    std::fprintf(stderr, "cluster_chaos: set GH_PG_CONNINFO to the cluster's connection string\n");
    return nullptr;
  }
  PgJournalOptions options;
  options.conninfo = conninfo;
  auto journal = PgJournal::open(std::move(options));
  if (!journal) {
    std::fprintf(stderr, "cluster_chaos: cannot open the log: %s\n",
                 journal.status().to_string().c_str());
    return nullptr;
  }
  return std::move(journal).value();
}

void print_log_figures(const LogFigures& f) {
  std::printf(
      "log: %llu events in %llu streams; %llu fenced events in %llu shards, highest epoch %llu\n",
      static_cast<unsigned long long>(f.events), static_cast<unsigned long long>(f.streams),
      static_cast<unsigned long long>(f.fenced_events),
      static_cast<unsigned long long>(f.shards_written),
      static_cast<unsigned long long>(f.highest_epoch));
  std::printf("version gaps %llu, epoch regressions %llu, fenced writes without epoch %llu\n",
              static_cast<unsigned long long>(f.version_gaps),
              static_cast<unsigned long long>(f.epoch_regressions),
              static_cast<unsigned long long>(f.unfenced_writes));
  for (const auto& p : f.problems) std::printf("  %s\n", p.c_str());
}

int check_main() {
  auto journal = open_log();
  if (!journal) return 2;
  LogFigures figures;
  if (auto status = check_log(*journal, figures); !status.is_ok()) {
    std::fprintf(stderr, "cluster_chaos: reading the log: %s\n", status.to_string().c_str());
    return 2;
  }
  print_log_figures(figures);
  return figures.clean() ? 0 : 1;
}

std::string read_token(const fs::path& file) {
  std::ifstream in(file);
  std::string token;
  std::getline(in, token);
  return token;
}

// Writes `text` to `path` whole (a reader never sees half of it).
void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  fs::rename(tmp, path);
}

std::string progress_line(const std::vector<std::unique_ptr<ClientProgress>>& clients) {
  double all_acked_by = 1e300;
  uint64_t acked = 0;
  for (const auto& c : clients) {
    all_acked_by = std::min(all_acked_by, c->last_ack_s.load());
    acked += c->acked;
  }
  char line[96];
  std::snprintf(line, sizeof line, "%.3f %llu\n", all_acked_by,
                static_cast<unsigned long long>(acked));
  return line;
}

// What the log holds of each ledger subject: commands/DOOR and posts/ROOM.
void read_back(const Envelope& e, std::map<std::string, std::vector<ReadBack>>& out) {
  if (e.has_lock_command_requested() && e.stream().starts_with("device/")) {
    const auto action = e.lock_command_requested().action();
    out["commands/" + e.stream().substr(7)].push_back(
        {e.command_id(), action == events::LOCK     ? "LOCK"
                         : action == events::UNLOCK ? "UNLOCK"
                                                    : "?"});
  } else if (e.has_message_posted() && e.stream().starts_with("room/")) {
    out["posts/" + e.stream().substr(5)].push_back(
        {e.message_posted().client_msg_id(), e.message_posted().text()});
  }
}

int load_main(const LoadOptions& o) {
  ClusterTarget target{o.ports, read_token(o.token_file)};
  if (target.token.empty()) {
    std::fprintf(stderr, "cluster_chaos: no API token in %s\n", o.token_file.c_str());
    return 2;
  }
  auto journal = open_log();
  if (!journal) return 2;
  WriteLedger ledger;
  ClientTrouble trouble;
  std::vector<std::string> doors;
  std::vector<std::pair<Person, std::string>> posters;  // with their session
  for (int i = 0; i < o.doors; ++i) {
    doors.push_back(o.run + "-door" + std::to_string(i));
    if (!provision_door_anywhere(target, doors.back(), 20)) {
      std::fprintf(stderr, "cluster_chaos: no node provisioned %s\n", doors.back().c_str());
      return 2;
    }
  }
  for (int i = 0; i < o.rooms; ++i) {
    Person person{o.run + "-room" + std::to_string(i), "chaos-password-" + o.run};
    const std::string session = prepare_poster(target, person, ledger, 20);
    if (session.empty()) {
      std::fprintf(stderr, "cluster_chaos: could not register %s, log in and create its room\n",
                   person.name.c_str());
      return 2;
    }
    posters.emplace_back(person, session);
  }

  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<ClientProgress>> progress;
  std::vector<std::thread> threads;
  const double started = wall_seconds();
  for (const auto& door : doors) {
    progress.push_back(std::make_unique<ClientProgress>());
    progress.back()->name = door;
    progress.back()->last_ack_s = started;
    threads.emplace_back(run_cluster_locker, std::cref(target), std::cref(o.run), std::cref(door),
                         std::ref(ledger), std::ref(trouble), std::ref(*progress.back()),
                         std::cref(stop));
  }
  for (const auto& [person, session] : posters) {
    progress.push_back(std::make_unique<ClientProgress>());
    progress.back()->name = person.name;
    progress.back()->last_ack_s = started;
    threads.emplace_back(run_cluster_poster, std::cref(target), std::cref(o.run), std::cref(person),
                         std::cref(session), std::ref(ledger), std::ref(trouble),
                         std::ref(*progress.back()), std::cref(stop));
  }
  write_file(o.work / "ready", "load running\n");
  std::ofstream history(o.work / "progress.log");
  while (!fs::exists(o.work / "stop")) {
    const std::string line = progress_line(progress);
    write_file(o.work / "progress", line);
    history << line << std::flush;
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = wall_seconds() - started;

  std::map<std::string, std::vector<ReadBack>> present;
  LogFigures log;
  if (auto status = check_log(*journal, log, [&](const Envelope& e) { read_back(e, present); });
      !status.is_ok()) {
    std::fprintf(stderr, "cluster_chaos: reading the log: %s\n", status.to_string().c_str());
    return 2;
  }
  LedgerCount total;
  std::vector<std::string> problems;
  uint64_t acked = 0, adopted = 0, unknown = 0, attempts_failed = 0;
  for (const auto& subject : ledger.subjects()) {
    if (subject.starts_with("sessions/")) continue;  // logins of the set-up, not judged here
    total += ledger.check(subject, present[subject], &problems);
    const auto c = ledger.count(subject);
    acked += c.acked;
    adopted += c.adopted;
    unknown += c.unknown;
  }
  for (const auto& c : progress) attempts_failed += c->attempts_failed;
  std::printf("load: %zu doors locked and unlocked, %zu rooms posted into, for %.0f s\n",
              doors.size(), posters.size(), seconds);
  std::printf(
      "writes: %llu acknowledged, %llu sent and never acknowledged (%llu of those present), "
      "%llu attempts failed and sent again to the next node\n",
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(unknown + adopted),
      static_cast<unsigned long long>(adopted), static_cast<unsigned long long>(attempts_failed));
  std::printf("lost %llu, unexpected %llu, duplicates %llu, changed %llu, wrong answers %llu\n",
              static_cast<unsigned long long>(total.lost),
              static_cast<unsigned long long>(total.unexpected),
              static_cast<unsigned long long>(total.duplicates),
              static_cast<unsigned long long>(total.changed),
              static_cast<unsigned long long>(trouble.count()));
  for (size_t i = 0; i < problems.size() && i < 20; ++i) std::printf("  %s\n", problems[i].c_str());
  for (const auto& note : trouble.notes()) std::printf("  %s\n", note.c_str());
  return total.clean() && trouble.count() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace gh::testing

int main(int argc, char** argv) {
  using namespace gh::testing;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string command = argc > 1 ? argv[1] : "";
  if (command == "check" && argc == 2) return check_main();
  if (command == "load") {
    if (auto options = parse_load(argc, argv)) return load_main(*options);
  }
  std::fprintf(stderr, "%s", kUsage);
  return 2;
}
