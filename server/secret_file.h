// A random secret kept in a file that only its owner may read: gatehouse's own broker
// password. The file is created with mode 0600 from the start (never readable by others, not
// even for a moment) and synced before use.
// Thread-compatible.
#pragma once

#include <filesystem>
#include <string>

#include "events/status.h"

namespace gh::server {

// The secret in `path` (surrounding whitespace dropped); when the file does not exist, a new
// secret (actors/system/secret.h: 128 random bits as 32 lower-case hex characters), written
// to a new 0600 file. Unlike the signing key's file (adapters/http/secret_file.h, raw bytes
// of a fixed length), this one may also be an operator's own password of any length.
// kInternal when the file cannot be read or created; kInvalidArgument when it is empty.
Result<std::string> read_or_create_secret(const std::filesystem::path& path);

// The secret in an operator's existing file `path` (surrounding whitespace dropped), such as
// the PostgreSQL password: never created. kNotFound when the file does not exist;
// kFailedPrecondition when group or others may read it (as libpq refuses such a passfile);
// kInvalidArgument when it is empty; kInternal when it cannot be read.
Result<std::string> read_secret(const std::filesystem::path& path);

}  // namespace gh::server
