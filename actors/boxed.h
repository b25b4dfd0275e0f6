// Boxed<T>: an optional T kept on the heap, with value semantics (copies copy the T).
// For fields of entity state that are usually empty: an empty Boxed costs 8 bytes where a
// std::optional costs sizeof(T) -- 100k live devices each carrying an inline optional
// command record and stranger paid about 25 MB for nothing. Supports the subset of
// std::optional that models use: test, *, ->, assignment of a T, reset().
// Thread-compatible.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace gh {

template <class T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}  // NOLINT: implicit, as std::optional
  Boxed(T value) : ptr_(std::make_unique<T>(std::move(value))) {}  // NOLINT
  Boxed(const Boxed& other) : ptr_(other.ptr_ ? std::make_unique<T>(*other.ptr_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) ptr_ = other.ptr_ ? std::make_unique<T>(*other.ptr_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(T value) {
    ptr_ = std::make_unique<T>(std::move(value));
    return *this;
  }
  Boxed& operator=(std::nullopt_t) {
    ptr_.reset();
    return *this;
  }

  bool has_value() const { return ptr_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *ptr_; }
  const T& operator*() const { return *ptr_; }
  T* operator->() { return ptr_.get(); }
  const T* operator->() const { return ptr_.get(); }
  void reset() { ptr_.reset(); }

 private:
  std::unique_ptr<T> ptr_;
};

}  // namespace gh
