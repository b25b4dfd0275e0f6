#include "events/journal_support.h"

#include <chrono>

#include "events/stream_name.h"

namespace gh::journal_support {

void stamp(Envelope& envelope, const AppendRequest& request, uint64_t version, uint64_t position,
           int64_t time_unix_ms, uint64_t lease_epoch) {
  envelope.set_stream(request.stream);
  envelope.set_version(version);
  envelope.set_position(position);
  envelope.set_time_unix_ms(time_unix_ms);
  envelope.set_command_id(request.command_id);
  *envelope.mutable_cause() = request.cause;
  envelope.set_lease_epoch(lease_epoch);  // proto3: 0 is not stored at all
}

Status version_conflict(const std::string& stream, uint64_t actual, uint64_t expected) {
  return conflict(stream + " is at version " + std::to_string(actual) + ", expected " +
                  std::to_string(expected));
}

Status check_appendable(const AppendRequest& request) {
  if (!is_valid_stream(request.stream))
    return invalid_argument("invalid stream name '" + request.stream + "'");
  for (const auto& envelope : request.events) {
    if (envelope.event_case() == Envelope::EVENT_NOT_SET)
      return invalid_argument(request.stream + ": an appended envelope carries no event");
  }
  return Status::ok();
}

std::string describe(std::string_view stream, uint64_t version) {
  return std::string(stream) + " version " + std::to_string(version);
}

Result<Envelope> decode_stored(std::string_view stream, uint64_t version, std::string_view bytes) {
  Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return data_loss(describe(stream, version) + ": event does not decode");
  if (envelope.stream() != stream || envelope.version() != version)
    return data_loss(describe(stream, version) + ": stored envelope says " +
                     describe(envelope.stream(), envelope.version()));
  if (envelope.event_case() == Envelope::EVENT_NOT_SET)
    return data_loss(describe(stream, version) + ": event of unknown type");
  return envelope;
}

void add_stats(JournalStats& total, const JournalStats& batch) {
  total.events_appended += batch.events_appended;
  total.batches_synced += batch.batches_synced;
  total.appends += batch.appends;
  total.conflicts += batch.conflicts;
  total.duplicates += batch.duplicates;
  total.failures += batch.failures;
  total.append_latency_sum_ms += batch.append_latency_sum_ms;
  for (size_t b = 0; b < total.append_latency_buckets.size(); ++b)
    total.append_latency_buckets[b] += batch.append_latency_buckets[b];
  for (size_t b = 0; b < total.batch_size_buckets.size(); ++b)
    total.batch_size_buckets[b] += batch.batch_size_buckets[b];
  for (size_t b = 0; b < total.sync_latency_buckets.size(); ++b)
    total.sync_latency_buckets[b] += batch.sync_latency_buckets[b];
  total.sync_latency_sum_ms += batch.sync_latency_sum_ms;
}

}  // namespace gh::journal_support
