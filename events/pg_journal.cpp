#include "events/pg_journal.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <thread>
#include <unordered_set>

#include "events/clock.h"
#include "events/journal_support.h"
#include "events/pg_schema.h"
#include "events/shard.h"
#include "events/stream_name.h"

namespace gh {
namespace {

using journal_support::describe;

// PostgreSQL takes at most 65535 parameters per statement: 4 per event row, 2 per key.
constexpr size_t kRowsPerStatement = 4000;
// Rows fetched per round trip by read_all() and list_streams().
constexpr size_t kReadChunk = 512;

// "($1, $2::bytea), ($3, $4::bytea)" for `rows` rows with one cast (or "") per column,
// numbered from `after` + 1: parameters of a VALUES list get no type from a table.
std::string placeholders(size_t rows, const std::vector<std::string>& casts, size_t after = 0) {
  std::string sql;
  size_t n = after;
  for (size_t row = 0; row < rows; ++row) {
    sql += row == 0 ? "(" : ", (";
    for (size_t c = 0; c < casts.size(); ++c) {
      if (c) sql += ", ";
      sql += "$" + std::to_string(++n) + casts[c];
    }
    sql += ")";
  }
  return sql;
}

std::string command_key(const std::string& stream, const std::string& command_id) {
  return stream + '\0' + command_id;
}

AppendResult command_record(const PgRows& rows, int row, int first_column) {
  AppendResult result;
  result.first_version = rows.number(row, first_column);
  result.last_version = rows.number(row, first_column + 1);
  result.last_position = rows.number(row, first_column + 2);
  result.duplicate = true;
  return result;
}

// Whether a failed COMMIT may still have committed: its answer was lost (class 08, the
// connection) or the server was stopping under it (class 57, as when a failover terminates a
// backend that waits for its synchronous standby, committed locally). Any other failure of
// COMMIT is a rollback.
bool commit_outcome_unknown(const Status& failure) {
  const auto sqlstate = pg_sqlstate(failure);
  return sqlstate.substr(0, 2) == "08" || sqlstate.substr(0, 2) == "57";
}

}  // namespace

struct PgJournal::BatchOutcome {
  explicit BatchOutcome(size_t appends) : result(appends) {}
  BatchResult result;  // result.failure: the transaction did not commit
  std::unordered_map<std::string, uint64_t> in_batch;  // stream -> version after the batch
  std::unordered_map<std::string, uint64_t> epochs;    // stream -> lease epoch written under
  uint64_t position = 0;                               // head after the batch
  bool started = false;  // the transaction began: a failure may have left work undone
  // COMMIT was sent and its answer lost: the batch's last event row, to look for, and the
  // backend that ran the transaction, to wait for.
  struct CommitProbe {
    std::string stream;
    uint64_t version = 0;
    uint64_t position = 0;
    std::string envelope;
    int backend_pid = 0;
  };
  std::optional<CommitProbe> unknown_commit;
};

Result<std::unique_ptr<PgJournal>> PgJournal::open(PgJournalOptions options) {
  auto writer = PgConnection::open(options.conninfo);
  if (!writer) return writer.status();
  if (auto s = ensure_pg_schema(**writer); !s.is_ok()) return s;
  auto head =
      (*writer)->exec("SELECT position FROM gh_journal_head", PgParams(), "reading the head");
  if (!head) return head.status();
  if (head->size() != 1) return data_loss("PostgreSQL: gh_journal_head has no row");
  return std::unique_ptr<PgJournal>(
      new PgJournal(std::move(options), std::move(*writer), head->number(0, 0)));
}

PgJournal::PgJournal(PgJournalOptions options, std::unique_ptr<PgConnection> writer, uint64_t head)
    : options_(std::move(options)),
      writer_connection_(std::move(writer)),
      readers_(options_.conninfo),
      group_(options_.batching) {
  if (!options_.batching.clock) options_.batching.clock = unix_now_ms;
  last_position_ = head;
  group_.start([this](auto& batch) { return write_batch(batch); });
}

PgJournal::~PgJournal() { shutdown(); }

void PgJournal::shutdown() { group_.shutdown(); }

void PgJournal::append(AppendRequest request, AppendCallback done) {
  group_.submit(std::move(request), std::move(done));
}

Status PgJournal::check_leases(const std::vector<QueuedAppend>& batch, BatchOutcome& out,
                               std::vector<uint64_t>& epochs) {
  const ShardFence* fence = options_.fence;
  if (fence == nullptr) return Status::ok();
  std::map<uint32_t, uint64_t> believed;  // shard -> epoch this node believes it holds
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& stream = batch[i].request.stream;
    if (!fenced_stream(stream)) continue;  // written by any node, at lease epoch 0
    const uint32_t shard = shards::shard_of_stream(stream);
    auto epoch = fence->held_epoch(shard);
    if (!epoch) {
      out.result.outcomes[i] = lease_lost(stream + ": node " + fence->node() +
                                          " does not hold shard " + std::to_string(shard));
      continue;
    }
    believed[shard] = *epoch;
    epochs[i] = *epoch;
  }
  if (believed.empty()) return Status::ok();
  std::string list = "{";
  for (const auto& [shard, epoch] : believed)
    list += (list.size() > 1 ? "," : "") + std::to_string(shard);
  list += "}";
  // FOR SHARE: an acquisition of these shards (an UPDATE) waits until this transaction ends,
  // so what is read here stays true until COMMIT.
  auto rows = writer_connection_->exec(
      "SELECT shard, epoch FROM shard_lease WHERE shard = ANY($1::int[]) AND owner = $2 "
      "AND expires_at > now() ORDER BY shard FOR SHARE",
      PgParams().text(list).text(fence->node()), "checking shard leases");
  if (!rows) return rows.status();
  std::map<uint32_t, uint64_t> confirmed;
  for (int r = 0; r < rows->size(); ++r)
    confirmed[uint32_t(rows->number(r, 0))] = rows->number(r, 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (out.result.outcomes[i]) continue;
    const auto& stream = batch[i].request.stream;
    if (!fenced_stream(stream)) continue;
    const uint32_t shard = shards::shard_of_stream(stream);
    auto it = confirmed.find(shard);
    if (it == confirmed.end() || it->second != epochs[i]) {
      out.result.outcomes[i] =
          lease_lost(stream + ": shard " + std::to_string(shard) + " is no longer held by node " +
                     fence->node() + " at epoch " + std::to_string(epochs[i]));
      epochs[i] = 0;  // written under no lease: nothing
    }
  }
  return Status::ok();
}

Status PgJournal::load_versions(const std::vector<QueuedAppend>& batch,
                                const std::vector<uint64_t>& epochs) {
  // Every stream of the batch ends up in the cache; a full cache starts over first.
  if (versions_.size() + batch.size() > options_.batching.version_cache_entries) versions_.clear();
  std::vector<std::string> missing;
  std::unordered_set<std::string> seen;
  std::unordered_map<std::string, uint64_t> epoch_of;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& stream = batch[i].request.stream;
    const bool fenced = options_.fence != nullptr && fenced_stream(stream);
    if (fenced && epochs[i] == 0) continue;  // refused: lease lost
    epoch_of[stream] = epochs[i];
    auto cached = versions_.find(stream);
    // A stream any node writes (fenced_stream) is read every time: another node may have
    // written it since. Inside this transaction, behind the head row's lock, the read is exact.
    const bool shared = options_.fence != nullptr && !fenced;
    if ((shared || cached == versions_.end() || cached->second.epoch != epochs[i]) &&
        seen.insert(stream).second)
      missing.push_back(stream);
  }
  for (size_t from = 0; from < missing.size(); from += kRowsPerStatement) {
    const size_t count = std::min(kRowsPerStatement, missing.size() - from);
    PgParams params;
    std::string list;
    for (size_t i = 0; i < count; ++i) {
      params.text(missing[from + i]);
      list += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    auto rows = writer_connection_->exec(
        "SELECT stream, max(version) FROM gh_events WHERE stream IN (" + list + ") GROUP BY stream",
        params, "reading stream versions");
    if (!rows) return rows.status();
    for (size_t i = 0; i < count; ++i)
      versions_[missing[from + i]] = {0, epoch_of.at(missing[from + i])};
    for (int r = 0; r < rows->size(); ++r)
      versions_.at(std::string(rows->text(r, 0))).version = rows->number(r, 1);
  }
  return Status::ok();
}

Status PgJournal::load_commands(const std::vector<QueuedAppend>& batch,
                                std::unordered_map<std::string, AppendResult>& found) {
  std::vector<const AppendRequest*> asked;
  for (const auto& pending : batch)
    if (!pending.request.command_id.empty()) asked.push_back(&pending.request);
  for (size_t from = 0; from < asked.size(); from += kRowsPerStatement) {
    const size_t count = std::min(kRowsPerStatement, asked.size() - from);
    PgParams params;
    for (size_t i = 0; i < count; ++i)
      params.text(asked[from + i]->stream).bytes(asked[from + i]->command_id);
    auto rows = writer_connection_->exec(
        "SELECT c.stream, c.command_id, c.first_version, c.last_version, c.last_position "
        "FROM gh_commands c JOIN (VALUES " +
            placeholders(count, {"", "::bytea"}) +
            ") AS k(stream, command_id) ON c.stream = k.stream AND c.command_id = k.command_id",
        params, "reading command ids");
    if (!rows) return rows.status();
    for (int r = 0; r < rows->size(); ++r)
      found[command_key(std::string(rows->text(r, 0)), rows->bytes(r, 1))] =
          command_record(*rows, r, 2);
  }
  return Status::ok();
}

PgJournal::BatchOutcome PgJournal::try_batch(std::vector<QueuedAppend>& batch) {
  BatchOutcome out(batch.size());
  auto& db = *writer_connection_;
  if (!db.ensure_connected()) {
    out.result.failure =
        unavailable("PostgreSQL: the writer's connection is lost and cannot reconnect");
    return out;
  }
  auto abandon = [&](Status status) {
    (void)db.exec("ROLLBACK", "rolling back a batch");
    out.result.failure = std::move(status);
    return std::move(out);
  };
  // The head row's lock serialises every writer of the database until COMMIT. A batch
  // costs three round trips when its streams are cached: this, the write, and COMMIT (each
  // waits for PostgreSQL's backend to be scheduled, which is what a busy machine makes slow).
  auto head = db.query("BEGIN; SELECT position FROM gh_journal_head FOR UPDATE",
                       "locking the journal head");
  if (!head) return abandon(head.status());
  out.started = true;
  if (head->size() != 1) return abandon(data_loss("PostgreSQL: gh_journal_head has no row"));
  out.position = head->number(0, 0);
  std::vector<uint64_t> epochs(batch.size(), 0);  // the lease each append writes under
  if (auto s = check_leases(batch, out, epochs); !s.is_ok()) return abandon(s);
  if (auto s = load_versions(batch, epochs); !s.is_ok()) return abandon(s);
  std::unordered_map<std::string, AppendResult> stored_commands;
  if (auto s = load_commands(batch, stored_commands); !s.is_ok()) return abandon(s);

  std::unordered_map<std::string, AppendResult> commands;  // written by this batch
  std::vector<const Envelope*> rows;
  std::vector<std::pair<const AppendRequest*, AppendResult>> command_rows;
  const int64_t now = options_.batching.clock();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (out.result.outcomes[i]) continue;  // refused: its lease is lost
    auto& request = batch[i].request;
    std::string key;
    if (!request.command_id.empty()) {
      key = command_key(request.stream, request.command_id);
      if (auto it = commands.find(key); it != commands.end()) {
        out.result.outcomes[i] = it->second;
        out.result.repeats_in_batch[i] = true;
        ++out.result.local.duplicates;
        continue;
      }
      if (auto it = stored_commands.find(key); it != stored_commands.end()) {
        out.result.outcomes[i] = it->second;
        ++out.result.local.duplicates;
        continue;
      }
    }
    auto in_batch = out.in_batch.find(request.stream);
    const uint64_t version =
        in_batch != out.in_batch.end() ? in_batch->second : versions_.at(request.stream).version;
    if (version != request.expected_version) {
      out.result.outcomes[i] =
          journal_support::version_conflict(request.stream, version, request.expected_version);
      ++out.result.local.conflicts;
      continue;
    }
    AppendResult result;
    result.first_version = version + 1;
    result.last_version = version;
    const int64_t time = request.time_unix_ms != 0 ? request.time_unix_ms : now;
    for (auto& envelope : request.events) {
      journal_support::stamp(envelope, request, ++result.last_version, ++out.position, time,
                             epochs[i]);
      rows.push_back(&envelope);
    }
    result.last_position = out.position;
    out.result.events_written += request.events.size();
    if (!key.empty()) {
      command_rows.emplace_back(&request, result);
      AppendResult repeat = result;
      repeat.duplicate = true;
      commands.emplace(key, repeat);
    }
    out.in_batch[request.stream] = result.last_version;
    out.epochs[request.stream] = epochs[i];
    out.result.outcomes[i] = std::move(result);
  }

  // Blobs in request order, each request's writes before its deletes (as on RocksDB).
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!out.result.outcomes[i] || !out.result.outcomes[i]->is_ok() ||
        out.result.outcomes[i]->value().duplicate)
      continue;
    for (const auto& blob : batch[i].request.blobs) {
      auto put = db.exec(
          "INSERT INTO gh_blobs (key, bytes) VALUES ($1, $2) "
          "ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes",
          PgParams().bytes(blob.key).bytes(blob.bytes), "writing a blob");
      if (!put) return abandon(put.status());
    }
    for (const auto& key : batch[i].request.delete_blobs) {
      auto removed =
          db.exec("DELETE FROM gh_blobs WHERE key = $1", PgParams().bytes(key), "deleting a blob");
      if (!removed) return abandon(removed.status());
    }
  }
  // Events, command ids and the new head in one statement of data-modifying CTEs, with one
  // multi-row INSERT each; only a batch beyond kRowsPerStatement rows takes more statements.
  auto add_events = [&](size_t from, size_t count, PgParams& params) {
    const std::string sql = "INSERT INTO gh_events (stream, version, position, envelope) VALUES " +
                            placeholders(count, {"", "", "", ""}, params.size());
    for (size_t r = from; r < from + count; ++r)
      params.text(rows[r]->stream())
          .number(rows[r]->version())
          .number(rows[r]->position())
          .bytes(rows[r]->SerializeAsString());
    return sql;
  };
  auto add_commands = [&](size_t from, size_t count, PgParams& params) {
    const std::string sql =
        "INSERT INTO gh_commands (stream, command_id, first_version, last_version, "
        "last_position) VALUES " +
        placeholders(count, {"", "", "", "", ""}, params.size());
    for (size_t c = from; c < from + count; ++c) {
      const auto& [request, result] = command_rows[c];
      params.text(request->stream)
          .bytes(request->command_id)
          .number(result.first_version)
          .number(result.last_version)
          .number(result.last_position);
    }
    return sql;
  };
  size_t events_from = 0, commands_from = 0;
  while (rows.size() - events_from > kRowsPerStatement ||
         command_rows.size() - commands_from > kRowsPerStatement) {
    PgParams params;
    std::string sql;
    if (rows.size() - events_from > kRowsPerStatement) {
      sql = add_events(events_from, kRowsPerStatement, params);
      events_from += kRowsPerStatement;
    } else {
      sql = add_commands(commands_from, kRowsPerStatement, params);
      commands_from += kRowsPerStatement;
    }
    auto inserted = db.exec(sql, params, "appending a batch");
    if (!inserted) return abandon(inserted.status());
  }
  PgParams params;
  std::vector<std::string> ctes;
  if (events_from < rows.size())
    ctes.push_back("e AS (" + add_events(events_from, rows.size() - events_from, params) + ")");
  if (commands_from < command_rows.size())
    ctes.push_back("c AS (" +
                   add_commands(commands_from, command_rows.size() - commands_from, params) + ")");
  if (!ctes.empty() || !rows.empty()) {
    std::string sql;
    for (const auto& cte : ctes) sql += (sql.empty() ? "WITH " : ", ") + cte;
    if (!rows.empty()) {
      params.number(out.position);
      sql += " UPDATE gh_journal_head SET position = $" + std::to_string(params.size());
    } else {
      sql += " SELECT 1";
    }
    auto written =
        db.exec(sql, params, "appending a batch of " + std::to_string(rows.size()) + " events");
    if (!written) return abandon(written.status());
  }
  const int backend_pid = db.backend_pid();
  if (auto s = db.exec("COMMIT", "committing a batch"); !s.is_ok()) {
    out.result.failure = std::move(s);
    if (commit_outcome_unknown(out.result.failure) && !rows.empty())
      out.unknown_commit = BatchOutcome::CommitProbe{rows.back()->stream(), rows.back()->version(),
                                                     rows.back()->position(),
                                                     rows.back()->SerializeAsString(), backend_pid};
    return out;
  }
  return out;
}

BatchResult PgJournal::write_batch(std::vector<QueuedAppend>& batch) {
  BatchOutcome out = try_batch(batch);
  if (!out.started && out.result.failure.code() == Code::kUnavailable) {
    // The connection died while idle (a server restart, a failover, an idle timeout) and
    // nothing of this batch reached the server: reconnect and try once more.
    out = try_batch(batch);
  }
  if (!out.result.failure.is_ok() && pg_sqlstate(out.result.failure) == kPgUniqueViolation) {
    // Another writer got a row in first: our cached versions or command ids are stale.
    // Checked again against the database, the append that lost gets its conflict and the
    // rest of the batch still commits.
    versions_.clear();
    out = try_batch(batch);
  }
  if (out.unknown_commit) settle_unknown_commit(out);
  auto& result = out.result;
  if (!result.failure.is_ok()) {
    versions_.clear();
    return std::move(result);
  }
  result.wrote = result.events_written > 0 ||
                 std::any_of(result.outcomes.begin(), result.outcomes.end(), [](const auto& o) {
                   return o && o->is_ok() && !o->value().duplicate;
                 });
  if (result.wrote) {
    for (auto& [stream, version] : out.in_batch)
      versions_[stream] = {version, out.epochs.at(stream)};
    last_position_ = out.position;
  }
  return std::move(result);
}

void PgJournal::settle_unknown_commit(BatchOutcome& out) {
  const auto probe = std::move(*out.unknown_commit);
  out.unknown_commit.reset();
  const std::string lost = out.result.failure.message();
  const auto deadline = std::chrono::steady_clock::now() + options_.unknown_commit_wait;
  Status last_error;
  for (;;) {
    // The old backend still running means its COMMIT is still going (waiting for the
    // synchronous standby, say): its outcome is not decided yet. Once it is gone, its last
    // event at its position, the same bytes, means it committed; another writer would have
    // taken that position with other bytes.
    auto rows = readers_.read(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1), "
        "(SELECT stream FROM gh_events WHERE position = $2), "
        "(SELECT version FROM gh_events WHERE position = $2), "
        "(SELECT envelope FROM gh_events WHERE position = $2)",
        PgParams().number(uint64_t(probe.backend_pid)).number(probe.position),
        "settling a batch whose COMMIT went unanswered");
    if (rows && rows->text(0, 0) != "t") {
      const bool committed = !rows->is_null(0, 1) && rows->text(0, 1) == probe.stream &&
                             rows->number(0, 2) == probe.version &&
                             rows->bytes(0, 3) == probe.envelope;
      out.result.failure =
          committed ? Status::ok()
                    : unavailable(lost + " (the batch was not committed: checked afterwards)");
      return;
    }
    if (!rows) last_error = rows.status();
    if (std::chrono::steady_clock::now() >= deadline) {
      out.result.failure = unavailable(
          lost + " (the outcome of this batch is unknown: " +
          (last_error.is_ok() ? "its transaction was still running"
                              : "the database could not be read: " + last_error.message()) +
          "; read the stream before retrying)");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::vector<Envelope>> PgJournal::read_stream(const std::string& stream,
                                                     uint64_t from_version, size_t max) const {
  const uint64_t limit = std::min<uint64_t>(max, uint64_t(INT64_MAX));
  auto rows = readers_.read(
      "SELECT version, envelope FROM gh_events WHERE stream = $1 AND version >= $2 "
      "ORDER BY version LIMIT $3",
      PgParams().text(stream).number(from_version).number(limit), "reading " + stream);
  if (!rows) return rows.status();
  std::vector<Envelope> out;
  out.reserve(rows->size());
  uint64_t expected = from_version == 0 ? 1 : from_version;
  for (int r = 0; r < rows->size(); ++r) {
    const uint64_t version = rows->number(r, 0);
    auto envelope = journal_support::decode_stored(stream, version, rows->bytes(r, 1));
    if (!envelope) return envelope.status();
    if (version != expected) {
      if (r == 0 && from_version == 0)
        return data_loss(describe(stream, 1) + ": missing (stream starts at version " +
                         std::to_string(version) + ")");
      return data_loss(describe(stream, expected) + ": missing (next stored is version " +
                       std::to_string(version) + ")");
    }
    expected = version + 1;
    out.push_back(std::move(*envelope));
  }
  return out;
}

Status PgJournal::read_by_position(uint64_t from_position, const std::string& condition,
                                   const std::function<bool(const Envelope&)>& visit) const {
  uint64_t previous = 0;
  uint64_t next = from_position;
  for (;;) {
    // A connection per chunk, given back before visiting: the visitor may read too.
    std::optional<PgRows> rows;
    {
      auto chunk = readers_.read(
          "SELECT stream, version, position, envelope FROM gh_events WHERE position >= $1" +
              condition + " ORDER BY position LIMIT " + std::to_string(kReadChunk),
          PgParams().number(next), "reading the log by position");
      if (!chunk) return chunk.status();
      rows = std::move(*chunk);
    }
    if (rows->size() == 0) return Status::ok();
    for (int r = 0; r < rows->size(); ++r) {
      const std::string stream(rows->text(r, 0));
      const uint64_t version = rows->number(r, 1);
      const uint64_t position = rows->number(r, 2);
      auto envelope = journal_support::decode_stored(stream, version, rows->bytes(r, 3));
      if (!envelope) return envelope.status();
      if (envelope->position() != position || position <= previous)
        return data_loss(describe(stream, version) + ": position " +
                         std::to_string(envelope->position()) + " stored under " +
                         std::to_string(position));
      previous = position;
      if (!visit(*envelope)) return Status::ok();
    }
    next = previous + 1;
  }
}

Status PgJournal::read_all(uint64_t from_position,
                           const std::function<bool(const Envelope&)>& visit) const {
  return read_by_position(from_position, "", visit);
}

Result<uint64_t> PgJournal::read_all_with_prefix(
    uint64_t from_position, const std::string& prefix,
    const std::function<bool(const Envelope&)>& visit) const {
  if (!is_stream_prefix(prefix))
    return invalid_argument("not the start of a stream name: '" + prefix + "'");
  // Every position up to the committed head is committed (writers commit in position order,
  // behind the head row's lock), so the read is complete up to it even where nothing matched.
  auto head = readers_.read("SELECT position FROM gh_journal_head", PgParams(), "reading the head");
  if (!head) return head.status();
  if (head->size() != 1) return data_loss("PostgreSQL: gh_journal_head has no row");
  const uint64_t up_to = head->number(0, 0);
  // The pattern is written into the statement, not passed as a parameter, so that the
  // planner can prove the partial index on "system/" streams applies (pg_schema.cpp).
  // Stream names are [A-Za-z0-9/._-]: only '_' needs escaping in a LIKE pattern.
  std::string pattern;
  for (const char c : prefix) pattern += c == '_' ? std::string("\\_") : std::string(1, c);
  auto status = read_by_position(
      from_position,
      " AND position <= " + std::to_string(up_to) + " AND stream LIKE '" + pattern + "%'", visit);
  if (!status.is_ok()) return status;
  return std::max(up_to, from_position == 0 ? uint64_t(0) : from_position - 1);
}

Result<uint64_t> PgJournal::stream_version(const std::string& stream) const {
  auto rows = readers_.read("SELECT max(version) FROM gh_events WHERE stream = $1",
                            PgParams().text(stream), "reading " + stream);
  if (!rows) return rows.status();
  return rows->number(0, 0);
}

Status PgJournal::list_streams(
    const std::string& prefix,
    const std::function<bool(const std::string&, uint64_t)>& visit) const {
  // Stream names are [A-Za-z0-9/._-]: the first name past every name starting with `prefix`
  // is the prefix with its last character raised by one.
  std::string end = prefix;
  if (!end.empty()) end.back() = char(end.back() + 1);
  // A loose index scan: jump from one stream to the next through the primary key rather than
  // reading every event.
  std::string after;
  bool first = true;
  for (;;) {
    std::vector<std::pair<std::string, uint64_t>> page;
    {
      PgParams params;
      params.text(first ? prefix : after);
      std::string bound = end.empty() ? "" : " AND s.stream < $2";
      if (!end.empty()) params.text(end);
      auto rows = readers_.read(
          "WITH RECURSIVE s(stream) AS ("
          " (SELECT stream FROM gh_events WHERE stream " +
              std::string(first ? ">=" : ">") +
              " $1 ORDER BY stream LIMIT 1)"
              " UNION ALL"
              " SELECT (SELECT e.stream FROM gh_events e WHERE e.stream > s.stream"
              " ORDER BY e.stream LIMIT 1) FROM s WHERE s.stream IS NOT NULL" +
              bound +
              ") SELECT s.stream, (SELECT max(version) FROM gh_events e WHERE e.stream = "
              "s.stream) FROM s WHERE s.stream IS NOT NULL" +
              bound + " LIMIT " + std::to_string(kReadChunk),
          params, "listing streams");
      if (!rows) return rows.status();
      for (int r = 0; r < rows->size(); ++r)
        page.emplace_back(std::string(rows->text(r, 0)), rows->number(r, 1));
    }
    for (const auto& [stream, version] : page)
      if (!visit(stream, version)) return Status::ok();
    if (page.size() < kReadChunk) return Status::ok();
    after = page.back().first;
    first = false;
  }
}

Result<std::string> PgJournal::read_blob(const std::string& key) const {
  auto rows = readers_.read("SELECT bytes FROM gh_blobs WHERE key = $1", PgParams().bytes(key),
                            "reading blob " + key);
  if (!rows) return rows.status();
  if (rows->size() == 0) return not_found("no blob " + key);
  return rows->bytes(0, 0);
}

Result<AppendResult> PgJournal::find_command(const std::string& stream,
                                             const std::string& command_id) const {
  auto rows = readers_.read(
      "SELECT first_version, last_version, last_position FROM gh_commands "
      "WHERE stream = $1 AND command_id = $2",
      PgParams().text(stream).bytes(command_id), "reading command " + command_id);
  if (!rows) return rows.status();
  if (rows->size() == 0) return not_found("command " + command_id + " not seen on " + stream);
  return command_record(*rows, 0, 0);
}

}  // namespace gh
