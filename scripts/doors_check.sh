#!/usr/bin/env bash
# Measures the three door attacks of docs/security.md "## Doors" against a gatehouse binary:
#   scripts/doors_check.sh [build/server/gatehouse] [extra gatehouse options...]
# Starts its own mosquitto (port 18941) and gatehouse (HTTP 18942, a fresh store under a
# temporary directory), plays a door and a fake with mosquitto_pub, prints what it finds.
# Needs mosquitto, mosquitto_pub/_sub, curl, python3. Leaves nothing running.
set -u
BIN=${1:-build/server/gatehouse}
shift || true
EXTRA=("$@")
DIR=$(mktemp -d /tmp/gh-doors.XXXXXX)
PORT=18941
HTTP=18942
B=(-h 127.0.0.1 -p "$PORT" -q 1)
P=gatehouse
cat >"$DIR/broker.conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
EOF
mosquitto -c "$DIR/broker.conf" >"$DIR/broker.log" 2>&1 &
BROKER=$!
GH=
SUB=
cleanup() {
  [ -n "$SUB" ] && kill "$SUB" 2>/dev/null
  [ -n "$GH" ] && kill "$GH" 2>/dev/null && wait "$GH" 2>/dev/null
  kill "$BROKER" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
sleep 0.5

start_gatehouse() {
  "$BIN" --mqtt.broker=tcp://127.0.0.1:$PORT --store.path="$DIR/store" --store.run-dir="$DIR/run" \
    --http.port=$HTTP "${EXTRA[@]}" >>"$DIR/gh.log" 2>&1 &
  GH=$!
  for _ in $(seq 50); do curl -sf http://127.0.0.1:$HTTP/healthz >/dev/null && break; sleep 0.2; done
  sleep 1  # let the retained messages of the (re)subscription arrive
}
stop_gatehouse() { kill "$GH"; wait "$GH" 2>/dev/null; GH=; }
field() {  # field NAME: a field of door1's state
  curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$HTTP/devices/door1 |
    python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['device'].get('$1')))"
}
metric() { curl -s http://127.0.0.1:$HTTP/metrics | grep -F "$1" | awk '{print $2}' | head -1; }

start_gatehouse
TOKEN=$(grep -o 'admin = [0-9a-f]*' "$DIR/gh.log" | head -1 | awk '{print $3}')
mosquitto_sub "${B[@]}" -v -t "$P/alerts/#" -t "$P/devices/door1/error" >"$DIR/sub.log" 2>&1 &
SUB=$!
sleep 0.3

echo "== 1. a report no command explains"
mosquitto_pub "${B[@]}" -t $P/devices/door1/hello -m '{"type":"lock"}'
mosquitto_pub "${B[@]}" -t $P/devices/door1/state -m LOCKED
sleep 0.3
curl -s -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$HTTP/devices/door1/lock >/dev/null
sleep 0.3
mosquitto_pub "${B[@]}" -t $P/devices/door1/state -m LOCKED
sleep 0.3
mosquitto_pub "${B[@]}" -t $P/devices/door1/state -m UNLOCKED  # nobody asked
sleep 0.5
echo "desired=$(field desired) reported=$(field reported) unexpected=$(field unexpected)"
echo "history kinds: $(curl -s -H "Authorization: Bearer $TOKEN" \
  http://127.0.0.1:$HTTP/devices/door1/history |
  python3 -c 'import json,sys; print([e.get("kind","command") for e in json.load(sys.stdin)["history"]])')"
echo "alerts on $P/alerts/unexpected: $(grep -c "^$P/alerts/unexpected " "$DIR/sub.log")"

echo "== 2. a retained fake UNLOCKED, then gatehouse reconnects"
mosquitto_pub "${B[@]}" -t $P/devices/door1/state -m LOCKED  # the door is locked again
mosquitto_pub "${B[@]}" -r -t $P/devices/door1/state -m UNLOCKED  # the fake, retained
sleep 0.3
mosquitto_pub "${B[@]}" -t $P/devices/door1/state -m LOCKED  # the door's real report
sleep 0.5
echo "before the restart: reported=$(field reported)"
stop_gatehouse
start_gatehouse
echo "after the restart:  reported=$(field reported)" \
  "retained refused=$(metric 'gatehouse_mqtt_rejected_total{reason="retained"}')"
mosquitto_pub "${B[@]}" -r -t $P/devices/door1/state -n  # clear the fake

echo "== 3. 25 pictures of 2 MiB from one door"
for i in $(seq 0 24); do
  { printf '\xff\xd8\xff\xe0'; head -c $((2 * 1024 * 1024 - 4)) /dev/urandom; } >"$DIR/pic.jpg"
  mosquitto_pub "${B[@]}" -t $P/devices/door1/stranger -f "$DIR/pic.jpg"
done
sleep 3
IDS=$(grep "^$P/alerts/stranger " "$DIR/sub.log" | cut -d' ' -f2- |
  python3 -c 'import json,sys; [print(json.loads(l)["picture_id"]) for l in sys.stdin]')
ok=0; gone=0; bytes=0
for id in $IDS; do
  code=$(curl -s -o "$DIR/got" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    http://127.0.0.1:$HTTP/pictures/$id)
  if [ "$code" = 200 ]; then ok=$((ok + 1)); bytes=$((bytes + $(stat -c %s "$DIR/got"))); fi
  [ "$code" = 404 ] && gone=$((gone + 1))
done
echo "accepted (alerts)=$(echo "$IDS" | grep -c .) rate-limited=$(grep -c rate_limited "$DIR/sub.log")" \
  "fetchable=$ok ($((bytes / 1048576)) MiB) 404=$gone"
