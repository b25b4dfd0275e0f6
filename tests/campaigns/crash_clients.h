// The clients of the crash campaign (docs/reliability.md "Crash"): each drives the running
// gatehouse the way its real clients do and writes to the campaign's WriteLedger what it
// sent and what was acknowledged. They stop when told, or when gatehouse is killed under
// them (what was in flight then stays "sent": the ledger allows it to be there or not).
//
// Subjects and ids in the ledger:
//   commands/DOOR        HTTP lock/unlock, id = the Idempotency-Key, value = LOCK | UNLOCK;
//                        acknowledged by a 200/202 naming that command
//   confirmations/DOOR   the door's state report over MQTT that confirms a command, id = the
//                        command id, value "confirmed"; acknowledged by the answer to the
//                        HTTP request (or its repeat) showing the command confirmed
//   posts/lobby          chat posts over MQTT, id = client_msg_id, value = the text;
//                        acknowledged by the answer {"ok":true} on the poster's inbox
//   sessions/USER        logins over HTTP, id = the session token; acknowledged by a 201
//
// Thread-safety: each client runs on one thread of its own; the ledger is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "tests/campaigns/write_ledger.h"

namespace httplib {
class Client;
}

namespace gh::testing {

// The running gatehouse the clients talk to.
struct Target {
  int http_port = 0;
  int broker_port = 0;
  std::string token;  // an operator's API token
  int cycle = 0;      // names this cycle's writes, so that no id is used twice
};

struct DoorIdentity {
  std::string id, secret;
};

struct Person {
  std::string name, password;
};

// Answers the clients could not make sense of (an answer naming another command than its
// Idempotency-Key): each is a failure of the campaign. Thread-safe.
class ClientTrouble {
 public:
  void add(const std::string& what);
  uint64_t count() const;
  std::vector<std::string> notes() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> notes_;
};

// Provisions `id` (POST /devices) and returns its broker secret; empty on failure.
std::string provision_door(const Target& target, const std::string& id);
// Registers `person` (POST /api/users); false on failure.
bool register_person(const Target& target, const Person& person);

// A door played over MQTT with its credential: says hello, and answers each LOCK/UNLOCK by
// reporting the reached state once its status names the command. Runs until `stop`.
void run_door(const Target& target, const DoorIdentity& door, WriteLedger& ledger,
              const std::atomic<bool>& stop);

// Sends one lock/unlock (`action` LOCK or UNLOCK) of `door` with Idempotency-Key `key`
// through `client`, waiting up to `wait_s` for the outcome; true when acknowledged (2xx
// naming the command). An answer saying the command is confirmed also acknowledges the
// door's report that confirmed it (the answer comes after the confirmation is durable). An
// answer naming another command is added to `trouble`.
bool send_command(httplib::Client& client, const Target& target, const std::string& door,
                  const std::string& key, const std::string& action, int wait_s,
                  WriteLedger& ledger, ClientTrouble& trouble);

// Locks and unlocks `door` over HTTP with a fresh Idempotency-Key each time, waiting up to
// 5 s for the outcome, until `stop`.
void run_locker(const Target& target, const std::string& door, WriteLedger& ledger,
                const std::atomic<bool>& stop, ClientTrouble& trouble);

// How many requests were repeated after a restart with the id they were first sent with.
struct Repeats {
  uint64_t unanswered = 0;  // their answer was lost with the kill
  uint64_t answered = 0;    // answered before: the repeat must answer the same
  Repeats& operator+=(const Repeats& other);
};

// After a restart: repeats every lock/unlock of `door` whose answer was lost, with its
// Idempotency-Key, and the two newest acknowledged ones; each answer must name the same
// command.
Repeats retry_commands(const Target& target, const std::string& door, WriteLedger& ledger,
                       ClientTrouble& trouble);

// Logs `person` in over HTTP, connects to the broker as them and posts to the lobby over
// MQTT with a fresh client_msg_id each time, ten a second, until `stop`; first repeats (same
// client_msg_id) the posts of this person whose answer was lost, and their newest answered
// one. Adds those repeats to `repeats`.
void run_poster(const Target& target, const Person& person, WriteLedger& ledger,
                const std::atomic<bool>& stop, Repeats& repeats);

// Logs `person` in over HTTP again and again until `stop`.
void run_logins(const Target& target, const Person& person, WriteLedger& ledger,
                const std::atomic<bool>& stop);

// A session token of `person` for reading (a login, acknowledged in the ledger); empty on
// failure.
std::string login(const Target& target, const Person& person, WriteLedger& ledger);

}  // namespace gh::testing
