// The Server-Sent Events fan-out shared by every live route (a room's updates, the devices'
// updates): streams subscribe under a key (a room name; "" for the devices), producers
// publish frames to a key, and an HTTP worker thread serves each stream with next().
//
// Bounds, because every stream holds a worker thread and memory:
// - at most `max_streams` streams at once; subscribe() beyond is kUnavailable;
// - at most `max_per_user` of them for one user (or token): one caller cannot take every
//   stream; subscribe() beyond is kFailedPrecondition (the routes answer 429);
// - at most `max_buffered_bytes` queued per stream: a client that reads too slowly is
//   dropped (its stream ends with reason "too_slow") instead of growing the queue or
//   blocking the producer;
// - stop() ends every stream at once (reason "stopping") and refuses new ones, so the HTTP
//   server's stop() never waits for a heartbeat.
//
// Thread-safety: every method may be called from any thread. publish() only takes a short
// lock and never blocks on a client. An SseStream must not outlive its hub.
// No httplib here (sse_response.h serves a stream over HTTP).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::http {

// A frame without an id: "event: <name>\ndata: <data as one line of JSON>\n\n".
std::string sse_frame(std::string_view event, const nlohmann::json& data);

class SseHub;

// One open stream: the frames queued for it and why it ended. Created by
// SseHub::subscribe(); unsubscribes when destroyed.
class SseStream {
 public:
  enum class Next {
    kFrames,  // `out` holds frames to write
    kIdle,    // nothing within the wait: time for a heartbeat
    kEnded,   // the stream is over: `out` holds the final frames to write, if any
  };

  ~SseStream();
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  // Waits up to `wait` for frames. kFrames: every frame queued so far, moved into `out`.
  // kEnded (first the frames queued before the end, then an "end" frame naming the reason,
  // once) after stop(), a drop for slowness, end(), or a publish() that ended it.
  Next next(std::string& out, std::chrono::milliseconds wait);
  // Ends the stream with `reason` ("session_ended") after the frames queued so far.
  void end(std::string_view reason);

  const std::string& key() const { return key_; }
  const std::string& user() const { return user_; }

 private:
  friend class SseHub;
  SseStream(SseHub& hub, std::string key, std::string user);

  SseHub& hub_;
  const std::string key_;
  const std::string user_;
  // Guarded by hub_.mutex_.
  std::string queued_;
  std::string end_reason_;  // non-empty: ended
  bool end_sent_ = false;
  std::condition_variable changed_;
};

class SseHub {
 public:
  // `what` names the streams in the refusal ("event streams", "device event streams").
  // `max_per_user` 0: no limit per user.
  SseHub(size_t max_streams, size_t max_buffered_bytes, std::string what, size_t max_per_user = 0);
  ~SseHub();  // stop()
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  // A new stream under `key` for `user` (may be empty: not limited per user), whose first
  // frames are `initial`. kUnavailable when max_streams are open or the hub has stopped;
  // kFailedPrecondition when `user` holds max_per_user streams.
  Result<std::shared_ptr<SseStream>> subscribe(const std::string& key, const std::string& user,
                                               std::string initial);

  // Builds a frame; called at most once per publish(), under the hub's lock (keep it quick).
  using FrameFn = std::function<std::string()>;
  // Queues frame() for every open stream under `key`; frame() is not called when there is
  // none. The streams of `ending_user` (when not empty) end after this frame with
  // `end_reason`.
  void publish(std::string_view key, const FrameFn& frame, std::string_view ending_user = {},
               std::string_view end_reason = {});

  // Ends every stream and refuses new ones. Idempotent.
  void stop();
  // Waits up to `limit` until every stream has been closed (its final frame written or its
  // client gone); true when none is open.
  bool wait_closed(std::chrono::milliseconds limit);
  // Streams open now.
  size_t open_streams() const;

 private:
  friend class SseStream;
  void remove(SseStream* stream);
  // Ends `stream` with `reason` unless it has ended already; `flush`: the frames queued
  // before still go out (otherwise they are dropped). Needs mutex_.
  static void end_locked(SseStream& stream, std::string_view reason, bool flush);

  const size_t max_streams_;
  const size_t max_buffered_bytes_;
  const std::string what_;
  const size_t max_per_user_;
  mutable std::mutex mutex_;
  std::condition_variable closed_;  // open_ reached 0
  std::map<std::string, std::set<SseStream*>, std::less<>> keys_;
  size_t open_ = 0;
  std::map<std::string, size_t, std::less<>> per_user_;  // open streams of each user
  bool stopped_ = false;
};

}  // namespace gh::http
