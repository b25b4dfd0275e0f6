// gatehousectl verify: checks everything that can be checked without trusting anything.
// - every stored event decodes, is stored under its own stream and version, and has a type;
// - each stream's versions run 1, 2, ... without gaps, and positions grow with versions;
// - the position index and the events agree both ways (every position unique, increasing
//   by construction of the index's key order, pointing at an event that carries it);
// - every command-id record decodes and points inside its stream;
// - every snapshot decodes and equals a replay of its stream to its version (device/, user/
//   and room/ streams; other kinds are counted as unchecked). User and room differences
//   name the fields only, never their values (hashes, people's messages).
// Problems are collected, not fatal: one run names all of them. Thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tools/ctl/store.h"

namespace gh::ctl {

struct Problem {
  std::string stream;    // empty when not attributable to a stream
  uint64_t version = 0;  // 0 when not attributable to one version
  std::string what;
  // "device/d1 version 7: does not decode"
  std::string to_string() const;
};

struct VerifyReport {
  uint64_t events = 0;
  uint64_t streams = 0;
  uint64_t positions = 0;
  uint64_t snapshots_checked = 0;
  uint64_t snapshots_unchecked = 0;  // of kinds without a model in gatehousectl
  std::vector<Problem> problems;
  bool ok() const { return problems.empty(); }
};

// Verifies `store`. Progress lines go to `progress` (may be null) every 100k records.
VerifyReport verify_store(const Store& store, std::ostream* progress);

}  // namespace gh::ctl
