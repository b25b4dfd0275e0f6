// Status and Result<T>: how every fallible function in gatehouse reports failure.
// Our code does not throw; adapters map Code to their wire in one table each.
// Value types; thread-compatible.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gh {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // malformed or out-of-range input; retrying will not help
  kNotFound,            // the entity or record does not exist
  kAlreadyExists,       // create of something that exists
  kFailedPrecondition,  // the state does not allow it (e.g. device not registered)
  kConflict,            // optimistic concurrency: expected version was stale
  kUnavailable,         // transient: broker down, journal shutting down, queue full
  kDataLoss,            // corruption: checksum, decode failure, sequence gap
  kInternal,            // a bug or an unexpected library failure
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // credentials fine, not allowed
  kTooLarge,            // input exceeds a configured limit
  kTimeout,             // waited longer than allowed
  kLeaseLost,           // cluster mode: this node no longer holds the entity's shard lease
};

// Stable lowercase name used in JSON errors and logs ("invalid_argument").
std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "data_loss: device/d1 version 7: protobuf decode failed"
  std::string to_string() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status already_exists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status failed_precondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status data_loss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status permission_denied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status too_large(std::string m) { return {Code::kTooLarge, std::move(m)}; }
inline Status timed_out(std::string m) { return {Code::kTimeout, std::move(m)}; }
inline Status lease_lost(std::string m) { return {Code::kLeaseLost, std::move(m)}; }

// A value or a non-ok Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(value_).is_ok());
  }

  bool is_ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(value_);
  }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace gh

// Returns early from the enclosing function when `expr` is a non-ok Status.
#define GH_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::gh::Status gh_status_ = (expr);           \
    if (!gh_status_.is_ok()) return gh_status_; \
  } while (false)
