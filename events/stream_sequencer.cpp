#include "events/stream_sequencer.h"

namespace gh {

StreamSequencer::StreamSequencer(const Journal& journal, Apply apply)
    : journal_(journal), apply_(std::move(apply)) {}

void StreamSequencer::start_at(const std::string& stream, uint64_t version) {
  std::lock_guard lock(mu_);
  applied_[stream] = version;
}

Status StreamSequencer::deliver(const Envelope& e) {
  std::lock_guard lock(mu_);
  auto it = applied_.find(e.stream());
  if (it == applied_.end()) {
    apply_(e);
    return Status::ok();
  }
  uint64_t& applied = it->second;
  if (e.version() <= applied) return Status::ok();
  if (e.version() > applied + 1) {
    auto missing = journal_.read_stream(e.stream(), applied + 1, e.version() - applied - 1);
    if (!missing) return missing.status();
    for (const auto& m : *missing) {
      if (m.version() != applied + 1) break;  // read_stream reports gaps as kDataLoss
      apply_(m);
      applied = m.version();
    }
    if (applied + 1 != e.version())
      return data_loss(e.stream() + ": versions " + std::to_string(applied + 1) + " to " +
                       std::to_string(e.version() - 1) + " are not in the log");
  }
  apply_(e);
  applied = e.version();
  return Status::ok();
}

uint64_t StreamSequencer::applied(const std::string& stream) const {
  std::lock_guard lock(mu_);
  auto it = applied_.find(stream);
  return it == applied_.end() ? 0 : it->second;
}

}  // namespace gh
