#include "events/record_codec.h"

#include "events/keys.h"

namespace gh::records {

std::string describe(std::string_view stream, uint64_t version) {
  return std::string(stream) + " version " + std::to_string(version);
}

Result<Envelope> decode_event(std::string_view key, std::string_view value) {
  auto parsed = keys::parse_versioned(key);
  if (!parsed) return data_loss("malformed event key of " + std::to_string(key.size()) + " bytes");
  Envelope envelope;
  if (!envelope.ParseFromArray(value.data(), static_cast<int>(value.size())))
    return data_loss(describe(parsed->stream, parsed->version) + ": event does not decode");
  if (envelope.stream() != parsed->stream || envelope.version() != parsed->version)
    return data_loss(describe(parsed->stream, parsed->version) + ": stored envelope says " +
                     describe(envelope.stream(), envelope.version()));
  if (envelope.event_case() == Envelope::EVENT_NOT_SET)
    return data_loss(describe(parsed->stream, parsed->version) + ": event of unknown type");
  return envelope;
}

std::string encode_command_record(const AppendResult& result) {
  return keys::be64(result.first_version) + keys::be64(result.last_version) +
         keys::be64(result.last_position);
}

std::optional<AppendResult> decode_command_record(std::string_view bytes) {
  if (bytes.size() != 24) return std::nullopt;
  AppendResult result;
  result.first_version = *keys::read_be64(bytes);
  result.last_version = *keys::read_be64(bytes.substr(8));
  result.last_position = *keys::read_be64(bytes.substr(16));
  result.duplicate = true;
  return result;
}

}  // namespace gh::records
