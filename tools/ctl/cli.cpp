#include "tools/ctl/cli.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <map>
#include <optional>

#include "actors/system/token_model.h"
#include "events/stream_name.h"
#include "tools/ctl/backup.h"
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
    "\n"
    "read verbs (open the store read-only; work while gatehouse runs):\n"
    "  streams [PREFIX]                         streams and their last versions\n"
    "  events STREAM [--from N] [--json]        a stream's events from version N\n"
    "  events --all [--from-position P] [--json]  the whole log in position order\n"
    "  state STREAM [--at-version N | --at-time T]  state rebuilt from events\n"
    "  verify                                   check every event, index and snapshot\n"
    "  token list                               active API tokens\n"
    "  backup DIR                               consistent copy of the store into DIR\n"
    "\n"
    "write verbs (need gatehouse stopped):\n"
    "  snapshot STREAM | --all                  write snapshots from a full replay\n"
    "  token create NAME | revoke NAME          API tokens (secret printed once)\n"
    "\n"
    "gatehousectl VERB --help describes a verb.\n";

const std::map<std::string, std::string>& verb_help() {
  static const std::map<std::string, std::string> kHelp = {
      {"streams",
       "usage: gatehousectl streams [PREFIX]\n"
       "Lists streams whose name starts with PREFIX (all when omitted), one per line:\n"
       "  STREAM LAST_VERSION\n"},
      {"events",
       "usage: gatehousectl events STREAM [--from N] [--json]\n"
       "       gatehousectl events --all [--from-position P] [--json]\n"
       "Prints events one per line: position, stream, version, time (UTC), command id,\n"
       "cause and the event's fields; --json prints one JSON object per line instead.\n"
       "A stream that cannot be read (corrupt record, gap) ends with an error naming the\n"
       "stream and version, and exit status 1.\n"},
      {"state",
       "usage: gatehousectl state STREAM [--at-version N | --at-time T]\n"
       "Rebuilds the state of a device/ stream or of system/tokens from its events with\n"
       "the server's own model. --at-version N stops after version N; --at-time T after\n"
       "the last event appended at or before T (unix milliseconds or ISO-8601 UTC such as\n"
       "2026-11-23T09:00:00Z).\n"},
      {"verify",
       "usage: gatehousectl verify\n"
       "Decodes every event, checks that each stream's versions have no gaps, that the\n"
       "position index and the events agree (positions unique and increasing), and that\n"
       "every device snapshot equals a replay to its version. Prints one line per problem\n"
       "(PROBLEM stream version: what) and exits 1 if there is any. Progress on stderr.\n"},
      {"snapshot",
       "usage: gatehousectl snapshot STREAM | --all\n"
       "Writes a snapshot of the stream (or of every device stream) at its current version,\n"
       "from a full replay. Needs gatehouse stopped. Progress on stderr.\n"},
      {"backup",
       "usage: gatehousectl backup DIR\n"
       "Copies the store into DIR (which must not exist). With gatehouse stopped this is a\n"
       "RocksDB checkpoint; while it runs, a logical copy through a read-only open, as of the\n"
       "moment of opening. Restore: stop gatehouse, move the store aside, copy DIR in its\n"
       "place, run verify. Progress on stderr.\n"},
      {"token",
       "usage: gatehousectl token create NAME | list | revoke NAME\n"
       "API tokens for the HTTP API (stream system/tokens). create prints the secret once;\n"
       "only its SHA-256 is stored. create and revoke need gatehouse stopped; restart it to\n"
       "load the change.\n"},
  };
  return kHelp;
}

struct Context {
  std::string store_path = kDefaultStore;
  std::ostream& out;
  std::ostream& err;
};

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

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int streams_verb(Context& c, const std::vector<std::string>& args) {
  if (args.size() > 1) return usage(c, "streams", "at most one PREFIX");
  auto store = open_store(c.store_path, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  auto status = store->journal->list_streams(args.empty() ? "" : args[0],
                                             [&](const std::string& s, uint64_t v) {
                                               c.out << s << " " << v << "\n";
                                               return true;
                                             });
  return status.is_ok() ? kExitOk : fail(c, status);
}

int events_verb(Context& c, const std::vector<std::string>& args) {
  std::optional<std::string> stream;
  bool all = false, json = false;
  uint64_t from = 1;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--all") {
      all = true;
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
  auto store = open_store(c.store_path, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  auto print = [&](const Envelope& e) {
    c.out << (json ? event_json(e) : event_line(e)) << "\n";
    return true;
  };
  if (all) {
    auto status = store->journal->read_all(from, print);
    return status.is_ok() ? kExitOk : fail(c, status);
  }
  if (!is_valid_stream(*stream)) return usage(c, "events", "invalid stream '" + *stream + "'");
  // Pages keep memory flat on long streams; when a page fails, its events are re-read one
  // at a time so that everything before the damage is shown before the error naming it.
  constexpr size_t kPage = 1000;
  for (uint64_t next = std::max<uint64_t>(from, 1);;) {
    auto page = store->journal->read_stream(*stream, next, kPage);
    if (!page) {
      for (;; ++next) {
        auto one = store->journal->read_stream(*stream, next, 1);
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
    } else if (!a.starts_with("--") && !stream) {
      stream = a;
    } else {
      return usage(c, "state", "unexpected argument '" + a + "'");
    }
  }
  if (!stream) return usage(c, "state", "give STREAM");
  if (query.at_version && query.at_time_ms)
    return usage(c, "state", "give --at-version or --at-time, not both");
  auto store = open_store(c.store_path, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
  auto text = render_state(*store->journal, *stream, query);
  if (!text) return fail(c, text.status());
  c.out << *text;
  return kExitOk;
}

int verify_verb(Context& c, const std::vector<std::string>& args) {
  if (!args.empty()) return usage(c, "verify", "takes no arguments");
  auto store = open_store(c.store_path, OpenMode::kReadOnly);
  if (!store) return fail(c, store.status());
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
  auto store = open_store(c.store_path, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  std::vector<std::string> streams;
  if (args[0] == "--all") {
    auto status = store->journal->list_streams("device/", [&](const std::string& s, uint64_t) {
      streams.push_back(s);
      return true;
    });
    if (!status.is_ok()) return fail(c, status);
  } else if (is_valid_stream(args[0])) {
    streams.push_back(args[0]);
  } else {
    return usage(c, "snapshot", "invalid stream '" + args[0] + "'");
  }
  c.err << "snapshot: " << streams.size() << " streams\n";
  auto run = snapshot_streams(*store->journal, *store->snapshots, streams, now_ms(), &c.err);
  if (!run) return fail(c, run.status());
  for (const auto& s : run->skipped)
    c.out << "skipped " << s << " (no events or no snapshot model)\n";
  c.out << "snapshot: " << run->written << " written\n";
  return kExitOk;
}

int backup_verb(Context& c, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].starts_with("--")) return usage(c, "backup", "give DIR");
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
    auto store = open_store(c.store_path, OpenMode::kReadOnly);
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
  auto store = open_store(c.store_path, OpenMode::kReadWrite);
  if (!store) return fail(c, store.status());
  if (sub == "create") {
    auto created = create_token(*store->journal, args[1], operator_cause());
    if (!created) return fail(c, created.status());
    c.out << created->secret << "\n";
    c.err << "token " << created->name
          << " created; the secret above is shown only once. Restart gatehouse to load it.\n";
    return kExitOk;
  }
  auto status = revoke_token(*store->journal, args[1], operator_cause());
  if (!status.is_ok()) return fail(c, status);
  c.err << "token " << args[1] << " revoked. Restart gatehouse to apply.\n";
  return kExitOk;
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Context c{kDefaultStore, out, err};
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
  using Verb = int (*)(Context&, const std::vector<std::string>&);
  static const std::map<std::string, Verb> kVerbs = {
      {"streams", streams_verb}, {"events", events_verb},     {"state", state_verb},
      {"verify", verify_verb},   {"snapshot", snapshot_verb}, {"backup", backup_verb},
      {"token", token_verb}};
  auto it = kVerbs.find(verb);
  if (it == kVerbs.end()) {
    err << "gatehousectl: unknown verb '" << verb << "'\n" << kUsage;
    return kExitUsage;
  }
  return it->second(c, rest);
}

}  // namespace gh::ctl
