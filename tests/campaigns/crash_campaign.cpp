// The crash campaign (docs/reliability.md "Crash"): the real gatehouse executable with its
// private mosquitto, on one store, under load from several clients, killed with SIGKILL at
// a random moment, restarted on the same store, checked, and again:
//
//   crash_campaign --gatehouse build/server/gatehouse --ctl build/tools/gatehousectl
//                  [--cycles 5] [--doors 3] [--seed N] [--dir DIR] [--keep]
//
// Load, per cycle: each door played over MQTT with its own credential (hello, and a state
// report answering each command), an HTTP client per door locking and unlocking it with an
// Idempotency-Key, two people posting to the lobby over MQTT, one logging in over HTTP again
// and again. Every write sent and acknowledged goes into one WriteLedger. After each restart,
// before new load: the requests whose answer was lost are repeated with their Idempotency-Key
// (and two answered ones), then crash_checks.h reads everything back. Also after each kill:
// the private mosquitto must be gone (not an orphan holding its port) within 10 s. Before
// about one restart in four, gatehouse is also killed while it starts.
//
// Prints one line per cycle and the figures; exits 0 only when nothing acknowledged was
// lost, nothing unexpected or duplicated was found, and every other check held.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/campaigns/crash_checks.h"
#include "tests/campaigns/crash_clients.h"
#include "tests/campaigns/gatehouse_process.h"
#include "tests/campaigns/write_ledger.h"

namespace gh::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  fs::path gatehouse, ctl, dir;
  int cycles = 5;
  int doors = 3;
  uint64_t seed = 0;
  bool keep = false;
};

const char* kUsage =
    "usage: crash_campaign --gatehouse PATH --ctl PATH [--cycles N] [--doors N] [--seed N]\n"
    "                      [--dir DIR] [--keep]\n";

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  o.seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--keep") {
      o.keep = true;
    } else if (!has_value) {
      return std::nullopt;
    } else if (arg == "--gatehouse") {
      o.gatehouse = argv[++i];
    } else if (arg == "--ctl") {
      o.ctl = argv[++i];
    } else if (arg == "--dir") {
      o.dir = argv[++i];
    } else if (arg == "--cycles") {
      o.cycles = std::atoi(argv[++i]);
    } else if (arg == "--doors") {
      o.doors = std::atoi(argv[++i]);
    } else if (arg == "--seed") {
      o.seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      return std::nullopt;
    }
  }
  if (o.gatehouse.empty() || o.ctl.empty() || o.cycles < 1 || o.doors < 1) return std::nullopt;
  return o;
}

// Raised only because the campaign logs in from one address many times a second.
const std::vector<std::string> kServerOptions = {
    "--chat.login-burst-per-source=100000", "--chat.login-rate-per-source=1000000",
    "--chat.login-burst-per-account=100000", "--chat.login-rate-per-account=1000000"};

struct Figures {
  int cycles = 0;
  CheckFigures checks;
  Repeats commands_repeated, posts_repeated;
  uint64_t broker_unwatched = 0;  // no pid of the private mosquitto to watch
  uint64_t broker_orphans = 0;    // the private mosquitto outlived gatehouse by 10 s
  double broker_gone_max_ms = 0;
  uint64_t start_failures = 0;
  uint64_t kills_while_starting = 0;
  uint64_t kills_while_starting_with_broker = 0;  // ... after its broker was up
};

// The writes of each kind (the first part of the subject) by what became of them.
std::map<std::string, SubjectCount> per_kind(const WriteLedger& ledger) {
  std::map<std::string, SubjectCount> out;
  for (const auto& subject : ledger.subjects()) {
    const auto c = ledger.count(subject);
    auto& total = out[subject.substr(0, subject.find('/'))];
    total.acked += c.acked;
    total.adopted += c.adopted;
    total.unknown += c.unknown;
  }
  return out;
}

// After gatehouse's SIGKILL: its broker must not outlive it (PR_SET_PDEATHSIG in
// adapters/mqtt/broker_process.cpp); waits up to 10 s, then counts an orphan and ends it.
void watch_broker(const GatehouseProcess& killed, Figures& figures) {
  if (killed.broker_pid <= 0) {
    ++figures.broker_unwatched;
    std::printf("  no pid of the private mosquitto to watch\n");
    return;
  }
  const auto start = Clock::now();
  while (!(process_gone(killed.broker_pid) && !port_open(killed.broker_port))) {
    if (Clock::now() - start > std::chrono::seconds(10)) {
      ++figures.broker_orphans;
      std::printf("  the private mosquitto (pid %d, port %d) outlived gatehouse\n",
                  killed.broker_pid, killed.broker_port);
      if (killed.broker_pid > 0) ::kill(killed.broker_pid, SIGKILL);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  figures.broker_gone_max_ms = std::max(figures.broker_gone_max_ms, ms);
}

// Kills a gatehouse that is still starting (recovering the store, starting its broker) at a
// random moment; its broker, if it got that far, must go as after any other kill.
void kill_while_starting(const Options& o, const fs::path& dir, std::mt19937_64& rng,
                         Figures& figures) {
  GatehouseProcess starting;
  starting.pid = spawn_gatehouse(o.gatehouse, dir, kServerOptions);
  std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 800));
  const pid_t broker = broker_of(dir);
  kill_gatehouse(starting);
  ++figures.kills_while_starting;
  if (broker > 0) ++figures.kills_while_starting_with_broker;
  const auto start = Clock::now();
  while (broker_of(dir) > 0 && !process_gone(broker)) {
    if (Clock::now() - start > std::chrono::seconds(10)) {
      ++figures.broker_orphans;
      std::printf("  the private mosquitto (pid %d) outlived a gatehouse killed at start\n",
                  broker);
      ::kill(broker, SIGKILL);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The totals so far.
void print_figures(const Figures& figures, const WriteLedger& ledger, const ClientTrouble& trouble,
                   Clock::duration elapsed, uint64_t seed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::printf(
      "\ncrash campaign: %d kill cycles under load and %llu kills while starting (%llu "
      "with the broker up) in %.0f s (seed %llu)\n",
      figures.cycles, static_cast<unsigned long long>(figures.kills_while_starting),
      static_cast<unsigned long long>(figures.kills_while_starting_with_broker), seconds,
      static_cast<unsigned long long>(seed));
  for (const auto& [kind, n] : per_kind(ledger))
    std::printf("  %-14s acknowledged %llu, in flight and kept %llu, in flight and gone %llu\n",
                kind.c_str(), static_cast<unsigned long long>(n.acked),
                static_cast<unsigned long long>(n.adopted),
                static_cast<unsigned long long>(n.unknown));
  const auto& c = figures.checks;
  std::printf("  lost %llu, unexpected %llu, duplicates %llu, changed %llu\n",
              static_cast<unsigned long long>(c.ledger.lost),
              static_cast<unsigned long long>(c.ledger.unexpected),
              static_cast<unsigned long long>(c.ledger.duplicates),
              static_cast<unsigned long long>(c.ledger.changed));
  std::printf(
      "  repeated after a restart with the same id: lock/unlock %llu unanswered + %llu "
      "answered, posts %llu unanswered + %llu answered\n",
      static_cast<unsigned long long>(figures.commands_repeated.unanswered),
      static_cast<unsigned long long>(figures.commands_repeated.answered),
      static_cast<unsigned long long>(figures.posts_repeated.unanswered),
      static_cast<unsigned long long>(figures.posts_repeated.answered));
  std::printf(
      "  state != replay %llu, verify failures %llu, read failures %llu, "
      "sessions looked up %llu, wrong answers %llu\n",
      static_cast<unsigned long long>(c.state_mismatches),
      static_cast<unsigned long long>(c.verify_failures),
      static_cast<unsigned long long>(c.read_failures),
      static_cast<unsigned long long>(c.sessions_checked),
      static_cast<unsigned long long>(trouble.count()));
  for (const auto& note : trouble.notes()) std::printf("  %s\n", note.c_str());
  std::printf(
      "  private mosquitto: orphans %llu, unwatched %llu, gone at most %.0f ms after "
      "the kill\n",
      static_cast<unsigned long long>(figures.broker_orphans),
      static_cast<unsigned long long>(figures.broker_unwatched), figures.broker_gone_max_ms);
  std::fflush(stdout);
}

int run(const Options& o) {
  const fs::path dir = o.dir.empty()
                           ? fs::temp_directory_path() / ("gh-crash-" + std::to_string(::getpid()))
                           : o.dir;
  fs::create_directories(dir);
  std::mt19937_64 rng(o.seed);
  std::printf("crash campaign: %d cycles, %d doors, seed %llu, dir %s\n", o.cycles, o.doors,
              static_cast<unsigned long long>(o.seed), dir.c_str());
  WriteLedger ledger;
  ClientTrouble trouble;
  Figures figures;
  std::vector<DoorIdentity> doors;
  const std::vector<Person> posters = {{"ada", "ada-password-1"}, {"bob", "bob-password-1"}};
  const Person visitor{"vic", "vic-password-1"};
  std::string token;
  const auto began = Clock::now();

  for (int cycle = 0; cycle <= o.cycles; ++cycle) {
    // Every fourth restart or so, a kill while gatehouse is still starting comes first.
    if (cycle > 0 && rng() % 4 == 0) kill_while_starting(o, dir, rng, figures);
    std::string why;
    auto process = start_gatehouse(o.gatehouse, dir, kServerOptions, std::chrono::seconds(60), why);
    if (!process) {
      ++figures.start_failures;
      std::printf("cycle %d: gatehouse did not start: %s\n", cycle, why.c_str());
      break;
    }
    Target target{process->http_port, process->broker_port, token, cycle};
    if (cycle == 0) {
      target.token = token = process->bootstrap_token;
      for (int d = 0; d < o.doors; ++d) {
        DoorIdentity door{"door" + std::to_string(d + 1), ""};
        door.secret = provision_door(target, door.id);
        doors.push_back(door);
      }
      bool people = true;
      for (const auto& p : posters) people = register_person(target, p) && people;
      people = register_person(target, visitor) && people;
      if (token.empty() || !people ||
          std::any_of(doors.begin(), doors.end(), [](auto& d) { return d.secret.empty(); })) {
        std::printf("setup failed (see %s/gatehouse.log)\n", dir.c_str());
        kill_gatehouse(*process);
        return 2;
      }
    } else {
      for (const auto& door : doors)
        figures.commands_repeated += retry_commands(target, door.id, ledger, trouble);
      auto checks = check_after_restart(target, doors, visitor, ledger, o.ctl, dir / "store");
      std::printf(
          "cycle %d: %llu acked so far; lost %llu, unexpected %llu, duplicates %llu, "
          "in flight kept %llu, state mismatches %llu, verify %s\n",
          cycle, static_cast<unsigned long long>(ledger.acked_count()),
          static_cast<unsigned long long>(checks.ledger.lost),
          static_cast<unsigned long long>(checks.ledger.unexpected),
          static_cast<unsigned long long>(checks.ledger.duplicates),
          static_cast<unsigned long long>(checks.ledger.adopted),
          static_cast<unsigned long long>(checks.state_mismatches),
          checks.verify_failures ? "FAILED" : "ok");
      for (const auto& p : checks.problems) std::printf("  %s\n", p.c_str());
      std::fflush(stdout);
      figures.checks += checks;
      ++figures.cycles;
    }
    if (cycle == o.cycles) {  // the last start only checks what the last kill left
      const int rc = stop_gatehouse(*process);
      if (rc != 0) std::printf("gatehouse stopped with %d\n", rc);
      break;
    }

    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (const auto& door : doors) {
      clients.emplace_back([&, door] { run_door(target, door, ledger, stop); });
      clients.emplace_back([&, door] { run_locker(target, door.id, ledger, stop, trouble); });
    }
    for (const auto& p : posters)
      clients.emplace_back([&, p] { run_poster(target, p, ledger, stop, figures.posts_repeated); });
    clients.emplace_back([&] { run_logins(target, visitor, ledger, stop); });

    // The kill comes at a random moment of the load.
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1700));
    const GatehouseProcess killed = *process;
    kill_gatehouse(*process);
    watch_broker(killed, figures);
    stop = true;
    for (auto& t : clients) t.join();
    if (cycle % 25 == 24 && cycle + 1 < o.cycles)
      print_figures(figures, ledger, trouble, Clock::now() - began, o.seed);
  }

  print_figures(figures, ledger, trouble, Clock::now() - began, o.seed);
  const auto& c = figures.checks;
  const bool ok = c.clean() && trouble.count() == 0 && figures.broker_orphans == 0 &&
                  figures.broker_unwatched == 0 && figures.start_failures == 0 &&
                  figures.cycles == o.cycles && ledger.acked_count() > 0;
  std::printf("crash campaign: %s\n", ok ? "ok" : "FAILED");
  if (!o.keep && ok) fs::remove_all(dir);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace gh::testing

int main(int argc, char** argv) {
  auto options = gh::testing::parse(argc, argv);
  if (!options) {
    std::cerr << gh::testing::kUsage;
    return 2;
  }
  return gh::testing::run(*options);
}
