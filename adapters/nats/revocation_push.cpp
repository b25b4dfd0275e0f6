#include "adapters/nats/revocation_push.h"

#include <algorithm>

#include "actors/system/nats_account_update.h"
#include "events/log.h"

namespace gh::nats_client {

RevocationPush::RevocationPush(RevocationPushOptions options) : options_(std::move(options)) {}

RevocationPush::~RevocationPush() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RevocationPush::start() {
  thread_ = std::thread([this] { run(); });
}

void RevocationPush::changed() {
  pending_ = true;
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  wake_.notify_all();
}

Result<NatsConnection*> RevocationPush::connection() {
  if (connection_) return connection_.get();
  Status last = unavailable("no NATS URL (cluster.nats-url)");
  for (const auto& url : options_.urls) {
    auto opened = NatsConnection::open(url, options_.system_user, options_.timeout);
    if (opened) {
      connection_ = std::move(*opened);
      return connection_.get();
    }
    last = opened.status();
  }
  return last;
}

Result<bool> RevocationPush::round() {
  const auto wanted = options_.wanted();
  auto nats = connection();
  if (!nats) return nats.status();
  auto done = update_account(**nats, options_.account, options_.signing_key, wanted,
                             options_.now_s(), options_.timeout);
  // A fresh connection next round after one that failed on the way (closed, timed out).
  if (!done && done.status().code() != Code::kFailedPrecondition) connection_.reset();
  return done;
}

void RevocationPush::run() {
  auto wait = options_.retry;
  bool failing = false;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      // Failing: try again after `wait` whatever happens; otherwise sleep until a change.
      if (failing)
        wake_.wait_for(lock, wait, [this] { return stop_; });
      else
        wake_.wait_for(lock, options_.recheck, [this] { return stop_ || dirty_; });
      if (stop_) return;
      dirty_ = false;
    }
    auto done = round();
    if (done) {
      if (*done) {
        ++pushes_;
        log::info("nats", "pushed gatehouse's account JWT with the doors' revocations");
      }
      if (failing) log::info("nats", "the account's revocations are at NATS again");
      failing = false;
      wait = options_.retry;
      std::lock_guard lock(mu_);
      if (!dirty_) pending_ = false;
      continue;
    }
    ++failures_;
    // One line per failed round while the wait is short, then one per long wait.
    log::warning("nats", "the doors' revocations did not reach NATS (tried again in " +
                             std::to_string(wait.count()) + " ms): " + done.status().to_string());
    failing = true;
    wait = std::min(wait * 2, options_.max_retry);
  }
}

std::vector<std::pair<std::string, double>> RevocationPush::metrics() const {
  return {{"gatehouse_nats_revocation_pushes_total", double(pushes_.load())},
          {"gatehouse_nats_revocation_push_failures_total", double(failures_.load())},
          {"gatehouse_nats_revocations_pending", pending_.load() ? 1.0 : 0.0}};
}

}  // namespace gh::nats_client
