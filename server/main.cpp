// gatehouse: parse the configuration, start the App, stop it on SIGINT/SIGTERM. The only
// code not linked into tests.
#include <csignal>
#include <iostream>

#include "server/app.h"
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
  std::cout << "gatehouse is up\n"
            << "  store       " << info.store_path << "\n"
            << "  broker      " << info.broker_url
            << (info.broker_log.empty() ? "" : "  (private mosquitto; log " + info.broker_log + ")")
            << (info.mqtt_connected ? "" : "  NOT CONNECTED YET, retrying") << "\n"
            << (info.broker_listen.empty() ? "" : "  network     mqtt " + info.broker_listen + "\n")
            << "  access      every client needs its own identity (docs/security.md)\n"
            << "  mqtt        topics under " << config.mqtt_prefix << "/ (docs/protocol.md)\n"
            << "  http        " << info.http_url << "  (GET /healthz, GET /metrics)\n"
            << "  api tokens  " << info.api_tokens << " (gatehousectl token list)\n";
  if (!info.bootstrap_secret.empty())
    std::cout << "  new token   admin = " << info.bootstrap_secret
              << "  (shown once; only its hash is stored)\n"
              << "              curl -X POST -d '' -H 'Authorization: Bearer "
              << info.bootstrap_secret << "' " << info.http_url << "/lock\n";
  std::cout << "  Ctrl-C stops cleanly\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  gh::server::Config config;
  if (auto err = config.parse(argc, argv); err) {
    std::cerr << "gatehouse: " << config.render(err) << " (see --long-help)\n";
    return 2;
  }
  if (config.cli_helptext_printed) return 0;
  auto stop_signals = block_stop_signals();
  auto app = gh::server::App::start(config);
  if (!app) {
    std::cerr << "gatehouse: " << app.status().to_string() << "\n";
    return 1;
  }
  print((*app)->info(), config);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "gatehouse: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ": stopping (finishing in-flight writes)\n"
            << std::flush;
  (*app)->stop();
  std::cout << "gatehouse: stopped cleanly\n";
  return 0;
}
