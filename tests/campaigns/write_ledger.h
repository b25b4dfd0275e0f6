// The ledger of a campaign that tries to lose acknowledged writes (docs/reliability.md):
// the power-loss campaign, the crash campaign, and any later one (a cluster's failover). The
// clients record every write they send and every write that is acknowledged; after the crash
// (power cut, failover) what the store or the server reads back is checked against it, as
// Jepsen's set workload does:
//   lost        an acknowledged write that is missing, or present with another value;
//   unexpected  a write present that nobody sent;
//   duplicates  a write present more than once (an idempotent request applied twice);
//   changed     a write sent but never acknowledged that is present with another value than
//               it was sent with (e.g. an append of which only some events survived).
// A write sent but not acknowledged may be present or not; once it has been read back it
// counts as acknowledged (from then on it must stay, as durable as an acknowledged one).
// Writes are grouped by subject (a stream, a door, a room) and named by an id unique within
// it (a command id, an Idempotency-Key, a client_msg_id); `value` is what was written,
// compared as a string. Each lost write is counted once over the whole campaign.
//
// Thread-safe: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace gh::testing {

// What one check (or a whole campaign) found.
struct LedgerCount {
  uint64_t lost = 0;
  uint64_t unexpected = 0;
  uint64_t duplicates = 0;
  uint64_t changed = 0;
  uint64_t adopted = 0;  // sent, never acknowledged, found present (allowed)
  LedgerCount& operator+=(const LedgerCount& other);
  bool clean() const { return lost == 0 && unexpected == 0 && duplicates == 0 && changed == 0; }
};

// The writes of one subject by what became of them.
struct SubjectCount {
  uint64_t acked = 0;    // acknowledged to the client
  uint64_t adopted = 0;  // never acknowledged, then read back
  uint64_t unknown = 0;  // sent, neither acknowledged nor read back (yet)
};

// One write as read back from the store or the server.
struct ReadBack {
  std::string id;
  std::string value;
};

class WriteLedger {
 public:
  // A write that was sent, whose outcome the client does not know (yet).
  void sent(const std::string& subject, const std::string& id, const std::string& value);
  // A write that was acknowledged (HTTP 2xx, an MQTT answer ok, the journal's ok).
  void acked(const std::string& subject, const std::string& id, const std::string& value);

  // Checks `subject` against everything read back from it (`present`, in any order, a write
  // once per time it occurs). Adopts the sent writes found present. Each problem found is
  // described in `problems` when it is given.
  LedgerCount check(const std::string& subject, const std::vector<ReadBack>& present,
                    std::vector<std::string>* problems = nullptr);
  // For read paths that cannot list a subject's writes, only look each one up: judges only
  // the acknowledged writes in `asked` (lost when not in `present`); unexpected writes cannot
  // be seen this way.
  LedgerCount check_only(const std::string& subject, const std::vector<std::string>& asked,
                         const std::vector<ReadBack>& present,
                         std::vector<std::string>* problems = nullptr);

  // The acknowledged (and adopted) writes of `subject` not found lost: id -> value.
  std::map<std::string, std::string> acked_writes(const std::string& subject) const;
  // The writes of `subject` sent but neither acknowledged nor read back: id -> value (to
  // retry them with the same id, or to forget them).
  std::map<std::string, std::string> unknown_writes(const std::string& subject) const;
  // Forgets the unknown writes of `subject` once they cannot appear any more (the writer went
  // on from what survived): a later write under the same id would otherwise look sent.
  void forget_unknown(const std::string& subject);
  SubjectCount count(const std::string& subject) const;
  std::vector<std::string> subjects() const;
  uint64_t acked_count() const;

 private:
  struct Entry {
    std::string value;
    bool acked = false;
    bool adopted = false;  // acked because it was read back, not acknowledged
    bool lost = false;     // counted lost once
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, Entry>> writes_;
  uint64_t acked_ = 0;
};

}  // namespace gh::testing
