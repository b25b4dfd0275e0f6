// ChatSystem: the implementation of ChatService on CAF actors. It owns a directory of user
// actors and one of room actors (actors/directory.h: spawned on first use, passivated when
// idle or over the cap), the blocking pool for recovery, history and snapshot I/O, and the
// password hasher's threads. Construct after the journal, destroy (or shutdown()) before
// it and before the actor system.
//
// Session tokens are "<user>.<64 hex digits>" (256 random bits from libsodium): the user's
// name lets authenticate() reach that user's actor without a global index; only the
// SHA-256 of the whole token is stored (UserLoggedIn). Passwords and normalised security
// answers are stored as Argon2id crypto_pwhash_str strings.
//
// Cluster mode (ChatSystemOptions::serves): a user's actor lives only on the node that holds
// the user's shard. The reads that another entity's owner needs of a user (authenticate(),
// get_user(), security_question()) are answered on any other node from the user's durable
// state read from the log (newest snapshot + the events after it), read only, never kept:
// what the owner acknowledged is committed, so the answer is the owner's for everything
// acknowledged (a session ended there is refused here from that moment on).
//
// Thread-safety: all ChatService methods and the counters are safe from any thread;
// add_listener() before the first call.
#pragma once

#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/blocking_pool.h"
#include "actors/chat/chat_service.h"
#include "actors/chat/login_throttle.h"
#include "actors/chat/password_hasher.h"
#include "actors/chat/user_view_cache.h"
#include "actors/direct_routes.h"
#include "actors/room/room_actor.h"
#include "actors/user/user_actor.h"
#include "events/journal.h"
#include "snapshots/snapshot_store.h"

namespace gh::chat {

struct ChatSystemOptions {
  unsigned long long argon2_ops = 2;    // Argon2id passes (OWASP minimum: 2)
  size_t argon2_mem_bytes = 19u << 20;  // Argon2id memory in bytes (OWASP minimum: 19 MiB)
  size_t hash_threads = 1;              // password hashing threads (each ~40 hashes/s)
  size_t hash_queue = 256;   // hashing jobs waiting; beyond: kUnavailable "too many logins"
  user::UserPolicy policy;   // session lifetime
  ThrottleOptions throttle;  // guessing limits per source, account and (account, source)
  size_t max_text_bytes = room::kDefaultMaxTextBytes;         // one message's text
  size_t max_messages_in_memory = room::kDefaultMaxMessages;  // per live room; older: log
  uint64_t snapshot_every = 100;                  // events per stream between snapshots (0: never)
  size_t max_live_actors = 100000;                // per kind (users, rooms)
  std::chrono::milliseconds idle_timeout{60000};  // passivate an actor idle this long
  size_t io_threads = 2;                          // recovery, history and snapshot I/O
  size_t io_queue = 100000;
  std::function<int64_t()> clock;  // unix ms; default: the system clock
  // Cluster mode: ok when this node serves the stream ("user/<name>", "room/<name>") now,
  // else the answer every call for it gets (kLeaseLost naming the owner) before it reaches an
  // actor. Empty: every user and room is served here (the embedded store).
  std::function<Status(const std::string& stream)> serves;

  // The minimum Argon2id cost libsodium allows and ThrottleOptions::unlimited(): fast tests,
  // useless against attackers.
  static ChatSystemOptions for_tests();
};

class ChatSystem final : public ChatService {
 public:
  // `snapshots` may be null: streams are then replayed in full and no snapshots written.
  ChatSystem(caf::actor_system& system, Journal& journal, SnapshotStore* snapshots,
             ChatSystemOptions options);
  ~ChatSystem() override;

  // ok, or why passwords cannot be hashed (Argon2 cost out of range); then every call that
  // hashes answers with this status.
  const Status& status() const { return hasher_->status(); }

  // Receives every room update after it is durable, in each room's order. Call before the
  // first use; `listener` must outlive the system (or its shutdown()).
  void add_listener(RoomListener* listener);

  // Lets every user and room actor finish what it has queued, then stops them, the hashing
  // threads and the I/O pool; idempotent. Later calls answer kUnavailable.
  void shutdown();

  // Stops the actor of user `name` (room `name`) if it is live: the next call recovers it
  // from the log. For events written outside the actors (an operator's role change or
  // erase), so that an ended session or a revoked role counts from the next request.
  void forget_user(const std::string& name);
  void forget_room(const std::string& name);
  // forget_user() and forget_room() for every live user and room in `shard`
  // (events/shard.h): cluster mode's hand-off.
  void forget_shard(uint32_t shard);

  // Told every durable event (on the journal's writer thread, before its append is
  // answered): an event of a user's stream drops what get_user() kept of that user.
  void note_durable(const Envelope& e);

  // The hashing threads, for tests that need to hold them busy.
  PasswordHasher& hasher() { return *hasher_; }

  // ---- counters for /metrics ----
  size_t live_actors() const { return live_users_->load() + live_rooms_->load(); }
  size_t live_users() const { return live_users_->load(); }
  size_t live_rooms() const { return live_rooms_->load(); }
  uint64_t logins_ok() const { return users_->logins_ok.load(); }
  uint64_t logins_failed() const { return users_->logins_failed.load(); }
  uint64_t hashes() const { return hasher_->hashes(); }  // Argon2id computations done
  size_t hash_queue_depth() const { return hasher_->queue_depth(); }
  uint64_t hashes_refused() const { return hasher_->refused(); }        // queue full
  uint64_t attempts_throttled() const { return throttle_->refused(); }  // refused before a hash
  uint64_t posts() const { return rooms_->posts.load(); }
  uint64_t history_log_reads() const { return rooms_->history_log_reads.load(); }

  // ---- ChatService ----
  void register_user(const std::string& name, const std::string& password, const Caller& caller,
                     Callback<UserView> done) override;
  void login(const std::string& name, const std::string& password, const Caller& caller,
             Callback<LoginResult> done) override;
  void authenticate(const std::string& token, Callback<Identity> done) override;
  void logout(const std::string& token, Callback<Ack> done) override;
  void logout_everywhere(const std::string& token, Callback<Ack> done) override;
  void change_password(const std::string& token, const std::string& old_password,
                       const std::string& new_password, const Caller& caller,
                       Callback<Ack> done) override;
  void set_security_question(const std::string& user, const std::string& question,
                             const std::string& answer, const Caller& caller,
                             Callback<Ack> done) override;
  void set_own_security_question(const std::string& token, const std::string& password,
                                 const std::string& question, const std::string& answer,
                                 const Caller& caller, Callback<Ack> done) override;
  void security_question(const std::string& user, Callback<std::string> done) override;
  void reset_password(const std::string& user, const std::string& answer,
                      const std::string& new_password, const Caller& caller,
                      Callback<Ack> done) override;
  void get_user(const std::string& name, Callback<UserView> done) override;
  Result<uint64_t> user_number(const std::string& name) override;

  void create_room(const Identity& who, const std::string& room, Callback<RoomView> done) override;
  Result<std::vector<std::string>> list_rooms(const std::string& after, size_t limit) override;
  void get_room(const std::string& room, Callback<RoomView> done) override;
  void join(const Identity& who, const std::string& room, Callback<RoomView> done) override;
  void leave(const Identity& who, const std::string& room, Callback<RoomView> done) override;
  void post(const Identity& who, const std::string& room, const std::string& text,
            const std::string& client_msg_id, Callback<MessageView> done) override;
  void history(const Identity& who, const std::string& room, uint64_t before_id, size_t limit,
               Callback<HistoryView> done) override;
  void like(const Identity& who, const std::string& room, uint64_t message_id,
            Callback<MessageView> done) override;
  void unlike(const Identity& who, const std::string& room, uint64_t message_id,
              Callback<MessageView> done) override;
  void like_anonymously(const std::string& room, uint64_t message_id,
                        Callback<MessageView> done) override;
  void delete_message(const Identity& who, const std::string& room, uint64_t message_id,
                      Callback<Ack> done) override;

 private:
  // Ok, or the answer for a stream this node does not serve (ChatSystemOptions::serves).
  Status served(const std::string& stream) const;
  void call_user(const std::string& name, user::UserCall call);
  // Cluster mode: true when another node serves user `name` (this node does not hold its
  // shard), so its actor is not here.
  bool served_elsewhere(const std::string& name) const;
  // The durable state of user `name` read from the log on the I/O pool (snapshot + tail, as
  // recovery reads it): no actor, no write, nothing kept. kUnavailable when the pool's queue is
  // full or the system stopped; the journal's error when the log cannot be read.
  void read_user_from_log(const std::string& name, std::function<void(Result<user::State>)> done);
  // Asks the throttle about an attempt by `caller` to prove a secret of `account`. ok, or
  // throttled() (counted as a failed login). `done` wraps a secret-proving call's callback:
  // it tells the throttle the outcome (kUnauthenticated: a failure; ok: a success).
  Status admit(const std::string& account, const Caller& caller);
  template <class T>
  Callback<T> report_to_throttle(const std::string& account, const Caller& caller,
                                 Callback<T> done);
  void call_room(const std::string& name, room::RoomCall call);
  void room_command(const Identity& who, const std::string& room, room::Command command,
                    std::function<void(Result<room::RoomReply>)> done);
  void publish(const room::State& state, const std::vector<Envelope>& written);

  caf::actor_system& system_;
  Journal& journal_;
  ChatSystemOptions options_;
  std::unique_ptr<BlockingPool> pool_;
  std::unique_ptr<PasswordHasher> hasher_;
  // Shared with the callbacks that report outcomes, which may outlive a call's routing.
  std::shared_ptr<LoginThrottle> throttle_;
  std::shared_ptr<user::UserContext> users_;
  std::shared_ptr<room::RoomContext> rooms_;
  std::shared_ptr<std::atomic<size_t>> live_users_;
  std::shared_ptr<std::atomic<size_t>> live_rooms_;
  // Calls reach live user and room actors without the directories' hop.
  std::shared_ptr<DirectRoutes> user_routes_ = std::make_shared<DirectRoutes>();
  std::shared_ptr<DirectRoutes> room_routes_ = std::make_shared<DirectRoutes>();
  // What get_user() read, until the user's next durable event.
  std::shared_ptr<UserViewCache> user_views_ = std::make_shared<UserViewCache>(100000);
  caf::actor user_directory_;
  caf::actor room_directory_;
  std::mutex listeners_mutex_;
  std::vector<RoomListener*> listeners_;
  std::atomic<bool> stopped_{false};
};

}  // namespace gh::chat
