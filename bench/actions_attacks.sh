#!/bin/sh
# The issue-9 attacks on scripted actions, against a real gatehouse (private mosquitto, a
# fresh store in a temporary directory): the figures of docs/security.md "Scripted actions".
#
#   bench/actions_attacks.sh [BUILD_DIR]      # default: build
#
# Needs build/server/gatehouse (and gatehouse-lua-sandbox, built with it), curl,
# mosquitto_pub and mosquitto_sub.
set -eu
BUILD=${1:-build}
DIR=$(mktemp -d /tmp/gh-attacks.XXXXXX)
OUT=$DIR/gatehouse.out
now_ms() { date +%s%3N; }

"$BUILD/server/gatehouse" --store.path="$DIR/store" --store.run-dir="$DIR/run" --http.port=0 \
  --legacy=on > "$OUT" 2>&1 &
GH=$!
trap 'kill -9 $GH 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do grep -q "Ctrl-C" "$OUT" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's|.*broker *tcp://127.0.0.1:\([0-9]*\).*|\1|p' "$OUT" | head -1)
HTTP=$(sed -n 's|.*http *\(http://[^ ]*\).*|\1|p' "$OUT" | head -1)
TOKEN=$(sed -n 's|.*new token *admin = \([0-9a-f]*\).*|\1|p' "$OUT" | head -1)
AUTH="Authorization: Bearer $TOKEN"
put() { curl -s -o "$DIR/put.json" -w '%{http_code}' -X PUT -H "$AUTH" --data-binary "$2" \
  "$HTTP/api/actions/$1?replace=true"; }

echo "1. install whose top level wedges in string.find (PUT /api/actions/wedge)"
T0=$(now_ms)
CODE=$(put wedge "string.find(string.rep('a', 16000), '.-.-.-.-.-.-b') function handle() end")
echo "   answered $CODE in $(( $(now_ms) - T0 )) ms: $(cat "$DIR/put.json")"

echo "2. a call whose handle wedges in string.find, then a healthy call"
put slow "function handle(msg) if msg.args == 'wedge' then string.find(string.rep('a', 16000), '.-.-.-.-.-.-b') end return 'ok' end" > /dev/null
mosquitto_sub -p "$PORT" -t slow -C 2 -W 30 > "$DIR/slow.txt" &
SUB=$!
sleep 0.5
T0=$(now_ms)
mosquitto_pub -p "$PORT" -t server -m "slow wedge" -q 1
mosquitto_pub -p "$PORT" -t server -m "slow fine" -q 1
wait $SUB || true
echo "   both answered in $(( $(now_ms) - T0 )) ms: $(tr '\n' ' ' < "$DIR/slow.txt")"

echo "3. five anonymous calls of ~4 MiB to an installed action"
put echo "function handle(msg) return 'echo ' .. #msg.payload end" > /dev/null
head -c 4194200 /dev/zero | tr '\0' 'x' | sed 's/^/echo /' > "$DIR/big"
mosquitto_sub -p "$PORT" -t echo -C 5 -W 60 > "$DIR/echo.txt" &
SUB=$!
sleep 0.5
for _ in 1 2 3 4 5; do mosquitto_pub -p "$PORT" -t server -f "$DIR/big" -q 1; done
wait $SUB || true
echo "   answers: $(sed 's/.*"code":"\([a-z_]*\)".*/\1/' "$DIR/echo.txt" | sort | uniq -c | tr '\n' ' ')"
echo "   action: $(curl -s -H "$AUTH" "$HTTP/api/actions/echo" | sed 's/.*"enabled":\([a-z]*\).*/enabled=\1/')"

echo "4. twenty calls of 1.4 MiB, then twenty of 16000 bytes (the most accepted)"
head -c 1468000 /dev/zero | tr '\0' 'x' | sed 's/^/echo /' > "$DIR/mid"
head -c 15990 /dev/zero | tr '\0' 'y' | sed 's/^/echo /' > "$DIR/max"
for _ in $(seq 1 20); do mosquitto_pub -p "$PORT" -t server -f "$DIR/mid" -q 1; done
for _ in $(seq 1 20); do mosquitto_pub -p "$PORT" -t server -f "$DIR/max" -q 1; done
sleep 2
RUNS=$(curl -s -H "$AUTH" "$HTTP/api/actions/echo/runs?limit=500")
echo "   recorded runs of echo: $(echo "$RUNS" | grep -o '"version"' | wc -l), response $(echo "$RUNS" | wc -c) bytes"

echo "5. SIGTERM with a wedging call in flight"
mosquitto_pub -p "$PORT" -t server -m "slow wedge" -q 1
mosquitto_pub -p "$PORT" -t server -m "slow wedge" -q 1
sleep 0.05
T0=$(now_ms)
kill -TERM $GH
wait $GH || true
echo "   gatehouse exited $(( $(now_ms) - T0 )) ms after SIGTERM"

echo "6. what the log holds of echo's runs (gatehousectl, server stopped)"
"$BUILD/tools/gatehousectl" --store "$DIR/store" events system/action-runs.echo --json \
  > "$DIR/runs.json"
echo "   $(wc -l < "$DIR/runs.json") records, $(wc -c < "$DIR/runs.json") bytes as JSON"
