// The bytes of the journal's records as RocksDB stores them (layout in keys.h): decoding
// what was read back from disk, where a corrupt store must give a named error, never a
// crash or a wrong value. Shared by RocksdbJournal and the fuzz targets (tests/fuzz).
// Pure functions; thread-safe. Nothing here throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "events/journal.h"
#include "events/status.h"

namespace gh::records {

// One stored event (key in the events family, value the Envelope's bytes), checked to be where
// its key says it is. kDataLoss naming stream and version when the key is malformed, the
// value does not decode, the envelope names another stream or version, or its event is of
// no known type (the value's check is journal_support::decode_stored, the PostgreSQL
// journal's too).
Result<Envelope> decode_event(std::string_view key, std::string_view value);

// be64(first) be64(last) be64(last_position): what a command id answered.
std::string encode_command_record(const AppendResult& result);

// The record above as an AppendResult with duplicate = true; nullopt unless 24 bytes.
std::optional<AppendResult> decode_command_record(std::string_view bytes);

}  // namespace gh::records
