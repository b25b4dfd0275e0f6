#!/usr/bin/env bash
# The wire-level benchmark of docs/benchmarks.md "Over the wire":
#   bench/wire.sh [build] [gatehouse_wire_bench options, e.g. --seconds 5]
# Starts gatehouse from BUILD (default: build) on a fresh store in a temporary directory,
# with its private mosquitto and HTTP on free ports and the legacy protocol on, runs
# BUILD/bench/gatehouse_wire_bench against it, then stops it and removes the directory.
# KEEP=1 keeps the directory (gatehouse.log, the broker log in run/). GATEHOUSE_ARGS adds
# options to gatehouse's command line (e.g. GATEHOUSE_ARGS=--scheduler.policy=stealing). Needs: cmake --build BUILD --target gatehouse gatehouse_auth gatehouse_wire_bench
set -eu
BUILD=${1:-build}
shift || true
DIR=$(mktemp -d /tmp/gh-wire.XXXXXX)
GH=
cleanup() {
  if [ -n "$GH" ]; then kill "$GH" 2>/dev/null || true; wait "$GH" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

# Port 0: any free port; the banner names the ones taken. The login limits are raised only
# because the benchmark logs 64 users in from one address before it starts measuring.
"$BUILD/server/gatehouse" --store.path="$DIR/store" --store.run-dir="$DIR/run" \
  --mqtt.port=0 --http.port=0 --legacy=on \
  --chat.login-burst-per-source=1000 --chat.login-rate-per-source=100000 ${GATEHOUSE_ARGS:-} \
  >"$DIR/gatehouse.log" 2>&1 &
GH=$!
for _ in $(seq 100); do grep -q 'gatehouse is up' "$DIR/gatehouse.log" && break; sleep 0.1; done
if ! grep -q 'gatehouse is up' "$DIR/gatehouse.log"; then cat "$DIR/gatehouse.log"; exit 1; fi
BROKER_PORT=$(grep -o 'broker *tcp://[0-9.]*:[0-9]*' "$DIR/gatehouse.log" | sed 's/.*://')
HTTP_PORT=$(grep -o 'http *http://[0-9.]*:[0-9]*' "$DIR/gatehouse.log" | sed 's/.*://')
TOKEN=$(grep -o 'admin = [0-9a-f]*' "$DIR/gatehouse.log" | awk '{print $3}')
BROKER_PID=$(pgrep -P "$GH" -x mosquitto || echo 0)
echo "gatehouse: pid $GH, broker pid $BROKER_PID port $BROKER_PORT, http port $HTTP_PORT, store $DIR/store"
echo "gatehouse options: ${GATEHOUSE_ARGS:-(defaults)}; $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || true)"
"$BUILD/bench/gatehouse_wire_bench" --broker-port "$BROKER_PORT" --http-port "$HTTP_PORT" \
  --token "$TOKEN" --server-secret "$DIR/run/mqtt-server.secret" --dir "$DIR/raw" \
  --server-pid "$GH" --broker-pid "$BROKER_PID" "$@"
