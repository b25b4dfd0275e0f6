// Fuzz target: decoding the journal's records as read back from disk
// (events/record_codec.h). A corrupt store must give a named error, never a crash or a
// wrong event. Input: key \0 value (either may be any bytes).
// Promises: errors are kDataLoss; a decoded event is exactly where its key says it is and
// has a known type; a command record decodes only from 24 bytes.
#include <google/protobuf/stubs/logging.h>

#include "events/keys.h"
#include "events/record_codec.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string field with invalid UTF-8 it refuses; the refusal is what
  // is checked, the log line is noise.
  static const google::protobuf::LogSilencer quiet;
  using gh::Code;
  const auto text = gh::fuzz::as_text(data, size);
  // The key of a versioned record contains a NUL itself: split at the first NUL after 9
  // bytes when there is one, so both halves stay reachable.
  const auto split = text.size() > 9 ? text.find('\0', 9) : std::string_view::npos;
  const auto key = split == std::string_view::npos ? text : text.substr(0, split);
  const auto value = split == std::string_view::npos ? std::string_view() : text.substr(split + 1);

  auto event = gh::records::decode_event(key, value);
  gh::fuzz::require_code(event.status(), {Code::kDataLoss}, "decode_event");
  if (event) {
    auto parsed = gh::keys::parse_versioned(key);
    gh::fuzz::require(parsed.has_value(), "a decoded event has a valid key");
    gh::fuzz::require(event->stream() == parsed->stream && event->version() == parsed->version,
                      "a decoded event is where its key says");
    gh::fuzz::require(event->event_case() != gh::Envelope::EVENT_NOT_SET,
                      "a decoded event has a known type");
  } else {
    gh::fuzz::require(!event.status().message().empty(), "the error names the record");
  }

  auto record = gh::records::decode_command_record(text);
  gh::fuzz::require(record.has_value() == (text.size() == 24), "command records are 24 bytes");
  if (record)
    gh::fuzz::require(gh::records::encode_command_record(*record) == text,
                      "command records round-trip");
  return 0;
}
