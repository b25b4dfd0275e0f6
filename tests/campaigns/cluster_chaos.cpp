// The load and the checks of the cluster chaos campaign (scripts/cluster-chaos, docs/cluster.md
// "Chaos"); the script kills and pauses the parts of the cluster while `load` runs.
//
//   cluster_chaos load --nodes PORT,PORT,... --token-file FILE --work DIR [--doors N]
//                      [--rooms N] [--run NAME] [--mqtt PORT,PORT,... [--mqtt-doors N]
//                      [--prefix P] [--allow-door-losses]]
//     Provisions N doors (default 6) and N users each with a room of their name (default 3)
//     through whichever node serves them, then runs one locker per door and one poster per
//     room (cluster_clients.h) with one WriteLedger, until DIR/stop exists. With --mqtt (the
//     NATS cluster's MQTT listeners), the first --mqtt-doors of the doors (default 3) are
//     also played over MQTT through NATS (cluster_doors.h), door i on listener i first:
//     they publish numbered hellos and answer the lockers' commands. Meanwhile it
//     writes DIR/ready once the load runs and, every 100 ms, DIR/progress: the wall time
//     (Unix seconds) by which EVERY client had a write acknowledged (for an MQTT door: a
//     PUBACK of NATS), the writes acknowledged so far, and the wall time by which every MQTT
//     door's status had shown a message of it newer than before (0 without MQTT doors); the
//     same line is appended to DIR/progress.log, its history. Then it reads the whole log back
//     (PostgreSQL, below) and checks the ledger (the log's own checks are `check`'s): the
//     lock/unlock commands of each door (LockCommandRequested, its envelope's command id and
//     action), the posts of each room (MessagePosted: client_msg_id, text) and the MQTT
//     doors' hellos (DeviceInfoChanged: firmware). --allow-door-losses: door messages lost
//     are printed but do not fail the check (docs/cluster.md "What session groups do not
//     guarantee yet": a known window, for the test suite until it is closed).
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

#include <algorithm>
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
#include "tests/campaigns/cluster_doors.h"
#include "tests/campaigns/write_ledger.h"

namespace gh::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* kUsage =
    "usage: cluster_chaos load --nodes PORT,PORT,... --token-file FILE --work DIR [--doors N]\n"
    "                          [--rooms N] [--run NAME] [--mqtt PORT,PORT,...\n"
    "                          [--mqtt-doors N] [--prefix P] [--allow-door-losses]]\n"
    "       cluster_chaos check\n"
    "both read the log with the libpq connection string in $GH_PG_CONNINFO\n";

struct LoadOptions {
  std::vector<int> ports;
  fs::path token_file, work;
  int doors = 6;
  int rooms = 3;
  std::string run;
  NatsFront front;  // no MQTT doors when it has no ports
  int mqtt_doors = 3;
  bool allow_door_losses = false;
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
  std::vector<std::string> args(argv + 2, argv + argc);
  if (auto flag = std::find(args.begin(), args.end(), "--allow-door-losses"); flag != args.end()) {
    o.allow_door_losses = true;
    args.erase(flag);
  }
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    const std::string arg = args[i], value = args[i + 1];
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
    } else if (arg == "--mqtt") {
      o.front.mqtt_ports = parse_ports(value);
      if (o.front.mqtt_ports.empty()) return std::nullopt;
    } else if (arg == "--mqtt-doors") {
      o.mqtt_doors = std::atoi(value.c_str());
    } else if (arg == "--prefix") {
      o.front.prefix = value;
    } else {
      return std::nullopt;
    }
  }
  if (args.size() % 2 != 0 || o.ports.empty() || o.token_file.empty() || o.work.empty() ||
      o.doors < 1 || o.rooms < 0 || o.mqtt_doors < 0 || o.mqtt_doors > o.doors)
    return std::nullopt;
  if (o.front.mqtt_ports.empty()) o.mqtt_doors = 0;
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

// `doors` are the MQTT doors' progress (also among `clients`).
std::string progress_line(const std::vector<std::unique_ptr<ClientProgress>>& clients,
                          const std::vector<const ClientProgress*>& doors) {
  double all_acked_by = 1e300, all_recorded_by = doors.empty() ? 0 : 1e300;
  uint64_t acked = 0;
  for (const auto& c : clients) {
    all_acked_by = std::min(all_acked_by, c->last_ack_s.load());
    acked += c->acked;
  }
  for (const auto* d : doors)
    all_recorded_by = std::min(all_recorded_by, d->last_recorded_s.load());
  char line[128];
  std::snprintf(line, sizeof line, "%.3f %llu %.3f\n", all_acked_by,
                static_cast<unsigned long long>(acked), all_recorded_by);
  return line;
}

// What the log holds of each ledger subject: commands/DOOR, confirmations/DOOR (a command
// the door's report confirmed), posts/ROOM and hellos/DOOR.
void read_back(const Envelope& e, std::map<std::string, std::vector<ReadBack>>& out) {
  if (e.has_lock_command_requested() && e.stream().starts_with("device/")) {
    const auto action = e.lock_command_requested().action();
    out["commands/" + e.stream().substr(7)].push_back(
        {e.command_id(), action == events::LOCK     ? "LOCK"
                         : action == events::UNLOCK ? "UNLOCK"
                                                    : "?"});
  } else if (e.has_lock_command_confirmed() && e.stream().starts_with("device/")) {
    out["confirmations/" + e.stream().substr(7)].push_back(
        {e.lock_command_confirmed().command_id(), "confirmed"});
  } else if (e.has_device_info_changed() && e.stream().starts_with("device/")) {
    const std::string& firmware = e.device_info_changed().firmware();
    out["hellos/" + e.stream().substr(7)].push_back({firmware, firmware});
  } else if (e.has_message_posted() && e.stream().starts_with("room/")) {
    out["posts/" + e.stream().substr(5)].push_back(
        {e.message_posted().client_msg_id(), e.message_posted().text()});
  }
}

// How many of `door`'s acknowledged hellos its stream does not hold (yet).
size_t hellos_missing(const Journal& journal, const WriteLedger& ledger, const std::string& door) {
  auto acked = ledger.acked_writes("hellos/" + door);
  auto events = journal.read_stream("device/" + door, 1);
  if (!events) return acked.size();
  for (const auto& e : *events)
    if (e.has_device_info_changed()) acked.erase(e.device_info_changed().firmware());
  return acked.size();
}

// NATS still delivers what it holds after the load stopped, and delivers again what a
// group's owner did not acknowledge once its ack wait (30 s for MQTT on nats-server 2.9)
// has passed: waits up to `limit` until every acknowledged hello of `doors` is in its
// stream, so that the check counts as lost only what did not come in that time. The seconds
// it waited.
double drain_door_messages(const Journal& journal, const WriteLedger& ledger,
                           const std::vector<std::string>& doors, std::chrono::seconds limit) {
  const double started = wall_seconds();
  for (const auto& door : doors) {
    while (hellos_missing(journal, ledger, door) > 0 &&
           wall_seconds() - started < double(limit.count()))
      std::this_thread::sleep_for(500ms);
  }
  return wall_seconds() - started;
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
  std::vector<std::string> jwts;                        // of the MQTT doors, the first doors
  std::vector<std::pair<Person, std::string>> posters;  // with their session
  for (int i = 0; i < o.doors; ++i) {
    doors.push_back(o.run + "-door" + std::to_string(i));
    if (i < o.mqtt_doors) {
      jwts.push_back(provision_nats_door_anywhere(target, doors.back(), 20));
      if (!jwts.back().empty()) continue;
    } else if (provision_door_anywhere(target, doors.back(), 20)) {
      continue;
    }
    std::fprintf(stderr, "cluster_chaos: no node provisioned %s%s\n", doors.back().c_str(),
                 i < o.mqtt_doors ? " with a NATS password" : "");
    return 2;
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
  std::vector<const ClientProgress*> mqtt_progress;
  std::vector<std::thread> threads;
  const double started = wall_seconds();
  for (size_t i = 0; i < jwts.size(); ++i) {
    progress.push_back(std::make_unique<ClientProgress>());
    progress.back()->name = doors[i] + " (MQTT)";
    progress.back()->last_ack_s = started;
    progress.back()->last_recorded_s = started;
    mqtt_progress.push_back(progress.back().get());
    threads.emplace_back(run_nats_door, std::cref(o.front), i, std::cref(o.run),
                         std::cref(doors[i]), std::cref(jwts[i]), std::ref(ledger),
                         std::ref(*progress.back()), std::cref(stop));
  }
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
    const std::string line = progress_line(progress, mqtt_progress);
    write_file(o.work / "progress", line);
    history << line << std::flush;
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds = wall_seconds() - started;
  const std::vector<std::string> mqtt_doors(doors.begin(), doors.begin() + jwts.size());
  const double drained = drain_door_messages(*journal, ledger, mqtt_doors, 40s);

  std::map<std::string, std::vector<ReadBack>> present;
  LogFigures log;
  if (auto status = check_log(*journal, log, [&](const Envelope& e) { read_back(e, present); });
      !status.is_ok()) {
    std::fprintf(stderr, "cluster_chaos: reading the log: %s\n", status.to_string().c_str());
    return 2;
  }
  // HTTP writes (commands, posts) and the MQTT doors' messages are counted apart.
  LedgerCount total, hellos;
  std::vector<std::string> problems;
  uint64_t acked = 0, adopted = 0, unknown = 0, attempts_failed = 0;
  uint64_t hellos_acked = 0, hellos_adopted = 0, hellos_unknown = 0, publishes_failed = 0;
  for (const auto& subject : ledger.subjects()) {
    if (subject.starts_with("sessions/")) continue;  // logins of the set-up, not judged here
    const bool mqtt = subject.starts_with("hellos/");
    if (subject.starts_with("confirmations/")) {
      // Known only when an answer said so (a repeated command answered "confirmed"): judge
      // those; the log confirms many more that no answer reported.
      std::vector<std::string> asked;
      for (const auto& [id, value] : ledger.acked_writes(subject)) asked.push_back(id);
      total += ledger.check_only(subject, asked, present[subject], &problems);
      continue;
    }
    (mqtt ? hellos : total) += ledger.check(subject, present[subject], &problems);
    const auto c = ledger.count(subject);
    (mqtt ? hellos_acked : acked) += c.acked;
    (mqtt ? hellos_adopted : adopted) += c.adopted;
    (mqtt ? hellos_unknown : unknown) += c.unknown;
  }
  // A hello subject the load never wrote to, yet present in the log: unexpected too.
  for (size_t i = jwts.size(); i < doors.size(); ++i)
    hellos.unexpected += present["hellos/" + doors[i]].size();
  for (const auto* c : mqtt_progress) publishes_failed += c->attempts_failed;
  for (const auto& c : progress) attempts_failed += c->attempts_failed;
  attempts_failed -= publishes_failed;
  std::printf(
      "load: %zu doors locked and unlocked (%zu of them also over MQTT through NATS), "
      "%zu rooms posted into, for %.0f s\n",
      doors.size(), jwts.size(), posters.size(), seconds);
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
  if (!jwts.empty()) {
    std::printf(
        "door messages: %llu acknowledged by NATS, %llu sent and never acknowledged (%llu of "
        "those recorded), %llu publishes failed and sent again to the next listener; waited "
        "%.1f s after the load stopped for them to reach the log (at most 40 s)\n",
        static_cast<unsigned long long>(hellos_acked),
        static_cast<unsigned long long>(hellos_unknown + hellos_adopted),
        static_cast<unsigned long long>(hellos_adopted),
        static_cast<unsigned long long>(publishes_failed), drained);
    // MQTT QoS 1 is at least once: a message NATS delivers again after a later one is
    // recorded again (a repeat right after itself changes nothing and writes nothing).
    std::printf("door messages lost %llu, unexpected %llu, recorded twice %llu (allowed)\n",
                static_cast<unsigned long long>(hellos.lost),
                static_cast<unsigned long long>(hellos.unexpected),
                static_cast<unsigned long long>(hellos.duplicates));
  }
  for (size_t i = 0; i < problems.size() && i < 20; ++i) std::printf("  %s\n", problems[i].c_str());
  for (const auto& note : trouble.notes()) std::printf("  %s\n", note.c_str());
  const bool doors_clean =
      (hellos.lost == 0 || o.allow_door_losses) && hellos.unexpected == 0 && hellos.changed == 0;
  return total.clean() && doors_clean && trouble.count() == 0 ? 0 : 1;
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
