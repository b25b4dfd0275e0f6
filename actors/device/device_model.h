// The device entity as two pure functions: decide(state, command) -> events | rejection,
// and apply(state, event). No CAF, no I/O, no clock: time is an argument. Shared by the
// actor (live path and recovery), gatehousectl and the tests. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/boxed.h"
#include "events/event.pb.h"
#include "events/status.h"

namespace gh::device {

using events::Envelope;
using events::LockAction;
using events::LockState;

enum class CommandStatus { kRequested, kSent, kConfirmed, kFailed, kTimedOut };

// One LOCK/UNLOCK command and its lifecycle: requested -> sent -> confirmed | failed |
// timed out. A command for an offline device stays `kRequested` until it comes back.
struct CommandRecord {
  std::string id;
  LockAction action = events::LOCK_ACTION_UNSPECIFIED;
  CommandStatus status = CommandStatus::kRequested;
  events::Cause requested_by;  // who asked and through which channel
  int64_t requested_at_ms = 0;
  int64_t sent_at_ms = 0;      // 0 until sent
  int64_t finished_at_ms = 0;  // 0 while in flight
  int64_t timeout_ms = 0;      // allowed between sending and confirmation
  std::string reason;          // failure reason: "jammed", "superseded"

  bool finished() const {
    return status != CommandStatus::kRequested && status != CommandStatus::kSent;
  }
};

struct Stranger {
  std::string picture_id;
  std::string alert_id;
  std::string content_type;
  uint64_t size_bytes = 0;
  int64_t seen_at_ms = 0;
};

// A lock state report that no command explained (see decide() on ReportState).
struct UnexpectedReport {
  LockState reported = events::LOCK_STATE_UNKNOWN;  // what the door said
  LockState desired = events::LOCK_STATE_UNKNOWN;   // what gatehouse wanted at that moment
  int64_t at_ms = 0;
  uint64_t version = 0;  // stream version of the LockStateUnexpected event
};

// A stranger picture whose bytes are still stored.
struct KeptPicture {
  std::string picture_id;
  uint64_t size_bytes = 0;
  int64_t seen_at_ms = 0;
};

// How many stranger pictures a door may keep and send (configuration, passed in commands).
// 0 for a count, byte or age limit means "no limit".
struct PictureLimits {
  size_t max_count = 20;                           // pictures kept per door
  uint64_t max_bytes = 20ull << 20;                // bytes kept per door
  int64_t retention_ms = 30LL * 24 * 3600 * 1000;  // older pictures are dropped
  size_t max_per_minute = 6;                       // accepted per door in any 60 s
};

// What gatehouse can say of a door's connection now (docs/protocol.md "Presence").
enum class Presence { kUnknown, kOnline, kOffline };

// How presence is judged. A door heard before `epoch_ms` (the start of gatehouse's current
// broker session: a gatehouse or broker restart, a restore) is kUnknown until heard again;
// one silent for longer than `offline_after_ms` (0: silence alone never counts) is kOffline.
struct PresenceRule {
  int64_t epoch_ms = 0;
  int64_t offline_after_ms = 0;
};

struct State {
  std::string id;
  bool registered = false;
  bool provisioned = false;  // registered by an operator rather than by its own hello
  std::string type, name, firmware;
  int64_t registered_at_ms = 0;
  bool online = false;
  int64_t last_seen_ms = 0;  // time of the last event caused by the device itself
  LockState desired = events::LOCK_STATE_UNKNOWN;
  LockState reported = events::LOCK_STATE_UNKNOWN;
  Boxed<CommandRecord> pending;  // the command in flight, if any (boxed: usually none)
  // Finished commands, newest last, at most kRecent. A vector, not a deque: an empty
  // libstdc++ deque allocates 512 bytes, which 100k live devices would pay for nothing.
  std::vector<CommandRecord> recent;
  uint64_t strangers_seen = 0;
  Boxed<Stranger> last_stranger;
  // The last unexplained report, until a confirmed command or a report of the desired state
  // explains it.
  Boxed<UnexpectedReport> unexpected;
  std::vector<KeptPicture> pictures;  // pictures whose bytes are stored, oldest first
  // Alert ids of stranger alerts nobody has reviewed yet, oldest first, at most kUnreviewed:
  // past that the oldest is forgotten here (it stays unreviewed in the log, and can no
  // longer be reviewed).
  std::vector<std::string> unreviewed;
  std::vector<int64_t> picture_times;  // times of the last kPictureTimes pictures accepted
  // Drift (docs/protocol.md "Drift"): since when `reported` differs from a known `desired`
  // (unix ms; 0 while they match or nothing is desired), and whether a DoorDrifted said that
  // this lasted past the command timeout (until a DoorDriftEnded).
  int64_t differs_since_ms = 0;
  bool drifting = false;
  // Removed by an operator (DeviceRemoved): `registered` is false, the log stays.
  bool removed = false;
  int64_t removed_at_ms = 0;
  uint64_t version = 0;  // version of the last applied event
  int64_t updated_at_ms = 0;
  // A view, not history: set by DeviceSystem (presence()) on each state it hands out;
  // never by apply(), never stored. kUnknown on a state read back from the log.
  Presence presence = Presence::kUnknown;

  static constexpr size_t kRecent = 16;
  static constexpr size_t kUnreviewed = 200;
  static constexpr size_t kPictureTimes = 64;  // bounds PictureLimits::max_per_minute
  // The command with this id, in flight or recent; nullptr if unknown here.
  const CommandRecord* find_command(std::string_view command_id) const;
};

struct DeviceInfo {
  std::string type, name, firmware;
};

// ---- commands ----
// Carried by the commands a door's own messages give: when hearing from the door is news
// (see decide()).
struct Heard {
  int64_t epoch_ms = 0;          // PresenceRule::epoch_ms
  int64_t refresh_after_ms = 0;  // re-record a silent door's sign of life after this; 0: never
};
struct Hello {
  DeviceInfo info;
  bool auto_register = true;  // configuration: register unknown devices on hello
  Heard heard;
};
struct Provision {
  DeviceInfo info;
};
struct SetAvailability {
  bool online = false;
  Heard heard;
};
struct ReportState {
  LockState state = events::LOCK_STATE_UNKNOWN;
  Heard heard;
};
struct RequestLock {
  LockAction action = events::LOCK;
  std::string command_id;
  int64_t timeout_ms = 10000;
};
// Issued by the actor's timer: fail the command if it is still unconfirmed past its deadline.
struct ExpireCommand {
  std::string command_id;
};
struct RecordStranger {
  std::string picture_id;
  std::string content_type;
  uint64_t size_bytes = 0;
  std::string alert_id;
  PictureLimits limits;
};
// Drops the pictures of the door that are past the retention or over the quota.
struct PrunePictures {
  PictureLimits limits;
};
// A person marks a stranger alert reviewed; the call's cause says who.
struct ReviewAlert {
  std::string alert_id;
};
// Issued by the actor's timer at drift_deadline(): record the drift if it still lasts.
struct CheckDrift {};
// An operator removes the door; the call's cause says who.
struct RemoveDevice {};
using Command =
    std::variant<Hello, Provision, SetAvailability, ReportState, RequestLock, ExpireCommand,
                 RecordStranger, PrunePictures, ReviewAlert, CheckDrift, RemoveDevice>;

// The events `command` produces against `state` (possibly none: nothing changed), or a
// rejection: kFailedPrecondition (not registered), kAlreadyExists (provision twice),
// kInvalidArgument (bad lock state or action), kTooLarge (a picture over the door's rate
// limit: nothing is written). `now_ms` stamps lifecycle fields.
//
// ReportState: a report is *explained* when it repeats the current reported state, is the
// first report of the door (reported UNKNOWN), is the goal of the command sent to the door
// or the intermediate state towards it (LOCKING for LOCK, UNLOCKING for UNLOCK), is JAMMED
// while a command is sent (the command fails), or is the desired state (the door is back
// where it should be). An explained report gives LockStateReported (if it changes the state);
// any other report gives LockStateUnexpected {reported, desired_at_the_time} and leaves
// `desired` unchanged.
//
// RecordStranger / PrunePictures: StrangerSeen (RecordStranger only), then
// StrangerPicturesDropped "retention" for kept pictures older than limits.retention_ms, then
// StrangerPicturesDropped "quota" for the oldest pictures while more than max_count or
// max_bytes are kept (never the one just seen).
//
// ReviewAlert: StrangerAlertReviewed when the alert is one of the door's unreviewed ones;
// otherwise kNotFound (never raised, reviewed already, or older than the kUnreviewed newest
// unreviewed ones: the log tells which, see device_alerts.h).
//
// CheckDrift: DoorDrifted {desired, reported, differs_since, timeout} when the door is
// registered, not drifting yet and `now_ms` has reached drift_deadline(); otherwise nothing.
// Any command on a drifting door whose events make `reported` match `desired` again (a report
// of the desired state, a command for the reported one) ends with DoorDriftEnded {state}.
//
// RemoveDevice: kFailedPrecondition when the door is not registered; otherwise
// LockCommandFailed "removed" for a command in flight, then DeviceRemoved {name}. A removed
// door is not registered: every command but Provision and an auto-registering Hello (which
// register it again) is refused or does nothing, as for a door never registered.
Result<std::vector<Envelope>> decide(const State& state, const Command& command, int64_t now_ms);

// Hello, SetAvailability{online} and ReportState record DeviceCameOnline (a sign of life,
// which moves last_seen) when the door is offline, was last heard before heard.epoch_ms, or
// has been silent for heard.refresh_after_ms or more; a command requested while the door was
// away is sent when it was offline or last heard before the epoch.
//
// Folds one stored event into `state`. Total: an event that does not concern devices is
// ignored; never fails on replay.
void apply(State& state, const Envelope& event);

// The state after `events` from an empty state for device `id`.
State replay(std::string_view id, const std::vector<Envelope>& events);

// True when `report` is explained on `state` (see decide() on ReportState).
bool explained(const State& state, LockState report);

// Picture ids whose bytes may be deleted once `events` (decided on a state, now applied to
// `after`) are durable: those dropped by StrangerPicturesDropped and not kept in `after`.
std::vector<std::string> dropped_pictures(const State& after, const std::vector<Envelope>& events);

// The blob key of a stored picture: "picture/<id>".
std::string picture_key(std::string_view picture_id);

// kUnknown when the door was never heard or last heard before rule.epoch_ms; kOffline when it
// said so (DeviceWentOffline) or has been silent for longer than rule.offline_after_ms (when
// not 0); kOnline otherwise.
Presence presence(const State& state, const PresenceRule& rule, int64_t now_ms);
// The same rule on a door's two facts: whether it last said it is online, and when it was last
// heard (unix ms, 0: never). For readers that keep only these (the doors-by-presence gauge).
Presence presence_of(bool online, int64_t last_seen_ms, const PresenceRule& rule, int64_t now_ms);
std::string_view presence_name(Presence presence);  // "unknown", "online", "offline"

// True when the door is told to be in a state (desired known) and reports another one.
bool differs(const State& state);
// When the door starts drifting: differs_since_ms + the timeout of the latest command (the
// one that set `desired`); nullopt when it is not registered, already drifting, or reports
// what is desired.
std::optional<int64_t> drift_deadline(const State& state);
// The command requested last (in flight, else the newest finished one); nullptr if none.
const CommandRecord* latest_command(const State& state);

// The deadline of the pending command (sent_at + timeout), or nullopt if none is waiting.
std::optional<int64_t> pending_deadline(const State& state);

// The lock state a command aims for: LOCK -> LOCKED, UNLOCK -> UNLOCKED.
LockState target_of(LockAction action);

std::string_view status_name(CommandStatus status);
// "LOCKED", "UNLOCKED", ...; "UNKNOWN" for LOCK_STATE_UNKNOWN.
std::string_view lock_state_name(LockState state);
// Parses LOCKED, UNLOCKED, LOCKING, UNLOCKING, JAMMED (case-insensitive); nullopt otherwise.
std::optional<LockState> parse_lock_state(std::string_view text);
std::string_view action_name(LockAction action);                // "LOCK", "UNLOCK"
std::optional<LockAction> parse_action(std::string_view text);  // lock/LOCK/unlock/UNLOCK

}  // namespace gh::device
