#include "events/pg_connection.h"

namespace gh {
namespace {

// PostgreSQL's error classes, mapped to what a caller can do about them: retry later
// (connection lost, server shutting down, out of disk, serialization failure), someone
// else won (unique violation), the stored data is damaged, or a bug of ours.
Code code_of(std::string_view sqlstate) {
  if (sqlstate == kPgUniqueViolation) return Code::kConflict;
  if (sqlstate == "XX001" || sqlstate == "XX002") return Code::kDataLoss;  // data/index corrupted
  const auto cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58")
    return Code::kUnavailable;
  if (cls == "22") return Code::kInvalidArgument;
  return Code::kInternal;
}

std::string trimmed(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

PgParams& PgParams::text(std::string value) {
  values_.push_back(std::move(value));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::bytes(std::string value) {
  values_.push_back(std::move(value));
  formats_.push_back(1);
  return *this;
}

std::string_view PgRows::text(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<size_t>(PQgetlength(result_.get(), row, column))};
}

uint64_t PgRows::number(int row, int column) const {
  if (is_null(row, column)) return 0;
  return std::strtoull(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

std::string PgRows::bytes(int row, int column) const {
  size_t length = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &length);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return unavailable("PostgreSQL: out of memory opening a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    auto error = unavailable("PostgreSQL: cannot connect: " + trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return error;
  }
  // Notices (such as "relation already exists, skipping") are not errors; keep stderr quiet.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::ensure_connected() {
  if (PQstatus(conn_) == CONNECTION_OK) return true;
  PQreset(conn_);
  return PQstatus(conn_) == CONNECTION_OK;
}

Status PgConnection::failure(PGresult* result, std::string_view what) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = result ? trimmed(PQresultErrorMessage(result)) : "";
  if (message.empty()) message = trimmed(PQerrorMessage(conn_));
  // No SQLSTATE means libpq itself failed: the connection is gone, the outcome unknown.
  const std::string sqlstate = state ? state : std::string(kPgConnectionLost);
  return Status(code_of(sqlstate), "PostgreSQL, " + std::string(what) + ": " + message +
                                       " [SQLSTATE " + sqlstate + "]");
}

Result<PgRows> PgConnection::exec(const std::string& sql, const PgParams& params,
                                  std::string_view what) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.size());
  lengths.reserve(params.size());
  for (const auto& value : params.values_) {
    values.push_back(value.data());
    lengths.push_back(static_cast<int>(value.size()));
  }
  PGresult* result =
      PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                   lengths.data(), params.formats_.data(), /*resultFormat=*/0);
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    auto error = failure(result, what);
    PQclear(result);
    return error;
  }
  return PgRows(result);
}

Result<PgRows> PgConnection::query(const std::string& sql, std::string_view what) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    auto error = failure(result, what);
    PQclear(result);
    return error;
  }
  return PgRows(result);
}

Status PgConnection::exec(const std::string& sql, std::string_view what) {
  PGresult* result = PQexec(conn_, sql.c_str());
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  Status out;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) out = failure(result, what);
  PQclear(result);
  return out;
}

Result<PgPool::Lease> PgPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (connection->ensure_connected()) return Lease(this, std::move(connection));
    }
  }
  auto opened = PgConnection::open(conninfo_);
  if (!opened) return opened.status();
  return Lease(this, std::move(*opened));
}

Result<PgRows> PgPool::read(const std::string& sql, const PgParams& params, std::string_view what) {
  for (int attempt = 0;; ++attempt) {
    auto lease = acquire();
    if (!lease) return lease.status();
    auto rows = (*lease)->exec(sql, params, what);
    if (rows || attempt > 0 || (*lease)->connected()) return rows;
  }
}

void PgPool::give_back(std::unique_ptr<PgConnection> connection) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_ && connection->connected()) idle_.push_back(std::move(connection));
}

std::string_view pg_sqlstate(const Status& status) {
  const std::string_view message = status.message();
  const auto at = message.rfind("[SQLSTATE ");
  if (at == std::string_view::npos || message.size() < at + 16) return {};
  return message.substr(at + 10, 5);
}

}  // namespace gh
