// A secret kept in a file (the picture-link signing key): read it, or create it with random
// bytes. The file is created 0600 from its first byte (O_CREAT|O_EXCL with mode 0600 under
// a temporary name, written, fsync'd, then renamed into place), so no other user can ever
// read it, whatever the umask; an existing file readable by others is narrowed to 0600.
// Thread-compatible (one caller per path at a time).
#pragma once

#include <cstddef>
#include <string>

#include "events/status.h"

namespace gh::http {

// The `bytes` bytes stored at `path`, created when the file is missing or has another
// length. kInternal naming the path when it cannot be read or written.
Result<std::string> load_or_create_secret(const std::string& path, size_t bytes);

}  // namespace gh::http
