#include "tools/ctl/verify.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <map>
#include <memory>

#include "actors/device/device_model.h"
#include "actors/device/device_snapshot.h"
#include "actors/room/room_snapshot.h"
#include "actors/user/user_snapshot.h"
#include "events/keys.h"
#include "tools/ctl/replay.h"

namespace gh::ctl {
namespace {

constexpr uint64_t kProgressEvery = 100000;

struct StreamProgress {
  uint64_t next_version = 1;
  uint64_t last_position = 0;
};

// Walks the events family in key order (stream, then version): decode, placement, gaps,
// and the index entry of each event.
void check_events(const Store& store, VerifyReport& report, std::ostream* progress) {
  auto* db = store.database->db();
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), store.database->events()));
  std::string current;
  StreamProgress stream;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    auto parsed = keys::parse_versioned(key);
    if (!parsed) {
      report.problems.push_back({"", 0, "malformed key in the events family"});
      continue;
    }
    if (parsed->stream != current) {
      current = std::string(parsed->stream);
      stream = StreamProgress{};
      ++report.streams;
    }
    ++report.events;
    if (progress && report.events % kProgressEvery == 0)
      *progress << "verify: " << report.events << " events checked\n" << std::flush;
    if (parsed->version > stream.next_version) {
      const uint64_t last_missing = parsed->version - 1;
      report.problems.push_back(
          {current, stream.next_version,
           last_missing == stream.next_version
               ? std::string("missing")
               : "missing, and so are the versions up to " + std::to_string(last_missing)});
    }
    stream.next_version = parsed->version + 1;

    Envelope envelope;
    auto value = it->value();
    if (!envelope.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      report.problems.push_back({current, parsed->version, "event does not decode"});
      continue;
    }
    if (envelope.stream() != current || envelope.version() != parsed->version) {
      report.problems.push_back({current, parsed->version,
                                 "stored envelope says " + envelope.stream() + " version " +
                                     std::to_string(envelope.version())});
      continue;
    }
    if (envelope.event_case() == Envelope::EVENT_NOT_SET)
      report.problems.push_back({current, parsed->version, "event of unknown type"});
    if (envelope.position() <= stream.last_position)
      report.problems.push_back({current, parsed->version,
                                 "position " + std::to_string(envelope.position()) +
                                     " not after the previous version's " +
                                     std::to_string(stream.last_position)});
    stream.last_position = envelope.position();
    std::string indexed;
    auto status = db->Get(rocksdb::ReadOptions(), store.database->positions(),
                          keys::be64(envelope.position()), &indexed);
    if (status.IsNotFound()) {
      report.problems.push_back(
          {current, parsed->version,
           "position " + std::to_string(envelope.position()) + " is not in the position index"});
    } else if (!status.ok()) {
      report.problems.push_back({current, parsed->version, status.ToString()});
    } else if (indexed != key) {
      auto other = keys::parse_versioned(indexed);
      report.problems.push_back(
          {current, parsed->version,
           "position " + std::to_string(envelope.position()) + " is indexed to " +
               (other ? std::string(other->stream) + " version " + std::to_string(other->version)
                      : std::string("a malformed key")) +
               " (position used twice?)"});
    }
  }
  if (!it->status().ok())
    report.problems.push_back(
        {current, 0, "reading the events family stopped: " + it->status().ToString()});
}

// Walks the position index: every entry must point at a stored event.
void check_positions(const Store& store, VerifyReport& report, std::ostream* progress) {
  auto* db = store.database->db();
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), store.database->positions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.positions;
    if (progress && report.positions % kProgressEvery == 0)
      *progress << "verify: " << report.positions << " positions checked\n" << std::flush;
    auto position = keys::read_be64(it->key().ToStringView());
    auto parsed = keys::parse_versioned(it->value().ToStringView());
    if (!position || it->key().size() != 8 || !parsed) {
      report.problems.push_back({"", 0, "malformed entry in the position index"});
      continue;
    }
    std::string value;
    auto status = db->Get(rocksdb::ReadOptions(), store.database->events(), it->value(), &value);
    if (status.IsNotFound())
      report.problems.push_back(
          {std::string(parsed->stream), parsed->version,
           "indexed at position " + std::to_string(*position) + " but missing"});
    else if (!status.ok())  // e.g. a block checksum mismatch: names each event it hides
      report.problems.push_back(
          {std::string(parsed->stream), parsed->version, "unreadable: " + status.ToString()});
  }
  if (!it->status().ok())
    report.problems.push_back(
        {"", 0, "reading the position index stopped: " + it->status().ToString()});
}

// Walks the command-id records (idempotency): each must decode and point inside its stream,
// or a repeated command would be answered with versions that do not exist.
void check_commands(const Store& store, VerifyReport& report) {
  std::unique_ptr<rocksdb::Iterator> it(
      store.database->db()->NewIterator(rocksdb::ReadOptions(), store.database->commands()));
  std::map<std::string, uint64_t> last_versions;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = it->key().ToStringView();
    auto separator = key.find('\0');
    if (separator == std::string_view::npos) {
      report.problems.push_back({"", 0, "malformed key in the command records"});
      continue;
    }
    std::string stream(key.substr(0, separator));
    std::string command_id(key.substr(separator + 1));
    auto value = it->value().ToStringView();
    auto first = keys::read_be64(value),
         last = keys::read_be64(value.substr(std::min<size_t>(8, value.size())));
    if (value.size() != 24 || !first || !last) {
      report.problems.push_back({stream, 0, "command " + command_id + ": record does not decode"});
      continue;
    }
    auto known = last_versions.find(stream);
    if (known == last_versions.end()) {
      auto version = store.journal->stream_version(stream);
      known = last_versions.emplace(stream, version ? *version : 0).first;
    }
    if (*last > known->second)
      report.problems.push_back({stream, *last,
                                 "command " + command_id + " records versions up to " +
                                     std::to_string(*last) + " but the stream ends at " +
                                     std::to_string(known->second)});
  }
  if (!it->status().ok())
    report.problems.push_back(
        {"", 0, "reading the command records stopped: " + it->status().ToString()});
}

// Names the fields two snapshots differ in, without their values: user snapshots hold
// password and answer hashes, room snapshots people's messages, and neither belongs in a
// report that ends up in tickets.
class FieldsOnly : public google::protobuf::util::MessageDifferencer::Reporter {
 public:
  using Path = std::vector<google::protobuf::util::MessageDifferencer::SpecificField>;
  void ReportAdded(const google::protobuf::Message&, const google::protobuf::Message&,
                   const Path& path) override {
    add("added", path);
  }
  void ReportDeleted(const google::protobuf::Message&, const google::protobuf::Message&,
                     const Path& path) override {
    add("deleted", path);
  }
  void ReportModified(const google::protobuf::Message&, const google::protobuf::Message&,
                      const Path& path) override {
    // A modified message is also reported for each field modified inside it: keep the leaves.
    const auto* field = path.empty() ? nullptr : path.back().field;
    if (field && field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) return;
    add("modified", path);
  }
  std::string text() const {
    std::string out;
    for (const auto& line : lines_) out += (out.empty() ? "" : "; ") + line;
    if (dropped_ > 0) out += "; and " + std::to_string(dropped_) + " more";
    return out;
  }

 private:
  static constexpr size_t kMaxLines = 8;
  void add(const char* what, const Path& path) {
    std::string line = std::string(what) + ": ";
    for (size_t i = 0; i < path.size(); ++i) {
      if (i > 0) line += ".";
      line += path[i].field ? path[i].field->name() : std::to_string(path[i].unknown_field_number);
      if (path[i].index >= 0) line += "[" + std::to_string(path[i].index) + "]";
    }
    if (lines_.size() < kMaxLines)
      lines_.push_back(std::move(line));
    else
      ++dropped_;
  }
  std::vector<std::string> lines_;
  size_t dropped_ = 0;
};

bool decodes(ModelKind kind, const snapshots::Snapshot& snapshot) {
  switch (kind) {
    case ModelKind::kDevice:
      return device::from_snapshot(snapshot).has_value();
    case ModelKind::kUser:
      return user::from_snapshot(snapshot).has_value();
    case ModelKind::kRoom:
      return room::from_snapshot(snapshot, SIZE_MAX).has_value();
    case ModelKind::kNone:
      break;
  }
  return false;
}

const char* kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kDevice:
      return "device";
    case ModelKind::kUser:
      return "user";
    case ModelKind::kRoom:
      return "room";
    case ModelKind::kNone:
      break;
  }
  return "unknown";
}

void check_model_snapshot(const Store& store, ModelKind kind, const snapshots::Snapshot& snapshot,
                          VerifyReport& report) {
  const std::string& stream = snapshot.stream();
  if (!decodes(kind, snapshot)) {
    report.problems.push_back(
        {stream, snapshot.version(),
         std::string("snapshot rejected by the ") + kind_name(kind) + " decoder"});
    return;
  }
  // A room keeps only its newest messages, as many as the server's chat window. The window
  // is configuration, not history, so the replay keeps as many as the snapshot holds: the
  // newest N messages of a room are the same whatever larger window they were kept in.
  size_t window = room::kDefaultMaxMessages;
  if (kind == ModelKind::kRoom && snapshot.room().messages_size() > 0)
    window = static_cast<size_t>(snapshot.room().messages_size());
  auto replayed = replay_snapshot(*store.journal, stream, snapshot.taken_at_unix_ms(),
                                  snapshot.version(), window);
  if (!replayed && replayed.status().code() != Code::kNotFound) {
    report.problems.push_back({stream, snapshot.version(),
                               "snapshot cannot be checked: " + replayed.status().to_string()});
    return;
  }
  const uint64_t last = replayed ? replayed->last_version : 0;
  if (last != snapshot.version()) {
    report.problems.push_back({stream, snapshot.version(),
                               "snapshot is beyond the log's last version " + std::to_string(last) +
                                   ": events were lost"});
    return;
  }
  google::protobuf::util::MessageDifferencer differ;
  std::string diff;
  FieldsOnly fields;
  if (kind == ModelKind::kDevice)
    differ.ReportDifferencesToString(&diff);
  else
    differ.ReportDifferencesTo(&fields);
  if (!differ.Compare(replayed->snapshot, snapshot)) {
    if (kind != ModelKind::kDevice) diff = fields.text();
    while (!diff.empty() && diff.back() == '\n') diff.pop_back();
    for (auto& c : diff)
      if (c == '\n') c = ';';
    report.problems.push_back(
        {stream, snapshot.version(), "snapshot differs from a replay to its version: " + diff});
  }
}

void check_snapshots(const Store& store, VerifyReport& report) {
  std::vector<std::string> streams;
  auto status = store.snapshots->list_streams("", [&](const std::string& s, uint64_t) {
    streams.push_back(s);
    return true;
  });
  if (!status.is_ok()) report.problems.push_back({"", 0, "snapshots: " + status.to_string()});
  for (const auto& stream : streams) {
    auto listing = store.snapshots->list(stream);
    if (!listing) {
      report.problems.push_back({stream, 0, "snapshots: " + listing.status().to_string()});
      continue;
    }
    for (const auto& bad : listing->corrupt)
      report.problems.push_back({stream, bad.version, "snapshot " + bad.reason});
    for (const auto& snapshot : listing->valid) {
      if (auto kind = model_kind(stream); kind != ModelKind::kNone) {
        ++report.snapshots_checked;
        check_model_snapshot(store, kind, snapshot, report);
      } else {
        ++report.snapshots_unchecked;
      }
    }
  }
}

}  // namespace

std::string Problem::to_string() const {
  std::string out = stream.empty() ? "store" : stream;
  if (version != 0) out += " version " + std::to_string(version);
  return out + ": " + what;
}

VerifyReport verify_store(const Store& store, std::ostream* progress) {
  VerifyReport report;
  check_events(store, report, progress);
  check_positions(store, report, progress);
  check_commands(store, report);
  check_snapshots(store, report);
  return report;
}

}  // namespace gh::ctl
