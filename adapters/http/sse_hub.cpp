#include "adapters/http/sse_hub.h"

#include "adapters/codec/json_reply.h"

namespace gh::http {

std::string sse_frame(std::string_view event, const nlohmann::json& data) {
  // to_wire() escapes every control character, so the data is one line, as SSE needs.
  std::string frame = "event: ";
  frame += event;
  frame += "\ndata: ";
  frame += codec::to_wire(data);
  frame += "\n\n";
  return frame;
}

SseStream::SseStream(SseHub& hub, std::string key, std::string user)
    : hub_(hub), key_(std::move(key)), user_(std::move(user)) {}

SseStream::~SseStream() { hub_.remove(this); }

SseStream::Next SseStream::next(std::string& out, std::chrono::milliseconds wait) {
  out.clear();
  std::unique_lock lock(hub_.mutex_);
  changed_.wait_for(lock, wait, [this] { return !queued_.empty() || !end_reason_.empty(); });
  out.swap(queued_);
  if (end_reason_.empty()) return out.empty() ? Next::kIdle : Next::kFrames;
  if (!end_sent_) {
    end_sent_ = true;
    out += sse_frame("end", {{"reason", end_reason_}});
  }
  return Next::kEnded;
}

void SseStream::end(std::string_view reason) {
  std::lock_guard lock(hub_.mutex_);
  SseHub::end_locked(*this, reason, /*flush=*/true);
}

SseHub::SseHub(size_t max_streams, size_t max_buffered_bytes, std::string what, size_t max_per_user)
    : max_streams_(max_streams),
      max_buffered_bytes_(max_buffered_bytes),
      what_(std::move(what)),
      max_per_user_(max_per_user) {}

SseHub::~SseHub() { stop(); }

Result<std::shared_ptr<SseStream>> SseHub::subscribe(const std::string& key,
                                                     const std::string& user, std::string initial) {
  std::lock_guard lock(mutex_);
  if (stopped_) return unavailable("the server is stopping");
  if (open_ >= max_streams_) {
    return unavailable("all " + std::to_string(max_streams_) + " " + what_ +
                       " are in use; retry later");
  }
  if (max_per_user_ > 0 && !user.empty()) {
    auto mine = per_user_.find(user);
    if (mine != per_user_.end() && mine->second >= max_per_user_) {
      return failed_precondition(user + " already holds " + std::to_string(max_per_user_) + " " +
                                 what_ + "; close one first");
    }
  }
  // The constructor is private: make_shared cannot reach it.
  std::shared_ptr<SseStream> stream(new SseStream(*this, key, user));
  stream->queued_ = std::move(initial);
  keys_[key].insert(stream.get());
  if (!user.empty()) ++per_user_[user];
  ++open_;
  return stream;
}

void SseHub::publish(std::string_view key, const FrameFn& frame, std::string_view ending_user,
                     std::string_view end_reason) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  // Formatted once for every stream of the key, and only when some stream wants it.
  const std::string text = frame();
  for (SseStream* stream : it->second) {
    if (!stream->end_reason_.empty()) continue;
    if (stream->queued_.size() + text.size() > max_buffered_bytes_) {
      // The client reads slower than the producer writes: end its stream (it reconnects
      // and reloads) rather than buffer without bound or block the producer.
      end_locked(*stream, "too_slow", /*flush=*/false);
      continue;
    }
    stream->queued_ += text;
    stream->changed_.notify_one();
    if (!ending_user.empty() && stream->user_ == ending_user) {
      end_locked(*stream, end_reason, /*flush=*/true);
    }
  }
}

void SseHub::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  for (auto& [key, streams] : keys_) {
    // Not flushed: a slow client must not hold up the server's stop for a write timeout.
    for (SseStream* stream : streams) end_locked(*stream, "stopping", /*flush=*/false);
  }
}

bool SseHub::wait_closed(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return closed_.wait_for(lock, limit, [this] { return open_ == 0; });
}

size_t SseHub::open_streams() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void SseHub::remove(SseStream* stream) {
  std::lock_guard lock(mutex_);
  auto it = keys_.find(stream->key_);
  if (it == keys_.end() || it->second.erase(stream) == 0) return;
  if (it->second.empty()) keys_.erase(it);
  if (!stream->user_.empty()) {
    auto mine = per_user_.find(stream->user_);
    if (mine != per_user_.end() && --mine->second == 0) per_user_.erase(mine);
  }
  if (--open_ == 0) closed_.notify_all();
}

void SseHub::end_locked(SseStream& stream, std::string_view reason, bool flush) {
  if (!stream.end_reason_.empty()) return;
  stream.end_reason_ = reason;
  if (!flush) stream.queued_.clear();
  stream.changed_.notify_one();
}

}  // namespace gh::http
