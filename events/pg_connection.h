// One libpq connection to PostgreSQL and the few things gatehouse does with it: run a
// statement with parameters, read its rows, map failures to gh::Status.
//
// Parameters are sent as text, except those marked binary (bytea values such as encoded
// envelopes), which go as raw bytes without escaping. Rows come back in text format;
// bytea columns are decoded with bytes().
//
// Thread-safety: a PgConnection is used by one thread at a time (libpq's own rule).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "events/status.h"

namespace gh {

// A statement's parameters, in $1, $2, ... order.
class PgParams {
 public:
  PgParams& text(std::string value);
  PgParams& number(uint64_t value) { return text(std::to_string(value)); }
  PgParams& bytes(std::string value);  // sent in binary: bytea
  size_t size() const { return values_.size(); }

 private:
  friend class PgConnection;
  std::vector<std::string> values_;
  std::vector<int> formats_;
};

// The rows of a successful statement.
class PgRows {
 public:
  explicit PgRows(PGresult* result) : result_(result, PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column); }
  std::string_view text(int row, int column) const;
  uint64_t number(int row, int column) const;    // 0 for NULL or a non-number
  std::string bytes(int row, int column) const;  // a bytea column, unescaped

 private:
  std::shared_ptr<PGresult> result_;
};

class PgConnection {
 public:
  // Connects with a libpq connection string ("host=127.0.0.1 port=5432 dbname=gatehouse").
  // kUnavailable when the server cannot be reached or refuses the login.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement. `what` names it in errors ("appending a batch of 64 events").
  Result<PgRows> exec(const std::string& sql, const PgParams& params, std::string_view what);
  // Runs one or more statements without parameters (schema, BEGIN, COMMIT).
  Status exec(const std::string& sql, std::string_view what);
  // Runs one or more statements without parameters; the rows of the last one.
  Result<PgRows> query(const std::string& sql, std::string_view what);

  // Whether the connection still works; if not, tries once to connect again.
  bool ensure_connected();
  // Whether libpq still believes the connection works (it learns otherwise on use).
  bool connected() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The process id of this connection's backend on the server (pg_stat_activity.pid).
  int backend_pid() const { return PQbackendPID(conn_); }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  Status failure(PGresult* result, std::string_view what) const;

  PGconn* conn_;
};

// Connections for readers. The journal's read methods may be called from any thread, and
// from inside a read_all() visitor, so each call borrows a connection of its own and gives
// it back; at most `max_idle` wait between calls.
class PgPool {
 public:
  explicit PgPool(std::string conninfo, size_t max_idle = 4)
      : conninfo_(std::move(conninfo)), max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (connection_) pool_->give_back(std::move(connection_));
    }
    PgConnection* operator->() { return connection_.get(); }
    PgConnection& operator*() { return *connection_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  // An idle connection, or a new one; kUnavailable when none can be opened.
  Result<Lease> acquire();

  // Runs one read-only statement on a borrowed connection. An idle connection can have died
  // unnoticed (a server restart, a failover): then the statement runs once more on a new
  // one, which is safe for a read.
  Result<PgRows> read(const std::string& sql, const PgParams& params, std::string_view what);

 private:
  void give_back(std::unique_ptr<PgConnection> connection);

  const std::string conninfo_;
  const size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
};

// SQLSTATE 08000, what PgConnection reports when libpq itself failed (no answer from the
// server): the connection is gone, and the outcome of what was sent is unknown.
inline constexpr std::string_view kPgConnectionLost = "08000";
// SQLSTATE 23505, a unique or primary key violation: someone else wrote that row.
inline constexpr std::string_view kPgUniqueViolation = "23505";

// The SQLSTATE of the last failure reported by PgConnection in `status` (empty if none):
// Status messages end with " [SQLSTATE xxxxx]".
std::string_view pg_sqlstate(const Status& status);

}  // namespace gh
