#include "events/log_follower.h"

#include <algorithm>

#include "events/log.h"

namespace gh {

LogFollower::LogFollower(const Journal& journal, uint64_t after_position,
                         LogFollowerOptions options)
    : journal_(journal), options_(options), position_(after_position) {}

LogFollower::~LogFollower() { stop(); }

void LogFollower::subscribe(std::string prefix, Subscriber subscriber) {
  std::lock_guard lock(poll_mu_);
  subscribers_.emplace_back(std::move(prefix), std::move(subscriber));
}

Status LogFollower::poll() {
  std::lock_guard lock(poll_mu_);
  // Only the streams somebody follows are read: on PostgreSQL the database filters them.
  auto read_up_to =
      journal_.read_all_with_prefix(position_ + 1, common_prefix(), [this](const Envelope& e) {
        for (const auto& [prefix, subscriber] : subscribers_)
          if (e.stream().starts_with(prefix)) subscriber(e);
        position_ = e.position();
        return true;
      });
  if (!read_up_to) return read_up_to.status();
  position_ = std::max(position_, *read_up_to);
  return Status::ok();
}

std::string LogFollower::common_prefix() const {
  if (subscribers_.empty()) return "";
  std::string common = subscribers_.front().first;
  for (const auto& [prefix, subscriber] : subscribers_) {
    size_t n = 0;
    while (n < common.size() && n < prefix.size() && common[n] == prefix[n]) ++n;
    common.resize(n);
  }
  return common;
}

uint64_t LogFollower::position() const {
  std::lock_guard lock(poll_mu_);
  return position_;
}

void LogFollower::start() {
  std::lock_guard lock(stop_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void LogFollower::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogFollower::run() {
  std::string failing;  // the last failure logged, until a poll succeeds
  for (;;) {
    {
      std::unique_lock lock(stop_mu_);
      if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) return;
    }
    auto status = poll();
    if (status.is_ok()) {
      if (!failing.empty()) log::info("follower", "reading the log again");
      failing.clear();
    } else if (status.to_string() != failing) {
      failing = status.to_string();
      log::warning("follower", "reading the log after position " + std::to_string(position()) +
                                   ": " + failing + " (retrying)");
    }
  }
}

}  // namespace gh
