#include "actors/room/room_snapshot.h"

#include <algorithm>

namespace gh::room {
namespace {

void write_message(const Message& in, snapshots::ChatMessage* out) {
  out->set_id(in.id);
  out->set_author(in.author);
  out->set_text(in.text);
  out->set_posted_at_ms(in.posted_at_ms);
  out->set_client_msg_id(in.client_msg_id);
  for (const auto& user : in.likes) out->add_likes(user);
  out->set_anonymous_likes(in.anonymous_likes);
  out->set_deleted(in.deleted);
}

Message read_message(const snapshots::ChatMessage& in) {
  Message out;
  out.id = in.id();
  out.author = in.author();
  out.text = in.text();
  out.posted_at_ms = in.posted_at_ms();
  out.client_msg_id = in.client_msg_id();
  out.likes.insert(in.likes().begin(), in.likes().end());
  out.anonymous_likes = in.anonymous_likes();
  out.deleted = in.deleted();
  return out;
}

}  // namespace

snapshots::Snapshot to_snapshot(const State& state, int64_t now_ms) {
  snapshots::Snapshot snapshot;
  snapshot.set_stream(room_stream(state.name));
  snapshot.set_version(state.version);
  snapshot.set_taken_at_unix_ms(now_ms);
  auto* r = snapshot.mutable_room();
  r->set_name(state.name);
  r->set_created(state.created);
  r->set_creator(state.creator);
  r->set_created_at_ms(state.created_at_ms);
  for (const auto& member : state.members) r->add_members(member);
  for (const auto& message : state.messages) write_message(message, r->add_messages());
  r->set_next_message_id(state.next_message_id);
  for (const auto& user : state.anonymised) r->add_anonymised(user);
  r->set_version(state.version);
  r->set_updated_at_ms(state.updated_at_ms);
  return snapshot;
}

std::optional<State> from_snapshot(const snapshots::Snapshot& snapshot, size_t max_messages) {
  if (!snapshot.has_room()) return std::nullopt;
  const auto& r = snapshot.room();
  if (r.version() != snapshot.version() || room_stream(r.name()) != snapshot.stream())
    return std::nullopt;
  State state;
  state.name = r.name();
  state.max_messages = max_messages;
  state.created = r.created();
  state.creator = r.creator();
  state.created_at_ms = r.created_at_ms();
  state.members.insert(r.members().begin(), r.members().end());
  state.next_message_id = r.next_message_id();
  // find() relies on increasing ids and decide() on fresh ones: a snapshot breaking either
  // is not trusted, the stream is replayed instead.
  uint64_t previous = 0;
  for (const auto& m : r.messages()) {
    if (m.id() <= previous || m.id() >= state.next_message_id) return std::nullopt;
    previous = m.id();
  }
  const size_t keep = std::max<size_t>(1, max_messages);
  const int skip =
      r.messages_size() > static_cast<int>(keep) ? r.messages_size() - static_cast<int>(keep) : 0;
  for (int i = skip; i < r.messages_size(); ++i)
    state.messages.push_back(read_message(r.messages(i)));
  state.anonymised.insert(r.anonymised().begin(), r.anonymised().end());
  state.version = r.version();
  state.updated_at_ms = r.updated_at_ms();
  return state;
}

}  // namespace gh::room
