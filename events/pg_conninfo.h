// The connection string gatehouse gives libpq in cluster mode, built from what an operator
// configured: a libpq connection string in either of libpq's forms (keywords
// "host=a,b port=5432,5433 dbname=gatehouse target_session_attrs=read-write" or a URI
// "postgresql://gatehouse@a:5432,b:5433/gatehouse?target_session_attrs=read-write"), and a
// password read from a file rather than given on the command line.
// Pure functions (libpq's parser, no connection); thread-safe.
#pragma once

#include <string>

#include "events/status.h"

namespace gh {

// `conninfo` checked by libpq's own parser and written again in keyword form, with
// `password` (when not empty) added. kInvalidArgument naming the problem when libpq cannot
// parse `conninfo` (its message), when it is empty, or when it carries a password of its own
// while `password` is given too (one place for a secret, not two).
Result<std::string> pg_conninfo(const std::string& conninfo, const std::string& password);

// `conninfo` without its password, for log lines and error messages: "host=a,b port=5432
// dbname=gatehouse user=gatehouse". When libpq cannot parse it: "(unparsable connection
// string)", never the input, which may hold a secret.
std::string pg_conninfo_redacted(const std::string& conninfo);

}  // namespace gh
