// gatehouse: parse the configuration, start the App, stop it on SIGINT/SIGTERM. The only
// code not linked into tests.
#include <systemd/sd-daemon.h>

#include <csignal>
#include <iostream>

#include "events/log.h"
#include "server/app.h"
#include "server/command_line.h"
#include "server/config.h"

namespace {

// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so the main
// thread alone receives them, through sigwait().
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void print(const gh::server::AppInfo& info, const gh::server::Config& config) {
  std::cout << "gatehouse is up (" << gh::server::version_text() << ")\n";
  if (info.postgres.empty())
    std::cout << "  store       " << info.store_path << "\n";
  else
    std::cout << "  store       PostgreSQL " << info.postgres << "\n"
              << "  cluster     node " << config.cluster_node << " (docs/cluster.md)\n";
  std::cout << "  broker      " << info.broker_url
            << (info.broker_log.empty() ? "" : "  (private mosquitto; log " + info.broker_log + ")")
            << (info.mqtt_connected ? "" : "  NOT CONNECTED YET, retrying") << "\n"
            << (info.broker_listen.empty() ? "" : "  network     mqtt " + info.broker_listen + "\n")
            << "  access      every client needs its own identity (docs/security.md)\n"
            << "  mqtt        topics under " << config.mqtt_prefix << "/ (docs/protocol.md)\n"
            << "  http        " << info.http_url << "  (GET /healthz, GET /metrics)\n"
            << "  console     " << info.http_url << "/  (the web console, in a browser)\n"
            << "  api tokens  " << info.api_tokens << " (gatehousectl token list)\n";
  if (!info.bootstrap_secret.empty())
    std::cout << "  new token   admin = " << info.bootstrap_secret
              << "  (shown once; only its hash is stored)\n"
              << "              lock one door, e.g. door1 (provisioned with POST /devices):\n"
              << "              curl -X POST -d '' -H 'Authorization: Bearer "
              << info.bootstrap_secret << "' " << info.http_url << "/devices/door1/lock\n";
  std::cout << "  Ctrl-C stops cleanly\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  gh::server::Config config;
  auto command_line = gh::server::parse_command_line(config, {argv + 1, argv + argc});
  std::cout << command_line.out << std::flush;
  std::cerr << command_line.err << std::flush;
  if (!command_line.run) return command_line.exit_code;
  // validate() (in App::start) refuses other values; these two are needed before it.
  gh::log::configure(gh::log::parse_level(config.log_level).value_or(gh::log::Level::kInfo),
                     gh::log::parse_format(config.log_format).value_or(gh::log::Format::kText));
  auto stop_signals = block_stop_signals();
  auto app = gh::server::App::start(config);
  if (!app) {
    gh::log::error("server", "not started: " + app.status().to_string());
    return 1;
  }
  print((*app)->info(), config);
  gh::log::info("server", "started",
                {{"http", (*app)->info().http_url},
                 {"broker", (*app)->info().broker_url},
                 {"store", (*app)->info().store_path}});
  // Under systemd (Type=notify): the service is up once HTTP and MQTT are. Elsewhere a no-op.
  sd_notify(0, "READY=1");
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  sd_notify(0, "STOPPING=1");
  gh::log::info("server", "stopping (finishing in-flight writes)",
                {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*app)->stop();
  gh::log::info("server", "stopped cleanly");
  return 0;
}
