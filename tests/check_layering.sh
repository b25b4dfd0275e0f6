#!/bin/sh
# Fails when a file includes from a higher layer (DESIGN.md "Layout and the direction of
# dependencies"): events <- snapshots <- actors <- adapters <- server; tools use events,
# snapshots and the pure models, never CAF. Pure models never include CAF, paho or httplib.
root=${1:-.}
cd "$root" || exit 2
status=0
# forbid FOLDER PATTERN WHY: report every include in FOLDER matching PATTERN.
forbid() {
  hits=$(grep -rnE "^#include [<\"]($2)" $1 --include='*.h' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $3"; echo "$hits"; status=1
  fi
}
forbid "events" "snapshots/|actors/|adapters/|server/|tools/|caf/|mqtt/|httplib" "events/ uses only RocksDB, libpq and Protobuf"
forbid "snapshots" "actors/|adapters/|server/|tools/|caf/|mqtt/|httplib" "snapshots/ uses only events/"
forbid "actors" "adapters/|server/|tools/|mqtt/|httplib|rocksdb/" "actors/ never reach adapters, the server or RocksDB"
forbid "adapters" "server/|tools/|rocksdb/|events/rocksdb_journal|events/database" "adapters never touch RocksDB or the server"
forbid "tools" "caf/|adapters/|server/|mqtt/|httplib|actors/.*_actor|actors/directory|actors/device/device_system" "tools use events, snapshots and pure models, never CAF"
models=$(find actors -name '*_model.*' -o -name '*_audit.*' -o -name '*_service.h' 2>/dev/null)
if [ -n "$models" ]; then
  hits=$(grep -nE '^#include [<"](caf/|mqtt/|httplib|rocksdb/)' $models)
  if [ -n "$hits" ]; then echo "layering: pure models include CAF, paho, httplib or RocksDB"; echo "$hits"; status=1; fi
fi
[ $status -eq 0 ] && echo "layering: ok"
exit $status
