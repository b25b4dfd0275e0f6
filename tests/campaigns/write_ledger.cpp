#include "tests/campaigns/write_ledger.h"

namespace gh::testing {

LedgerCount& LedgerCount::operator+=(const LedgerCount& other) {
  lost += other.lost;
  unexpected += other.unexpected;
  duplicates += other.duplicates;
  changed += other.changed;
  adopted += other.adopted;
  return *this;
}

namespace {

void note(std::vector<std::string>* problems, const std::string& what) {
  if (problems) problems->push_back(what);
}

}  // namespace

void WriteLedger::sent(const std::string& subject, const std::string& id,
                       const std::string& value) {
  std::lock_guard lock(mu_);
  auto& entry = writes_[subject][id];
  if (entry.acked) return;  // a retry of an acknowledged write: it stays acknowledged
  entry.value = value;
}

void WriteLedger::acked(const std::string& subject, const std::string& id,
                        const std::string& value) {
  std::lock_guard lock(mu_);
  auto& entry = writes_[subject][id];
  if (!entry.acked) ++acked_;
  entry.value = value;
  entry.acked = true;
  entry.adopted = false;  // acknowledged after all (a repeated request answered)
}

LedgerCount WriteLedger::check(const std::string& subject, const std::vector<ReadBack>& present,
                               std::vector<std::string>* problems) {
  std::lock_guard lock(mu_);
  LedgerCount count;
  auto& writes = writes_[subject];
  std::map<std::string, std::vector<const std::string*>> found;
  for (const auto& r : present) found[r.id].push_back(&r.value);
  for (auto& [id, entry] : writes) {
    auto f = found.find(id);
    if (!entry.acked) {
      if (f == found.end()) continue;  // in flight and gone: allowed
      if (*f->second.front() != entry.value) {
        ++count.changed;
        note(problems, subject + ": " + id + " sent as '" + entry.value + "', present as '" +
                           *f->second.front() + "'");
      }
      entry.value = *f->second.front();
      entry.acked = true;
      entry.adopted = true;
      ++acked_;
      ++count.adopted;
      continue;
    }
    const bool missing = f == found.end() || *f->second.front() != entry.value;
    if (missing && !entry.lost) {
      ++count.lost;
      entry.lost = true;
      note(problems,
           subject + ": acknowledged " + id + " ('" + entry.value + "') " +
               (f == found.end() ? "missing" : "present as '" + *f->second.front() + "'"));
    }
  }
  for (const auto& [id, values] : found) {
    if (!writes.count(id)) {
      ++count.unexpected;
      note(problems, subject + ": " + id + " ('" + *values.front() + "') present, never sent");
    }
    if (values.size() > 1) {
      count.duplicates += values.size() - 1;
      note(problems, subject + ": " + id + " present " + std::to_string(values.size()) + " times");
    }
  }
  return count;
}

LedgerCount WriteLedger::check_only(const std::string& subject,
                                    const std::vector<std::string>& asked,
                                    const std::vector<ReadBack>& present,
                                    std::vector<std::string>* problems) {
  std::lock_guard lock(mu_);
  LedgerCount count;
  auto& writes = writes_[subject];
  std::map<std::string, std::string> found;
  for (const auto& r : present) found[r.id] = r.value;
  for (const auto& id : asked) {
    auto w = writes.find(id);
    if (w == writes.end() || !w->second.acked || w->second.lost) continue;
    auto f = found.find(id);
    if (f == found.end() || f->second != w->second.value) {
      ++count.lost;
      w->second.lost = true;
      note(problems, subject + ": acknowledged " + id + " missing");
    }
  }
  return count;
}

std::map<std::string, std::string> WriteLedger::acked_writes(const std::string& subject) const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  auto s = writes_.find(subject);
  if (s == writes_.end()) return out;
  for (const auto& [id, entry] : s->second)
    if (entry.acked && !entry.lost) out[id] = entry.value;
  return out;
}

std::map<std::string, std::string> WriteLedger::unknown_writes(const std::string& subject) const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  auto s = writes_.find(subject);
  if (s == writes_.end()) return out;
  for (const auto& [id, entry] : s->second)
    if (!entry.acked) out[id] = entry.value;
  return out;
}

void WriteLedger::forget_unknown(const std::string& subject) {
  std::lock_guard lock(mu_);
  auto s = writes_.find(subject);
  if (s == writes_.end()) return;
  std::erase_if(s->second, [](const auto& item) { return !item.second.acked; });
}

SubjectCount WriteLedger::count(const std::string& subject) const {
  std::lock_guard lock(mu_);
  SubjectCount out;
  auto s = writes_.find(subject);
  if (s == writes_.end()) return out;
  for (const auto& [id, entry] : s->second) {
    if (!entry.acked)
      ++out.unknown;
    else if (entry.adopted)
      ++out.adopted;
    else
      ++out.acked;
  }
  return out;
}

std::vector<std::string> WriteLedger::subjects() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [subject, writes] : writes_) out.push_back(subject);
  return out;
}

uint64_t WriteLedger::acked_count() const {
  std::lock_guard lock(mu_);
  return acked_;
}

}  // namespace gh::testing
