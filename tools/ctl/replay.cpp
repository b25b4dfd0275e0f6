#include "tools/ctl/replay.h"

#include "actors/device/device_model.h"
#include "actors/device/device_snapshot.h"
#include "actors/room/room_snapshot.h"
#include "actors/user/user_model.h"
#include "actors/user/user_snapshot.h"

namespace gh::ctl {
namespace {

constexpr size_t kPage = 1000;

}  // namespace

ModelKind model_kind(std::string_view stream) {
  if (stream.starts_with("device/")) return ModelKind::kDevice;
  if (stream.starts_with("user/")) return ModelKind::kUser;
  if (stream.starts_with("room/")) return ModelKind::kRoom;
  return ModelKind::kNone;
}

std::string_view entity_id(std::string_view stream) {
  auto slash = stream.find('/');
  return slash == std::string_view::npos ? stream : stream.substr(slash + 1);
}

Status for_each_event(const Journal& journal, const std::string& stream, uint64_t from,
                      const std::function<bool(const Envelope&)>& visit) {
  for (uint64_t next = std::max<uint64_t>(from, 1);;) {
    auto page = journal.read_stream(stream, next, kPage);
    if (!page) {
      // Show what precedes the damage: the events before it one at a time.
      for (;; ++next) {
        auto one = journal.read_stream(stream, next, 1);
        if (!one) return one.status();
        if (one->empty()) return page.status();
        if (!visit(one->front())) return Status::ok();
      }
    }
    for (const auto& e : *page)
      if (!visit(e)) return Status::ok();
    if (page->size() < kPage) return Status::ok();
    next = page->back().version() + 1;
  }
}

Result<ReplayedSnapshot> replay_snapshot(const Journal& journal, const std::string& stream,
                                         int64_t now_ms, uint64_t up_to, size_t max_messages) {
  ReplayedSnapshot out;
  auto walk = [&](auto state, auto&& apply, auto&& to_snapshot) -> Status {
    auto status = for_each_event(journal, stream, 1, [&](const Envelope& e) {
      if (e.version() > up_to) return false;
      apply(state, e);
      out.last_version = e.version();
      return true;
    });
    if (!status.is_ok()) return status;
    if (out.last_version == 0) return not_found(stream + " has no events");
    out.snapshot = to_snapshot(state, now_ms);
    return Status::ok();
  };
  const auto id = entity_id(stream);
  Status status = Status::ok();
  switch (model_kind(stream)) {
    case ModelKind::kDevice:
      status = walk(device::replay(id, {}), device::apply,
                    [](const device::State& s, int64_t t) { return device::to_snapshot(s, t); });
      break;
    case ModelKind::kUser:
      status = walk(user::replay(id, {}), user::apply,
                    [](const user::State& s, int64_t t) { return user::to_snapshot(s, t); });
      break;
    case ModelKind::kRoom:
      status = walk(room::replay(id, {}, max_messages), room::apply,
                    [](const room::State& s, int64_t t) { return room::to_snapshot(s, t); });
      break;
    case ModelKind::kNone:
      return failed_precondition("no snapshot model for " + stream);
  }
  if (!status.is_ok()) return status;
  return out;
}

}  // namespace gh::ctl
