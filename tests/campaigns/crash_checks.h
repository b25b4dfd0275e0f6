// What the crash campaign checks after every restart (docs/reliability.md "Crash"), with the
// server's own read paths and gatehousectl, against the campaign's WriteLedger:
//   - every door's command history (GET /devices/{id}/history): the lock/unlock requests
//     and the confirmations by the door's reports (lost, unexpected, duplicates);
//   - the lobby's messages (GET /api/rooms/lobby/messages, every page): the posts;
//   - sessions (GET /api/me with the token): the newest 8 acknowledged logins of each user
//     (a user keeps only their 16 newest sessions);
//   - every door's live state (GET /devices/{id}) equals the replay of its log to the same
//     version (GET /devices/{id}?version=N), presence aside (it is not history);
//   - gatehousectl verify: every event decodes, versions 1..n without gaps, positions and
//     indexes agree, every snapshot equals the replay of its stream.
// Thread-compatible: run from one thread while no client runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/campaigns/crash_clients.h"
#include "tests/campaigns/write_ledger.h"

namespace gh::testing {

struct CheckFigures {
  LedgerCount ledger;
  uint64_t state_mismatches = 0;  // live state != replay of the log
  uint64_t verify_failures = 0;   // gatehousectl verify found problems (or did not run)
  uint64_t read_failures = 0;     // a read path did not answer as documented
  uint64_t sessions_checked = 0;
  std::vector<std::string> problems;
  bool clean() const {
    return ledger.clean() && state_mismatches == 0 && verify_failures == 0 && read_failures == 0;
  }
  CheckFigures& operator+=(const CheckFigures& other);
};

// Reads everything back from the running gatehouse (`target`) and its store (`store`, read
// by the gatehousectl at `ctl`) and checks it against `ledger`. `reader` logs in to read the
// lobby.
CheckFigures check_after_restart(const Target& target, const std::vector<DoorIdentity>& doors,
                                 const Person& reader, WriteLedger& ledger,
                                 const std::filesystem::path& ctl,
                                 const std::filesystem::path& store);

}  // namespace gh::testing
