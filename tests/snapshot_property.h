// The one property every entity's snapshot codec must have, checked the same way for
// devices, rooms and users over a history their model test generated: for every cut, the
// snapshot of the head (encoded, decoded) plus the tail replays to the state of the full
// history, which is the state the model reached live; and every event survives encoding.
#pragma once

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <vector>

#include "events/event.pb.h"
#include "snapshots/snapshot.pb.h"

namespace gh::property {

// An entity's pure parts, bound to one entity (its name, window) and one snapshot time.
template <class State>
struct SnapshotCodec {
  std::function<State(const std::vector<events::Envelope>&)> replay;
  std::function<snapshots::Snapshot(const State&)> to_snapshot;
  std::function<std::optional<State>(const snapshots::Snapshot&)> from_snapshot;
  std::function<void(State&, const events::Envelope&)> apply;
};

// Checks the property at every `step`-th cut of `history`; `live` is the state the model
// reached while generating it.
template <class State>
void expect_snapshot_plus_tail_equals_replay(const SnapshotCodec<State>& codec,
                                             const std::vector<events::Envelope>& history,
                                             const State& live, size_t step) {
  for (const auto& e : history) {
    events::Envelope decoded;
    ASSERT_TRUE(decoded.ParseFromString(e.SerializeAsString()));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded, e))
        << e.ShortDebugString();
  }
  const State full = codec.replay(history);
  const std::string expected = codec.to_snapshot(full).SerializeAsString();
  EXPECT_EQ(codec.to_snapshot(live).SerializeAsString(), expected) << "replay == live";
  for (size_t cut = 0; cut <= history.size(); cut += step) {
    std::vector<events::Envelope> head(history.begin(), history.begin() + long(cut));
    snapshots::Snapshot decoded;
    ASSERT_TRUE(decoded.ParseFromString(codec.to_snapshot(codec.replay(head)).SerializeAsString()));
    auto restored = codec.from_snapshot(decoded);
    ASSERT_TRUE(restored) << "cut " << cut;
    for (size_t i = cut; i < history.size(); ++i) codec.apply(*restored, history[i]);
    EXPECT_EQ(codec.to_snapshot(*restored).SerializeAsString(), expected) << "cut " << cut;
  }
}

}  // namespace gh::property
