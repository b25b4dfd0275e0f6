#include "events/record_codec.h"

#include "events/journal_support.h"
#include "events/keys.h"

namespace gh::records {

Result<Envelope> decode_event(std::string_view key, std::string_view value) {
  auto parsed = keys::parse_versioned(key);
  if (!parsed) return data_loss("malformed event key of " + std::to_string(key.size()) + " bytes");
  return journal_support::decode_stored(parsed->stream, parsed->version, value);
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
