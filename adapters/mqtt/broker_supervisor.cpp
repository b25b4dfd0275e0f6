#include "adapters/mqtt/broker_supervisor.h"

#include <algorithm>

#include "events/log.h"

namespace gh::mqtt_adapter {

Result<std::unique_ptr<BrokerSupervisor>> BrokerSupervisor::start(BrokerProcessOptions broker,
                                                                  BrokerSupervisorOptions options) {
  auto started = BrokerProcess::start(broker);
  if (!started) return started.status();
  // Doors and gatehouse reconnect to the port they know: a restart must not pick another.
  broker.port = (*started)->port();
  std::unique_ptr<BrokerSupervisor> supervisor(
      new BrokerSupervisor(std::move(broker), options, std::move(*started)));
  supervisor->thread_ = std::thread([s = supervisor.get()] { s->watch(); });
  return supervisor;
}

BrokerSupervisor::BrokerSupervisor(BrokerProcessOptions options,
                                   BrokerSupervisorOptions supervision,
                                   std::unique_ptr<BrokerProcess> broker)
    : options_(std::move(options)),
      supervision_(supervision),
      port_(options_.port),
      broker_(std::move(broker)) {}

BrokerSupervisor::~BrokerSupervisor() { (void)stop(); }

std::string BrokerSupervisor::url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

std::filesystem::path BrokerSupervisor::log_path() const {
  return options_.work_dir / "mosquitto.log";
}

pid_t BrokerSupervisor::pid() const {
  std::lock_guard lock(mu_);
  return broker_ ? broker_->pid() : 0;
}

Status BrokerSupervisor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (!broker_) return Status::ok();
  Status stopped = broker_->stop();
  broker_.reset();
  return stopped;
}

void BrokerSupervisor::watch() {
  auto backoff = supervision_.min_backoff;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, supervision_.check_interval, [this] { return stopping_; });
    if (stopping_) return;
    if (broker_ && !broker_->exited()) continue;
    if (broker_) {
      log::warning("mqtt", "the private broker exited; restarting it on the same port",
                   {{"port", std::to_string(port_)}, {"log", log_path().string()}});
      broker_.reset();
    }
    lock.unlock();
    bool ok = restart();
    lock.lock();
    if (ok) {
      backoff = supervision_.min_backoff;
      continue;
    }
    cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, supervision_.max_backoff);
  }
}

bool BrokerSupervisor::restart() {
  auto started = BrokerProcess::start(options_);
  if (!started) {
    restart_failures_.fetch_add(1);
    log::warning("mqtt", "the private broker did not restart; retrying",
                 {{"error", started.status().to_string()}});
    return false;
  }
  std::lock_guard lock(mu_);
  if (stopping_) {
    (void)(*started)->stop();
    return true;
  }
  broker_ = std::move(*started);
  restarts_.fetch_add(1);
  log::info("mqtt", "the private broker runs again", {{"port", std::to_string(port_)}});
  return true;
}

}  // namespace gh::mqtt_adapter
