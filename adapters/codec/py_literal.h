// The legacy chat's payloads (seed 002): Python literals written with str(dict) and read
// with eval(). This is the safe half of that contract: a parser of Python *literal* syntax
// that never evaluates anything, and a writer whose output eval() can only ever turn into a
// literal value. Pure functions; thread-safe. Nothing here throws.
//
// Accepted: dicts with string keys ({'a': 1}), lists, tuples (as JSON arrays), strings in
// single or double quotes (also triple-quoted, u/r prefixes; every Python escape but
// \N{...}), ints (decimal, 0x/0o/0b, underscores) that fit in 64 bits, finite floats,
// True/False/None, and JSON's true/false/null. Refused with a clear message and the byte
// offset: names (`__import__`, `os`), calls, operators, bytes and f-strings, sets, complex
// numbers, comments, lone surrogates, integers beyond 64 bits, floats that overflow, and
// anything after the value.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "events/status.h"

namespace gh::codec {

struct PyLiteralLimits {
  size_t max_bytes = 64 * 1024;  // the whole text
  size_t max_depth = 32;         // nested dicts, lists and tuples
};

// Parses `text` as exactly one Python literal. kTooLarge when `text` is longer than
// max_bytes or nests deeper than max_depth (refused before it is built); kInvalidArgument
// ("python literal: <what> at offset N") for anything that is not a literal, or not UTF-8.
Result<nlohmann::json> parse_py_literal(std::string_view text, PyLiteralLimits limits = {});

// A legacy payload: strict JSON first (so a JSON client's "\/" means "/"), else a Python
// literal. Either way it must be a dict / object: kInvalidArgument otherwise. kTooLarge as
// above.
Result<nlohmann::json> parse_legacy_payload(std::string_view text, PyLiteralLimits limits = {});

// Python source for `value`, as repr() would write it: {'k': v}, [a, b], 'text', 12, 1.5,
// True, False, None. Strings are single-quoted and ASCII only: quotes, backslashes and
// control characters are escaped and every non-ASCII character is a \x, \u or \U escape
// (invalid UTF-8 becomes \ufffd), so the text can never end a string early or carry a
// name, and eval() of it yields a literal and nothing else. Non-finite floats become None.
std::string to_py_literal(const nlohmann::json& value);

}  // namespace gh::codec
