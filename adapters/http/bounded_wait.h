// Waiting for a DeviceService or ChatService callback from an HTTP worker thread, with an
// upper bound. device_service.h's wait_for() waits forever; an HTTP request must not (a stuck
// actor would otherwise hold a worker thread for good). Blocks: never call from an actor thread.
// Thread-safety: the callback may run on any thread, before or after the wait gave up.
#pragma once

#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "events/status.h"

namespace gh::http {

// Calls `start(callback)` and waits up to `limit` for the callback. kTimeout when it has
// not been called by then (the operation may still complete later); kInternal when the
// service dropped the callback without calling it. `service` names it in those messages.
template <class T, class Start>
Result<T> wait_bounded(std::chrono::milliseconds limit, std::string_view service, Start&& start) {
  // Owned by the callback alone: a late answer after a timeout lands in a live promise, and
  // a callback dropped unanswered breaks the promise, which ends the wait at once.
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start(
      [promise = std::move(promise)](Result<T> result) { promise->set_value(std::move(result)); });
  if (future.wait_for(limit) != std::future_status::ready) {
    return timed_out("no answer from the " + std::string(service) + " within " +
                     std::to_string(limit.count()) + " ms");
  }
  try {
    return future.get();
  } catch (const std::exception& e) {  // broken_promise: the callback was dropped
    return internal_error(std::string(service) + " dropped the request: " + e.what());
  }
}

// The same for the device service.
template <class T, class Start>
Result<T> wait_bounded(std::chrono::milliseconds limit, Start&& start) {
  return wait_bounded<T>(limit, "device service", std::forward<Start>(start));
}

}  // namespace gh::http
