// answer_once(): the guard that makes every call to an entity actor get exactly one answer.
// A call the actors never answer -- routed after the directory shut down, or sent to an
// actor that ended before it read it -- is dropped by CAF, which destroys its callback; the
// guard then answers kUnavailable. A second answer is ignored.
// Thread-safety: the returned callback may be called (and destroyed) from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

#include "events/status.h"

namespace gh {

template <class Arg>
std::function<void(Arg)> answer_once(std::function<void(Arg)> done) {
  struct Guard {
    std::function<void(Arg)> done;
    std::atomic<bool> answered{false};
    ~Guard() {
      if (!answered.load() && done) done(unavailable("gatehouse is shutting down; retry"));
    }
  };
  auto guard = std::make_shared<Guard>();
  guard->done = std::move(done);
  return [guard](Arg result) {
    if (!guard->answered.exchange(true)) guard->done(std::move(result));
  };
}

}  // namespace gh
