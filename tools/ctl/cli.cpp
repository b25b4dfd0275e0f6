#include "tools/ctl/cli.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "actors/room/room_model.h"
#include "actors/system/credential_registry.h"
#include "actors/system/token_model.h"
#include "actors/user/user_model.h"
#include "events/clock.h"
#include "events/stream_name.h"
#include "tools/ctl/action_admin.h"
#include "tools/ctl/admin_client.h"
#include "tools/ctl/backup.h"
#include "tools/ctl/chat_admin.h"
#include "tools/ctl/credential_admin.h"
#include "tools/ctl/live_server.h"
#include "tools/ctl/nats_auth_admin.h"
#include "tools/ctl/pg_store.h"
#include "tools/ctl/render.h"
#include "tools/ctl/snapshot_writer.h"
#include "tools/ctl/state_view.h"
#include "tools/ctl/store.h"
#include "tools/ctl/token_admin.h"
#include "tools/ctl/verify.h"

namespace gh::ctl {
namespace {

constexpr const char* kUsage =
    "usage: gatehousectl [--store PATH] VERB [ARGS]   (default store: ./var/store)\n"
    "       gatehousectl --postgres CONNINFO VERB [ARGS]   read verbs on a cluster's PostgreSQL\n"
    "       gatehousectl --socket PATH VERB [ARGS]   write verbs through a node's admin socket\n"
    "\n"
    "read verbs (open the store read-only; work while gatehouse runs):\n"
    "  streams [PREFIX]                         streams and their last versions\n"
    "  events STREAM [--from N] [--json]        a stream's events from version N\n"
    "  events --all [--from-position P] [--json]  the whole log in position order\n"
    "  events ... --follow                      then new events as they are made (running server)\n"
    "  state STREAM [--at-version N | --at-time T]  state rebuilt from events\n"
    "  verify                                   check every event, index and snapshot\n"
    "  token list                               active API tokens\n"
    "  device credentials                       doors with a broker credential\n"
    "  provisioning-key list                    active provisioning keys\n"
    "  users [--after NAME] [--limit N]         chat users, a page at a time\n"
    "  rooms [--after NAME] [--limit N]         chat rooms, a page at a time\n"
    "  user show NAME [--at-version N | --at-time T]  a user's state (state user/NAME)\n"
    "  backup DIR                               consistent copy of the store into DIR\n"
    "\n"
    "write verbs (run in the running gatehouse, found by --store, or on the stopped store):\n"
    "  snapshot STREAM | --all                  write snapshots from a full replay\n"
    "  token create NAME | revoke NAME          API tokens (secret printed once)\n"
    "  device add ID [--name N] [--type T]      register a door and print its secret once\n"
    "  device rotate ID | revoke ID             a door's broker credential\n"
    "  device remove ID                         revoke its credential, drop it from listings\n"
    "  provisioning-key create NAME | revoke NAME   keys new doors provision with\n"
    "  action list | show | runs | try | install | disable | enable | remove   scripted actions\n"
    "  user grant|revoke NAME ROLE [--as OP]    a user's roles (audited in user/NAME)\n"
    "  user erase NAME [--yes] [--as OP]        erase a user and anonymise their rooms\n"
    "\n"
    "cluster mode on NATS (needs no store):\n"
    "  nats-auth create DIR --prefix P [--session-groups G]   NATS operator keys and config\n"
    "  nats-auth revoke DIR [--nats-url U] ID... revoke doors' NATS JWTs (pushed, or reload NATS)\n"
    "\n"
    "gatehousectl VERB --help describes a verb.\n";

const std::map<std::string, std::string>& verb_help() {
  static const std::map<std::string, std::string> kHelp = {
      {"streams",
       "usage: gatehousectl streams [PREFIX]\n"
       "Lists streams whose name starts with PREFIX (all when omitted), one per line:\n"
       "  STREAM LAST_VERSION\n"},
      {"events",
       "usage: gatehousectl events STREAM [--from N] [--json] [--follow]\n"
       "       gatehousectl events --all [--from-position P] [--json] [--follow]\n"
       "Prints events one per line: position, stream, version, time (UTC), command id,\n"
       "cause and the event's fields; --json prints one JSON object per line instead.\n"
       "A stream that cannot be read (corrupt record, gap) ends with an error naming the\n"
       "stream and version, and exit status 1. --follow then keeps printing new events as\n"
       "the running gatehouse makes them durable, until interrupted (Ctrl-C).\n"},
      {"state",
       "usage: gatehousectl state STREAM [--at-version N | --at-time T] [--messages N]\n"
       "Rebuilds the state of a device/, user/ or room/ stream or of system/tokens,\n"
       "system/door-credentials or system/provisioning-keys from its\n"
       "events with the server's own model. --at-version N stops after version N; --at-time T\n"
       "after the last event appended at or before T (unix milliseconds or ISO-8601 UTC such\n"
       "as 2026-11-23T09:00:00Z). Users are shown without hashes; rooms with their newest\n"
       "N messages (default 20) and who liked them, erased authors as [erased].\n"},
      {"verify",
       "usage: gatehousectl verify\n"
       "Decodes every event, checks that each stream's versions have no gaps, that the\n"
       "position index and the events agree (positions unique and increasing), and that\n"
       "every device, user and room snapshot equals a replay to its version (user and room\n"
       "differences name fields, never values). Prints one line per problem\n"
       "(PROBLEM stream version: what) and exits 1 if there is any. Progress on stderr.\n"},
      {"snapshot",
       "usage: gatehousectl snapshot STREAM | --all\n"
       "Writes a snapshot of the stream (or of every device, user and room stream) at its\n"
       "current version, from a full replay. Progress on stderr.\n"},
      {"backup",
       "usage: gatehousectl backup DIR\n"
       "Copies the store into DIR (which must not exist). With gatehouse stopped this is a\n"
       "RocksDB checkpoint; while it runs, a logical copy through a read-only open, as of the\n"
       "moment of opening. Restore: stop gatehouse, move the store aside, copy DIR in its\n"
       "place, run verify. Progress on stderr.\n"},
      {"action",
       "usage: gatehousectl action list\n"
       "       gatehousectl action show NAME\n"
       "       gatehousectl action runs NAME [--limit N]\n"
       "       gatehousectl action try NAME FILE [--limit N]\n"
       "       gatehousectl action install NAME FILE [--replace] [--as OPERATOR]\n"
       "       gatehousectl action disable|enable|remove NAME [--as OPERATOR]\n"
       "Scripted actions (Lua 5.4, docs/protocol.md): the table in system/actions, each\n"
       "action's invocations in system/action-runs.NAME. install checks the script in the\n"
       "sandbox first and records its SHA-256 and the operator ($USER, or --as). try runs FILE\n"
       "against the recorded inputs of NAME (the newest --limit, default 20) and shows what it\n"
       "would have answered beside what was answered; nothing is carried out or written.\n"
       "The write verbs run in the running gatehouse (in effect at once), or on the stopped "
       "store.\n"},
      {"nats-auth",
       "usage: gatehousectl nats-auth create DIR --prefix P [--prefix P2 ...] "
       "[--session-groups G]\n"
       "Writes a NATS operator setup for cluster.broker=nats into DIR (new or empty):\n"
       "operator.jwt, nats-auth.conf (include it in every nats-server's configuration: operator\n"
       "mode, gatehouse's account with the session groups' subject mappings for each prefix\n"
       "P, G groups, default 32), account.seed (gatehouse's cluster.nats-account-seed-file),\n"
       "operator.seed, operator-signing.seed, system-account.seed and system-user.creds (the\n"
       "last two a node's cluster.nats-operator-signing-seed-file and cluster.nats-system-creds-\n"
       "file; mode 0600) and tools.jwt (a bearer JWT with every permission, the MQTT password of\n"
       "operators' own clients, 0600). Each nats-server also declares NATS' full resolver.\n"
       "       gatehousectl nats-auth revoke DIR [--nats-url URL,...] ID [ID ...]\n"
       "Revokes every NATS JWT issued until now to the doors ID: in the account JWT of\n"
       "DIR/nats-auth.conf, re-signed with DIR/operator-signing.seed (a new nats-server, or one\n"
       "restarted, takes it), and with --nats-url pushed to the running NATS cluster as the\n"
       "system user of DIR/system-user.creds (NATS' client ports, nats://HOST:PORT).\n"},
      {"token",
       "usage: gatehousectl token create NAME | list | revoke NAME\n"
       "API tokens for the HTTP API (stream system/tokens). create prints the secret once;\n"
       "only its SHA-256 is stored. With gatehouse running, create and revoke run in it and take\n"
       "effect at once (a revoked token is refused on its next request, HTTP and MQTT).\n"},
      {"device",
       "usage: gatehousectl device add ID [--name N] [--type T] [--as OPERATOR]\n"
       "       gatehousectl device rotate ID [--as OPERATOR]\n"
       "       gatehousectl device revoke ID [--as OPERATOR]\n"
       "       gatehousectl device remove ID [--as OPERATOR]\n"
       "       gatehousectl device credentials\n"
       "A door's broker credential (stream system/door-credentials): the door connects with\n"
       "username = its device id and password = its secret. add registers the device (as\n"
       "POST /devices) and issues its credential; rotate issues a registered device a new\n"
       "secret (the old one stops working); revoke removes it. remove revokes the credential\n"
       "(the broker ends the door's connection) and records DeviceRemoved: the door leaves\n"
       "GET /devices and the console, its log stays. add and rotate print the secret\n"
       "once: only its SHA-256 is stored. credentials lists ID issued=TIME by=CAUSE (works\n"
       "while gatehouse runs); the write verbs run in the running gatehouse (or on the stopped\n"
       "store) and record the operator (the caller's login name, or --as OPERATOR) as their "
       "cause.\n"},
      {"provisioning-key",
       "usage: gatehousectl provisioning-key create NAME [--as OPERATOR]\n"
       "       gatehousectl provisioning-key revoke NAME [--as OPERATOR]\n"
       "       gatehousectl provisioning-key list\n"
       "Provisioning keys (stream system/provisioning-keys): a new door connects with username\n"
       "= its device id and password = the key's text pk.NAME.SECRET, and may only ask for its\n"
       "own credential on PREFIX/provision/NAME/ID (docs/protocol.md). create prints the text\n"
       "once (only SHA-256 of SECRET is stored); revoke stops it for doors not yet provisioned.\n"
       "list prints NAME created=TIME by=CAUSE; create and revoke take effect at once.\n"},
      {"users",
       "usage: gatehousectl users [--after NAME] [--limit N]\n"
       "Lists chat users in name order, N per page (default 100, at most 10000), starting\n"
       "after NAME. One line each: NAME vVERSION active|erased|unregistered roles=R,...\n"
       "When more follow, stderr says how to ask for the next page.\n"},
      {"rooms",
       "usage: gatehousectl rooms [--after NAME] [--limit N]\n"
       "Lists chat rooms in name order, N per page (default 100, at most 10000), starting\n"
       "after NAME. One line each: NAME vVERSION members=M messages=P creator=C\n"
       "When more follow, stderr says how to ask for the next page.\n"},
      {"user",
       "usage: gatehousectl user show NAME [--at-version N | --at-time T]\n"
       "       gatehousectl user grant NAME ROLE [--as OPERATOR]\n"
       "       gatehousectl user revoke NAME ROLE [--as OPERATOR]\n"
       "       gatehousectl user erase NAME [--yes] [--as OPERATOR]\n"
       "show prints the user's state (as `state user/NAME`; works while gatehouse runs).\n"
       "grant and revoke change a role (known roles: operator); erase erases the user:\n"
       "UserErased in user/NAME (hashes, sessions, question and roles gone, the name can never\n"
       "be registered again), then RoomAuthorAnonymised in every room whose events name them\n"
       "(their messages show [erased]). Events are never deleted: docs/operations.md says\n"
       "what erase does and does not remove. erase asks to type the name unless --yes; a\n"
       "re-run completes an interrupted erase. These write verbs run in the running gatehouse\n"
       "(sessions end and roles change from the next request) or on the stopped store; each\n"
       "event records the operator (the caller's login name, or --as OPERATOR) as its cause.\n"},
  };
  return kHelp;
}

struct Context {
  std::string store_path = kDefaultStore;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  const LiveServer* live = nullptr;  // set when the verb runs inside the server
  std::string postgres{};            // --postgres: read verbs open a cluster's PostgreSQL store
  std::string socket{};              // --socket: the admin socket of a running node
};

// The store the verb works on: the server's own when it runs there, else opened at
// --store.
Result<Store> open(const Context& c, OpenMode mode) {
  if (c.live) return borrow_store(c.live->database, c.live->journal, c.live->snapshots);
  if (!c.postgres.empty()) {
    // A write needs the leases of the entity's shard: only the node holding them writes.
    if (mode == OpenMode::kReadWrite)
      return failed_precondition(
          "--postgres opens the store for reading only: in cluster mode a write verb runs "
          "inside a running node, through its admin socket (--socket RUN_DIR/admin.sock, or "
          "--store with the node's store.path)");
    return open_pg_store(c.postgres);
  }
  return open_store(c.store_path, mode);
}

// The verbs that read RocksDB's own files refuse a store without them (PostgreSQL).
Status needs_rocksdb(const Store& store, const std::string& verb, const std::string& instead) {
  if (store.database) return Status::ok();
  return failed_precondition(verb +
                             " works on the embedded RocksDB store only, not on "
                             "PostgreSQL (cluster mode): " +
                             instead);
}

// Cluster mode: ok when the node running the verb serves `stream`; otherwise kLeaseLost
// naming the node that does, before anything is written (the journal's fence would refuse
// the append anyway; this says where to go). A Unix socket cannot be reached from another
// machine, so the verb is not forwarded: the operator runs it on the owner.
Status served_here(const Context& c, const std::string& stream) {
  if (!c.live || !c.live->serves) return Status::ok();
  auto served = c.live->serves(stream);
  if (served.is_ok()) return served;
  return Status(served.code(), served.message() +
                                   " (run gatehousectl on that node, through its admin socket); "
                                   "nothing written");
}

// Who a write is recorded as caused by: --as, else the admin socket's peer (channel
// "admin") or $USER (channel "tool").
events::Cause cause_for(const Context& c, const std::string& as) {
  if (!c.live) return operator_cause(as);
  events::Cause cause;
  cause.set_kind(events::Cause::OPERATOR);
  cause.set_name(!as.empty() ? as : c.live->peer);
  cause.set_channel(kAdminChannel);
  return cause;
}

// The credential registry: the server's, or one opened on `journal` (kept in `owned`).
Result<credentials::CredentialRegistry*> registry_for(
    const Context& c, Journal& journal, std::unique_ptr<credentials::CredentialRegistry>& owned) {
  if (c.live) return c.live->credentials;
  auto opened = credentials::CredentialRegistry::open(journal);
  if (!opened) return opened.status();
  owned = std::move(*opened);
  return owned.get();
}

// The end of a write verb's message on stderr: when the change takes effect.
std::string when_effective(const Context& c) {
  return c.live ? " In effect now." : " gatehouse loads it when it starts.";
}

int fail(Context& c, const Status& status) {
  c.err << "gatehousectl: " << status.to_string() << "\n";
  return kExitFailed;
}

int usage(Context& c, const std::string& verb, const std::string& problem) {
  c.err << "gatehousectl " << verb << ": " << problem << "\n";
  auto it = verb_help().find(verb);
  c.err << (it != verb_help().end() ? it->second : kUsage);
  return kExitUsage;
}

std::optional<uint64_t> parse_u64(const std::string& text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int streams_verb(Context& c, const std::vector<std::string>& args) {
  if (args.size() > 1) return usage(c, "streams", "at most one PREFIX");
  auto store = open(c, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  auto status = store->journal->list_streams(args.empty() ? "" : args[0],
                                             [&](const std::string& s, uint64_t v) {
                                               c.out << s << " " << v << "\n";
                                               return true;
                                             });
  return status.is_ok() ? kExitOk : fail(c, status);
}

int print_events(Context& c, Store& store, const std::optional<std::string>& stream, uint64_t from,
                 const std::function<bool(const Envelope&)>& print);

int events_verb(Context& c, const std::vector<std::string>& args) {
  std::optional<std::string> stream;
  bool all = false, json = false, follow = false;
  uint64_t from = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--all") {
      all = true;
    } else if (a == "--follow") {
      follow = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--from" || a == "--from-position") {
      if (i + 1 == args.size()) return usage(c, "events", a + " needs a number");
      auto n = parse_u64(args[++i]);
      if (!n) return usage(c, "events", a + " needs a number");
      from = *n;
    } else if (!a.starts_with("--") && !stream) {
      stream = a;
    } else {
      return usage(c, "events", "unexpected argument '" + a + "'");
    }
  }
  if (all == stream.has_value()) return usage(c, "events", "give STREAM or --all");
  auto store = open(c, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  uint64_t last_position = 0;
  auto print = [&](const Envelope& e) {
    c.out << (json ? event_json(e) : event_line(e)) << "\n";
    last_position = std::max(last_position, e.position());
    return true;
  };
  const int printed = print_events(c, *store, stream, from, print);
  if (printed != kExitOk || !follow) return printed;
  if (!c.live || !c.live->follow) {
    c.err << "events: no gatehouse is running on " << c.store_path
          << ", so no new events will come\n";
    return kExitOk;
  }
  c.out << std::flush;
  c.live->follow(last_position, [&](const Envelope& e) {
    if (e.position() <= last_position || (stream && e.stream() != *stream)) return true;
    print(e);
    c.out << std::flush;
    return static_cast<bool>(c.out);
  });
  return kExitOk;
}

int print_events(Context& c, Store& store, const std::optional<std::string>& stream, uint64_t from,
                 const std::function<bool(const Envelope&)>& print) {
  auto* journal = store.journal.get();
  const bool all = !stream;
  if (all) {
    auto status = journal->read_all(from, print);
    return status.is_ok() ? kExitOk : fail(c, status);
  }
  if (!is_valid_stream(*stream)) return usage(c, "events", "invalid stream '" + *stream + "'");
  // Pages keep memory flat on long streams; when a page fails, its events are re-read one
  // at a time so that everything before the damage is shown before the error naming it.
  constexpr size_t kPage = 1000;
  for (uint64_t next = std::max<uint64_t>(from, 1);;) {
    auto page = journal->read_stream(*stream, next, kPage);
    if (!page) {
      for (;; ++next) {
        auto one = journal->read_stream(*stream, next, 1);
        if (!one) return fail(c, one.status());
        if (one->empty()) return fail(c, page.status());
        print(one->front());
      }
    }
    for (const auto& e : *page) print(e);
    if (page->size() < kPage) return kExitOk;
    next = page->back().version() + 1;
  }
}

int state_verb(Context& c, const std::vector<std::string>& args) {
  std::optional<std::string> stream;
  StateQuery query;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--at-version" || a == "--at-time") {
      if (i + 1 == args.size()) return usage(c, "state", a + " needs a value");
      const auto& value = args[++i];
      if (a == "--at-version") {
        query.at_version = parse_u64(value);
        if (!query.at_version) return usage(c, "state", "--at-version needs a number");
      } else {
        query.at_time_ms = parse_time(value);
        if (!query.at_time_ms)
          return usage(c, "state", "--at-time needs unix ms or ISO-8601 UTC, not '" + value + "'");
      }
    } else if (a == "--messages") {
      auto n = i + 1 < args.size() ? parse_u64(args[++i]) : std::nullopt;
      if (!n) return usage(c, "state", "--messages needs a number");
      query.newest_messages = *n;
    } else if (!a.starts_with("--") && !stream) {
      stream = a;
    } else {
      return usage(c, "state", "unexpected argument '" + a + "'");
    }
  }
  if (!stream) return usage(c, "state", "give STREAM");
  if (query.at_version && query.at_time_ms)
    return usage(c, "state", "give --at-version or --at-time, not both");
  auto store = open(c, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  query.now_ms = unix_now_ms();
  auto text = render_state(*store->journal, *stream, query);
  if (!text) return fail(c, text.status());
  c.out << *text;
  return kExitOk;
}

int verify_verb(Context& c, const std::vector<std::string>& args) {
  if (!args.empty()) return usage(c, "verify", "takes no arguments");
  auto store = open(c, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  if (auto s = needs_rocksdb(*store, "verify",
                             "PostgreSQL's keys refuse a second event at one version or position, "
                             "and events --all decodes every event, naming the first that does "
                             "not decode");
      !s.is_ok())
    return fail(c, s);
  c.err << "verify: checking " << c.store_path << "\n";
  auto report = verify_store(*store, &c.err);
  for (const auto& problem : report.problems) c.out << "PROBLEM " << problem.to_string() << "\n";
  c.out << "verify: " << report.events << " events in " << report.streams << " streams, "
        << report.positions << " positions, " << report.snapshots_checked << " snapshots checked";
  if (report.snapshots_unchecked)
    c.out << " (" << report.snapshots_unchecked << " without a model)";
  c.out << ": " << (report.ok() ? "ok" : std::to_string(report.problems.size()) + " problems")
        << "\n";
  return report.ok() ? kExitOk : kExitFailed;
}

int snapshot_verb(Context& c, const std::vector<std::string>& args) {
  if (args.size() != 1) return usage(c, "snapshot", "give STREAM or --all");
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  std::vector<std::string> streams;
  if (args[0] == "--all") {
    for (const char* kind : kSnapshotKinds) {
      auto status = store->journal->list_streams(kind, [&](const std::string& s, uint64_t) {
        streams.push_back(s);
        return true;
      });
      if (!status.is_ok()) return fail(c, status);
    }
  } else if (is_valid_stream(args[0])) {
    streams.push_back(args[0]);
  } else {
    return usage(c, "snapshot", "invalid stream '" + args[0] + "'");
  }
  c.err << "snapshot: " << streams.size() << " streams\n";
  auto run = snapshot_streams(*store->journal, *store->snapshots, streams, unix_now_ms(), &c.err);
  if (!run) return fail(c, run.status());
  for (const auto& s : run->skipped)
    c.out << "skipped " << s << " (no events or no snapshot model)\n";
  c.out << "snapshot: " << run->written << " written\n";
  return kExitOk;
}

int backup_verb(Context& c, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].starts_with("--")) return usage(c, "backup", "give DIR");
  if (!c.postgres.empty() || c.live)  // in a server only on PostgreSQL (run_in_server)
    return fail(c, failed_precondition(
                       "backup copies the embedded RocksDB store; a cluster's PostgreSQL is "
                       "backed up with PostgreSQL's own tools (pg_dump, pg_basebackup)"));
  auto result = backup_store(c.store_path, args[0], &c.err);
  if (!result) return fail(c, result.status());
  c.out << "backup: " << args[0] << " written ("
        << (result->logical ? "logical copy of " + std::to_string(result->records) +
                                  " records, gatehouse was running"
                            : std::string("checkpoint"))
        << "), last position " << result->last_position << "\n";
  return kExitOk;
}

int token_verb(Context& c, const std::vector<std::string>& args) {
  if (args.empty()) return usage(c, "token", "give create NAME, list or revoke NAME");
  const auto& sub = args[0];
  if (sub == "list") {
    if (args.size() != 1) return usage(c, "token", "list takes no arguments");
    auto store = open(c, OpenMode::kReadOnly);
    if (!store) return fail(c, store.status());
    auto state = load_tokens(*store->journal);
    if (!state) return fail(c, state.status());
    for (const auto& [name, token] : state->active)
      c.out << name << " created " << format_time(token.created_at_ms) << " by "
            << cause_text(token.created_by) << "\n";
    return kExitOk;
  }
  if (sub != "create" && sub != "revoke")
    return usage(c, "token", "unknown subcommand '" + sub + "'");
  if (args.size() != 2) return usage(c, "token", sub + " needs NAME");
  if (!is_valid_id(args[1]))
    return usage(c, "token", "NAME must be 1-64 characters of A-Z a-z 0-9 . _ -");
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  if (sub == "create") {
    auto created = create_token(*store->journal, args[1], cause_for(c, ""));
    if (!created) return fail(c, created.status());
    c.out << created->secret << "\n";
    c.err << "token " << created->name << " created; the secret above is shown only once."
          << when_effective(c) << "\n";
    return kExitOk;
  }
  auto status = revoke_token(*store->journal, args[1], cause_for(c, ""));
  if (!status.is_ok()) return fail(c, status);
  c.err << "token " << args[1] << " revoked." << when_effective(c) << "\n";
  return kExitOk;
}

// The positional arguments of a credential verb and its options (--as, and --name/--type
// when `info` is given); nullopt after printing the usage problem into `code`.
std::optional<std::vector<std::string>> credential_args(Context& c, const std::string& verb,
                                                        const std::vector<std::string>& args,
                                                        std::string& as, device::DeviceInfo* info,
                                                        int* code) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    const bool info_option = info != nullptr && (a == "--name" || a == "--type");
    if (a == "--as" || info_option) {
      if (i + 1 == args.size()) {
        *code = usage(c, verb, a + " needs a value");
        return std::nullopt;
      }
      const auto& value = args[++i];
      if (a == "--as") {
        if (!is_valid_id(value)) {
          *code = usage(c, verb, "--as needs 1-64 characters of A-Z a-z 0-9 . _ -");
          return std::nullopt;
        }
        as = value;
      } else {
        (a == "--name" ? info->name : info->type) = value;
      }
    } else if (a.starts_with("--")) {
      *code = usage(c, verb, "unexpected argument '" + a + "'");
      return std::nullopt;
    } else {
      positional.push_back(a);
    }
  }
  return positional;
}

// device remove: refused before anything is written when the door is not registered; then
// its credential is revoked (the broker ends its connection) and DeviceRemoved appended --
// through the door's actor when the verb runs inside the server, on the store otherwise.
int remove_device_verb(Context& c, Journal& journal, const std::string& id,
                       const events::Cause& by) {
  auto registered = device_registered(journal, id);
  if (!registered) return fail(c, registered.status());
  if (!*registered) return fail(c, failed_precondition("device " + id + " is not registered"));
  std::unique_ptr<credentials::CredentialRegistry> owned;
  auto registry = registry_for(c, journal, owned);
  if (!registry) return fail(c, registry.status());
  auto revoked = (*registry)->revoke_door(id, by);
  if (!revoked.is_ok() && revoked.code() != Code::kNotFound) return fail(c, revoked);
  auto removed = c.live && c.live->remove_device
                     ? c.live->remove_device(id, by)
                     : remove_device_in_store(journal, id, by, unix_now_ms());
  if (!removed) return fail(c, removed.status());
  c.err << "device " << id << " removed"
        << (revoked.is_ok() ? "; its credential is revoked and it can no longer connect"
                            : " (it had no credential)")
        << ". Its log stays: gatehousectl events device/" << id << "." << when_effective(c) << "\n";
  return kExitOk;
}

int device_verb(Context& c, const std::vector<std::string>& args) {
  if (args.empty()) return usage(c, "device", "give add, rotate, revoke, remove or credentials");
  const auto& sub = args[0];
  if (sub != "add" && sub != "rotate" && sub != "revoke" && sub != "remove" && sub != "credentials")
    return usage(c, "device", "unknown subcommand '" + sub + "'");
  std::string as;
  device::DeviceInfo info;
  int code = kExitUsage;
  auto positional = credential_args(c, "device", {args.begin() + 1, args.end()}, as,
                                    sub == "add" ? &info : nullptr, &code);
  if (!positional) return code;
  if (sub == "credentials") {
    if (!positional->empty() || !as.empty())
      return usage(c, "device", "credentials takes no arguments");
    auto store = open(c, OpenMode::kReadOnly);
    if (!store) return fail(c, store.status());
    std::unique_ptr<credentials::CredentialRegistry> owned;
    auto registry = registry_for(c, *store->journal, owned);
    if (!registry) return fail(c, registry.status());
    for (const auto& [id, door] : (*registry)->door_list())
      c.out << id << " issued=" << format_time(door.issued_at_ms)
            << " by=" << cause_text(door.issued_by) << "\n";
    return kExitOk;
  }
  if (positional->size() != 1) return usage(c, "device", sub + " needs ID");
  const auto& id = (*positional)[0];
  if (!is_valid_id(id))
    return usage(c, "device", "ID must be 1-64 characters of A-Z a-z 0-9 . _ -");
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  const auto by = cause_for(c, as);
  if (sub == "revoke") {
    std::unique_ptr<credentials::CredentialRegistry> owned;
    auto registry = registry_for(c, *store->journal, owned);
    if (!registry) return fail(c, registry.status());
    auto status = (*registry)->revoke_door(id, by);
    if (!status.is_ok()) return fail(c, status);
    c.err << "device " << id << ": credential revoked; the door can no longer connect.\n";
    return kExitOk;
  }
  if (sub == "add" || sub == "remove") {  // they write device/ID itself
    if (auto s = served_here(c, device_stream(id)); !s.is_ok()) return fail(c, s);
  }
  if (sub == "remove") return remove_device_verb(c, *store->journal, id, by);
  std::unique_ptr<credentials::CredentialRegistry> owned;
  auto registry = registry_for(c, *store->journal, owned);
  if (!registry) return fail(c, registry.status());
  auto secret = sub == "add" ? add_device(*store->journal, **registry, id, info, by, unix_now_ms())
                             : rotate_device_credential(*store->journal, **registry, id, by);
  if (!secret) return fail(c, secret.status());
  c.out << *secret << "\n";
  c.err << "device " << id << (sub == "add" ? " registered" : ": credential rotated")
        << "; it connects with username " << id << " and the secret above, shown only once."
        << when_effective(c) << "\n";
  return kExitOk;
}

int provisioning_key_verb(Context& c, const std::vector<std::string>& args) {
  constexpr const char* kVerb = "provisioning-key";
  if (args.empty()) return usage(c, kVerb, "give create NAME, revoke NAME or list");
  const auto& sub = args[0];
  if (sub != "create" && sub != "revoke" && sub != "list")
    return usage(c, kVerb, "unknown subcommand '" + sub + "'");
  std::string as;
  int code = kExitUsage;
  auto positional = credential_args(c, kVerb, {args.begin() + 1, args.end()}, as, nullptr, &code);
  if (!positional) return code;
  if (sub == "list") {
    if (!positional->empty() || !as.empty()) return usage(c, kVerb, "list takes no arguments");
    auto store = open(c, OpenMode::kReadOnly);
    if (!store) return fail(c, store.status());
    std::unique_ptr<credentials::CredentialRegistry> owned;
    auto registry = registry_for(c, *store->journal, owned);
    if (!registry) return fail(c, registry.status());
    for (const auto& key : (*registry)->provisioning_key_list())
      c.out << key.name << " created=" << format_time(key.created_at_ms)
            << " by=" << cause_text(key.created_by) << "\n";
    return kExitOk;
  }
  if (positional->size() != 1) return usage(c, kVerb, sub + " needs NAME");
  const auto& name = (*positional)[0];
  if (!is_valid_id(name))
    return usage(c, kVerb, "NAME must be 1-64 characters of A-Z a-z 0-9 . _ -");
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  std::unique_ptr<credentials::CredentialRegistry> owned;
  auto registry = registry_for(c, *store->journal, owned);
  if (!registry) return fail(c, registry.status());
  const auto by = cause_for(c, as);
  if (sub == "create") {
    auto text = (*registry)->create_provisioning_key(name, by);
    if (!text) return fail(c, text.status());
    c.out << *text << "\n";
    c.err << "provisioning key " << name << " created; the key above is shown only once."
          << when_effective(c) << "\n";
    return kExitOk;
  }
  auto status = (*registry)->revoke_provisioning_key(name, by);
  if (!status.is_ok()) return fail(c, status);
  c.err << "provisioning key " << name << " revoked." << when_effective(c) << "\n";
  return kExitOk;
}

// "'greet bob'" for a payload; non-printable bytes as \xNN, cut after `max` bytes.
std::string quoted(const std::string& text, size_t max = 60) {
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
      out.push_back(static_cast<char>(ch));
    } else {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  out += text.size() > max ? "'..." : "'";
  return out;
}

std::string hex_of(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : bytes) {
    out.push_back(kHex[ch >> 4]);
    out.push_back(kHex[ch & 15]);
  }
  return out;
}

std::string answer_text(actions::Outcome outcome, const std::string& output,
                        const std::string& error) {
  std::string out(actions::outcome_name(outcome));
  if (outcome == actions::Outcome::kReplied) out += " " + quoted(output);
  if (actions::is_failure(outcome)) out += " (" + error + ")";
  return out;
}

int action_verb(Context& c, const std::vector<std::string>& all) {
  std::vector<std::string> args;
  std::string as;
  bool replace = false;
  size_t limit = 20;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == "--replace") {
      replace = true;
    } else if (all[i] == "--as" && i + 1 < all.size()) {
      as = all[++i];
    } else if (all[i] == "--limit" && i + 1 < all.size()) {
      auto n = parse_u64(all[++i]);
      if (!n) return usage(c, "action", "--limit needs a number");
      limit = static_cast<size_t>(*n);
    } else if (all[i].starts_with("--")) {
      return usage(c, "action", "unknown option '" + all[i] + "'");
    } else {
      args.push_back(all[i]);
    }
  }
  if (args.empty()) return usage(c, "action", "give a subcommand");
  const std::string sub = args[0];
  auto need = [&](size_t n) { return args.size() == n; };
  auto read_source = [&](const std::string& path) -> Result<std::string> {
    if (c.live) {  // the tool sent the file: the server never reads the operator's files
      auto sent = c.live->files.find(path);
      if (sent == c.live->files.end()) return not_found("cannot read " + path);
      return sent->second;
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) return not_found("cannot read " + path);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
  };
  const actions::SandboxLimits limits;
  if (sub == "list" || sub == "show" || sub == "runs" || sub == "try") {
    if (sub == "list" ? !need(1) : sub == "try" ? !need(3) : !need(2))
      return usage(c, "action", "wrong number of arguments for " + sub);
    auto store = open(c, OpenMode::kReadOnly);
    if (!store) return fail(c, store.status());
    if (sub == "list" || sub == "show") {
      auto state = actions::load_table(*store->journal);
      if (!state) return fail(c, state.status());
      for (const auto& [name, a] : state->actions) {
        if (sub == "show" && name != args[1]) continue;
        c.out << name << " r" << a.revision << " "
              << (a.enabled ? "enabled" : "disabled (" + a.disabled_reason + ")") << " sha256 "
              << hex_of(a.sha256) << " installed " << format_time(a.installed_at_ms) << " by "
              << cause_text(a.installed_by) << "\n";
        if (sub == "show") c.out << a.source << (a.source.ends_with("\n") ? "" : "\n");
      }
      if (sub == "show" && state->find(args[1]) == nullptr)
        return fail(c, not_found("no action named " + args[1]));
      return kExitOk;
    }
    if (sub == "runs") {
      auto runs = actions::load_invocations(*store->journal, args[1], limit);
      if (!runs) return fail(c, runs.status());
      for (const auto& r : *runs) {
        c.out << "v" << r.version << " " << format_time(r.time_ms) << " " << r.topic << " "
              << (r.excerpts_dropped ? "(excerpts dropped)" : quoted(r.input)) << " -> "
              << answer_text(r.outcome, r.output, r.error) << " instructions=" << r.instructions
              << " memory=" << r.peak_memory_bytes;
        for (const auto& e : r.effects) c.out << " [" << e << "]";
        c.out << "\n";
      }
      return kExitOk;
    }
    auto source = read_source(args[2]);
    if (!source) return fail(c, source.status());
    auto rows = try_action(*store->journal, args[1], *source, limit, limits);
    if (!rows) return fail(c, rows.status());
    size_t differ = 0;
    for (const auto& row : *rows) {
      const auto& r = row.recorded;
      const std::string was = answer_text(r.outcome, r.output, r.error);
      const std::string now = answer_text(row.now.outcome, row.now.reply, row.now.error);
      const bool same = was == now;
      if (!same) ++differ;
      c.out << "v" << r.version << " " << quoted(r.input)
            << (row.input_cut ? " (first bytes of " + std::to_string(r.input_bytes) + ")" : "")
            << "\n  recorded: " << was << "\n  new:      " << now;
      for (const auto& e : row.now.effects) c.out << " [" << e.describe() << "]";
      c.out << (same ? "\n  same\n" : "\n  DIFFERS\n");
    }
    c.err << rows->size() << " recorded inputs, " << differ << " answered differently\n";
    return kExitOk;
  }
  if (sub != "install" && sub != "disable" && sub != "enable" && sub != "remove")
    return usage(c, "action", "unknown subcommand '" + sub + "'");
  if (sub == "install" ? !need(3) : !need(2))
    return usage(c, "action", "wrong number of arguments for " + sub);
  std::string source;
  if (sub == "install") {
    auto text = read_source(args[2]);
    if (!text) return fail(c, text.status());
    source = std::move(*text);
  }
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  const auto by = cause_for(c, as);
  if (sub == "install") {
    auto action = c.live && c.live->actions
                      ? c.live->actions->install(args[1], source, replace, by)
                      : install_action(*store->journal, args[1], source, replace, limits, by);
    if (!action) return fail(c, action.status());
    c.err << "action " << action->name << " installed (revision " << action->revision << ", sha256 "
          << hex_of(action->sha256) << ")." << when_effective(c) << "\n";
    return kExitOk;
  }
  actions::Command command = actions::Remove{args[1]};
  if (sub == "disable") command = actions::Disable{args[1], "operator"};
  if (sub == "enable") command = actions::Enable{args[1]};
  auto status = c.live && c.live->actions ? c.live->actions->change(command, by)
                                          : change_action(*store->journal, command, by);
  if (!status.is_ok()) return fail(c, status);
  c.err << "action " << args[1] << " " << sub << "d." << when_effective(c) << "\n";
  return kExitOk;
}

// --after NAME and --limit N of the list verbs.
struct PageArgs {
  std::string after;
  size_t limit = 100;
};

std::optional<PageArgs> page_args(Context& c, const std::string& verb,
                                  const std::vector<std::string>& args, int* code) {
  PageArgs page;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if ((a == "--after" || a == "--limit") && i + 1 == args.size()) {
      *code = usage(c, verb, a + " needs a value");
      return std::nullopt;
    }
    if (a == "--after") {
      page.after = args[++i];
    } else if (a == "--limit") {
      auto n = parse_u64(args[++i]);
      if (!n || *n == 0 || *n > 10000) {
        *code = usage(c, verb, "--limit needs a number from 1 to 10000");
        return std::nullopt;
      }
      page.limit = *n;
    } else {
      *code = usage(c, verb, "unexpected argument '" + a + "'");
      return std::nullopt;
    }
  }
  return page;
}

// Lists one page of `prefix` streams, printing each entity with `line`.
int list_verb(Context& c, const std::string& verb, const std::string& prefix,
              const std::vector<std::string>& args,
              const std::function<Result<std::string>(const Store&, const std::string&)>& line) {
  int code = kExitUsage;
  auto page = page_args(c, verb, args, &code);
  if (!page) return code;
  auto store = open(c, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  std::vector<std::string> names;
  bool more = false;
  auto status = list_page(
      *store, prefix, page->after, page->limit,
      [&](const std::string& stream, uint64_t) { names.push_back(stream.substr(prefix.size())); },
      &more);
  if (!status.is_ok()) return fail(c, status);
  bool failed = false;
  for (const auto& name : names) {
    auto text = line(*store, name);
    if (!text) {
      c.err << "gatehousectl: " << prefix << name << ": " << text.status().to_string() << "\n";
      failed = true;
      continue;
    }
    c.out << *text << "\n";
  }
  if (more)
    c.err << "more: gatehousectl " << verb << " --after " << names.back() << " --limit "
          << page->limit << "\n";
  return failed ? kExitFailed : kExitOk;
}

int users_verb(Context& c, const std::vector<std::string>& args) {
  return list_verb(c, "users", "user/", args,
                   [](const Store& store, const std::string& name) -> Result<std::string> {
                     auto user = load_user(store, name);
                     if (!user) return user.status();
                     std::string roles;
                     for (const auto& role : user->roles)
                       roles += (roles.empty() ? "" : ",") + role;
                     return name + " v" + std::to_string(user->version) + " " +
                            (user->erased       ? "erased"
                             : user->registered ? "active"
                                                : "unregistered") +
                            " roles=" + (roles.empty() ? "-" : roles);
                   });
}

int rooms_verb(Context& c, const std::vector<std::string>& args) {
  return list_verb(
      c, "rooms", "room/", args,
      [](const Store& store, const std::string& name) -> Result<std::string> {
        auto room = load_room(store, name);
        if (!room) return room.status();
        return name + " v" + std::to_string(room->version) +
               " members=" + std::to_string(room->members.size()) +
               " messages=" + std::to_string(room->next_message_id - 1) + " creator=" +
               (room->creator.empty() ? "-" : room::shown_author(*room, room->creator));
      });
}

bool known_role(const std::string& role) {
  for (auto known : user::kKnownRoles)
    if (known == role) return true;
  return false;
}

std::string known_roles() {
  std::string out;
  for (auto known : user::kKnownRoles) out += (out.empty() ? "" : ", ") + std::string(known);
  return out;
}

// Asks for the user's name on `in`; true when it was typed.
bool confirmed(Context& c, const std::string& name, const user::State& state) {
  c.err << "This erases user " << name << " (registered " << format_time(state.registered_at_ms)
        << (state.erased ? ", already erased: completing the rooms" : "")
        << "): their hashes, sessions and roles go, the name can never be registered again,\n"
        << "and their messages show [erased] in every room. It cannot be undone.\n"
        << "Type the user's name to confirm: " << std::flush;
  std::string answer;
  if (!std::getline(c.in, answer)) answer.clear();
  while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
  return answer == name;
}

int user_erase(Context& c, const std::string& name, bool yes, const events::Cause& by) {
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  if (auto s = needs_rocksdb(*store, "user erase",
                             "it rewrites every room naming the user, and other nodes own most "
                             "of them; nothing written");
      !s.is_ok())
    return fail(c, s);
  auto state = load_user(*store, name);
  if (!state) return fail(c, state.status());
  if (!state->registered) return fail(c, not_found("no user named " + name));
  if (!yes && !confirmed(c, name, *state)) {
    c.err << "gatehousectl: not confirmed; nothing written\n";
    return kExitFailed;
  }
  auto report = erase_user(*store, name, by, unix_now_ms(), &c.err);
  if (!report) return fail(c, report.status());
  c.out << "user " << name << ": " << (report->user_erased_now ? "erased" : "was already erased")
        << "\n";
  for (const auto& room : report->anonymised) c.out << "anonymised in " << room << "\n";
  c.out << "erase: " << report->rooms_scanned << " rooms scanned, " << report->anonymised.size()
        << " anonymised now, " << report->already_anonymised << " done before, "
        << report->snapshots_replaced << " streams re-snapshotted";
  if (!report->complete()) {
    c.out << ", " << report->failed.size() << " failed\n";
    for (const auto& failure : report->failed) c.err << "gatehousectl: " << failure << "\n";
    c.err << "gatehousectl: erase of " << name
          << " is incomplete; fix the rooms above (gatehousectl verify) and run it again\n";
    return kExitFailed;
  }
  c.out << "\n";
  return kExitOk;
}

int user_verb(Context& c, const std::vector<std::string>& args) {
  if (args.empty()) return usage(c, "user", "give show, grant, revoke or erase");
  const auto& sub = args[0];
  if (sub != "show" && sub != "grant" && sub != "revoke" && sub != "erase")
    return usage(c, "user", "unknown subcommand '" + sub + "'");
  if (sub == "show") {
    // `state user/NAME` with the same options (--at-version, --at-time).
    if (args.size() < 2 || args[1].starts_with("--")) return usage(c, "user", "show needs NAME");
    if (auto valid = user::validate_user_name(args[1]); !valid.is_ok())
      return usage(c, "user", valid.message());
    std::vector<std::string> state_args{user::user_stream(args[1])};
    state_args.insert(state_args.end(), args.begin() + 2, args.end());
    return state_verb(c, state_args);
  }
  std::vector<std::string> positional;
  std::string as;
  bool yes = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--as") {
      if (i + 1 == args.size()) return usage(c, "user", "--as needs an OPERATOR name");
      as = args[++i];
      if (!is_valid_id(as))
        return usage(c, "user", "--as needs 1-64 characters of A-Z a-z 0-9 . _ -");
    } else if (a == "--yes" && sub == "erase") {
      yes = true;
    } else if (a.starts_with("--")) {
      return usage(c, "user", "unexpected argument '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  const size_t wanted = sub == "erase" ? 1 : 2;
  if (positional.size() != wanted)
    return usage(c, "user", sub + (wanted == 2 ? " needs NAME and ROLE" : " needs NAME"));
  const auto& name = positional[0];
  if (auto valid = user::validate_user_name(name); !valid.is_ok())
    return usage(c, "user", valid.message());
  const auto by = cause_for(c, as);
  if (sub == "erase") return user_erase(c, name, yes, by);
  const auto& role = positional[1];
  if (sub == "grant" && !known_role(role))
    return usage(c, "user", "unknown role '" + role + "' (known roles: " + known_roles() + ")");
  if (auto s = served_here(c, user::user_stream(name)); !s.is_ok()) return fail(c, s);
  auto store = open(c, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  auto change = change_role(*store, name, role, sub == "grant", by, unix_now_ms());
  if (!change) {
    if (change.status().code() == Code::kInvalidArgument)
      c.err << "gatehousectl: known roles: " << known_roles() << "\n";
    return fail(c, change.status());
  }
  if (!change->written)
    c.out << "user " << name << (sub == "grant" ? " already has role " : " does not have role ")
          << role << "; nothing written\n";
  else
    c.out << "user " << name << ": role " << role << (sub == "grant" ? " granted" : " revoked")
          << " (user/" << name << " version " << change->version << ")\n";
  return kExitOk;
}

int nats_auth_verb(Context& c, const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "revoke") {
    std::string nats_url;
    std::vector<std::string> ids;
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] != "--nats-url") {
        ids.push_back(args[i]);
      } else if (i + 1 < args.size()) {
        nats_url = args[++i];
      } else {
        return usage(c, "nats-auth", "--nats-url needs NATS' client URLs");
      }
    }
    if (ids.empty()) return usage(c, "nats-auth", "revoke needs DIR and device ids");
    auto status = revoke_nats_doors(args[1], ids, unix_now_ms() / 1000, c.out, nats_url);
    if (!status.is_ok()) return fail(c, status);
    return kExitOk;
  }
  if (args.empty() || args[0] != "create")
    return usage(c, "nats-auth", "give create DIR --prefix P, or revoke DIR ID...");
  NatsAuthOptions options;
  for (size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    if ((a == "--prefix" || a == "--session-groups") && i + 1 == args.size())
      return usage(c, "nats-auth", a + " needs a value");
    if (a == "--prefix") {
      options.prefixes.push_back(args[++i]);
    } else if (a == "--session-groups") {
      auto groups = parse_u64(args[++i]);
      if (!groups || *groups > 1024) return usage(c, "nats-auth", "--session-groups: 1 to 1024");
      options.groups = static_cast<uint32_t>(*groups);
    } else if (a.starts_with("--") || !options.dir.empty()) {
      return usage(c, "nats-auth", "unexpected '" + a + "'");
    } else {
      options.dir = a;
    }
  }
  if (options.dir.empty()) return usage(c, "nats-auth", "create needs DIR");
  auto status = create_nats_auth(options, unix_now_ms() / 1000, c.out);
  if (!status.is_ok()) return fail(c, status);
  return kExitOk;
}

int run_verb(Context& c, const std::string& verb, const std::vector<std::string>& rest);

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::istringstream nothing;
  return run(args, nothing, out, err);
}

int run(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
        std::ostream& err) {
  Context c{kDefaultStore, in, out, err};
  size_t i = 0;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      out << kUsage;
      return kExitOk;
    }
    if (args[i] == "--store") {
      if (i + 1 == args.size()) {
        err << "gatehousectl: --store needs a PATH\n";
        return kExitUsage;
      }
      c.store_path = args[++i];
    } else if (args[i].starts_with("--store=")) {
      c.store_path = args[i].substr(8);
    } else if (args[i] == "--postgres" || args[i] == "--socket") {
      if (i + 1 == args.size()) {
        err << "gatehousectl: " << args[i] << " needs a value\n";
        return kExitUsage;
      }
      (args[i] == "--postgres" ? c.postgres : c.socket) = args[i + 1];
      ++i;
    } else if (args[i].starts_with("--postgres=")) {
      c.postgres = args[i].substr(11);
    } else if (args[i].starts_with("--socket=")) {
      c.socket = args[i].substr(9);
    } else {
      err << "gatehousectl: unknown option '" << args[i] << "'\n" << kUsage;
      return kExitUsage;
    }
  }
  if (i == args.size()) {
    err << kUsage;
    return kExitUsage;
  }
  const std::string verb = args[i];
  std::vector<std::string> rest(args.begin() + i + 1, args.end());
  for (const auto& a : rest) {
    if (a == "--help" || a == "-h") {
      auto it = verb_help().find(verb);
      if (it == verb_help().end()) break;
      out << it->second;
      return kExitOk;
    }
  }
  // A cluster node runs the read verbs too (an operator on its machine then needs no
  // connection string); a RocksDB server only the writes and --follow (a read verb opens the
  // store read-only itself).
  const bool node =
      c.postgres.empty() && (!c.socket.empty() || cluster_node_socket(c.store_path).has_value());
  if (node || runs_in_server(verb, rest)) {
    const std::string socket = c.socket.empty() ? admin_socket_of_store(c.store_path) : c.socket;
    if (auto code = run_in_running_server(socket, verb, rest, in, out, err)) return *code;
    if (!c.socket.empty()) {
      err << "gatehousectl: no gatehouse answers on " << c.socket
          << " (is the node running, and is this its run directory's admin.sock?)\n";
      return kExitFailed;
    }
  }
  return run_verb(c, verb, rest);
}

int run_in_server(const std::vector<std::string>& args, const LiveServer& live, std::ostream& out,
                  std::ostream& err) {
  std::istringstream nothing;
  Context c{kDefaultStore, nothing, out, err, &live};
  const bool cluster_node = live.database == nullptr;
  if (args.empty() || (!cluster_node && !runs_in_server(args[0], {args.begin() + 1, args.end()}))) {
    err << "gatehousectl: the server runs only the write verbs and events --follow\n";
    return kExitUsage;
  }
  return run_verb(c, args[0], {args.begin() + 1, args.end()});
}

namespace {

int run_verb(Context& c, const std::string& verb, const std::vector<std::string>& rest) {
  auto& err = c.err;
  using Verb = int (*)(Context&, const std::vector<std::string>&);
  static const std::map<std::string, Verb> kVerbs = {{"streams", streams_verb},
                                                     {"events", events_verb},
                                                     {"state", state_verb},
                                                     {"verify", verify_verb},
                                                     {"snapshot", snapshot_verb},
                                                     {"backup", backup_verb},
                                                     {"token", token_verb},
                                                     {"users", users_verb},
                                                     {"rooms", rooms_verb},
                                                     {"user", user_verb},
                                                     {"action", action_verb},
                                                     {"device", device_verb},
                                                     {"provisioning-key", provisioning_key_verb},
                                                     {"nats-auth", nats_auth_verb}};
  auto it = kVerbs.find(verb);
  if (it == kVerbs.end()) {
    err << "gatehousectl: unknown verb '" << verb << "'\n" << kUsage;
    return kExitUsage;
  }
  return it->second(c, rest);
}

}  // namespace

}  // namespace gh::ctl
