#!/bin/bash
# Cluster mode's proof environment end to end (docs/cluster.md, "Running the proof
# environment"), with real etcd, Patroni, PostgreSQL 15, nats-server and 3 gatehouse nodes:
#   1. scripts/cluster-up starts it in a temporary directory and prints gatehouse's
#      connection string (every PostgreSQL host, target_session_attrs=read-write), 3 MQTT
#      URLs and 3 gatehouse nodes; scripts/cluster-status calls it healthy, the nodes
#      holding the 1024 shards between them;
#   2. the gatehouse nodes on NATS: they hold the 32 session groups' sessions, a door's state
#      published on any NATS node is recorded by the node holding its group, and when that
#      node stops, a state sent right after is recorded by the next owner; routing (stand-in
#      clients on the probe prefix): a door's state published over MQTT on nats1 arrives on
#      nats2 under its session group's subject (shard-group.<FNV-1a-32(id) mod 32>...), a
#      command to a door keeps its topic, and a group owner's persistent session gets, on
#      another node, what was published while it was away;
#   3. scripts/cluster-failover postgres, nats and gatehouse (the node serving a door, while
#      its locks go through the others): no acknowledged write lost, none unexpected, and
#      healthy again after the killed part restarts;
#   4. a short scripts/cluster-chaos: under device and chat load over HTTP and 6 doors over
#      MQTT through NATS, a gatehouse node killed, one paused past the lease TTL (the zombie
#      writer) and one paused briefly (no NATS kill: it can leave a gatehouse node unhealthy,
#      docs/cluster.md "Chaos"); it exits 0 and
#      prints 0 acknowledged writes lost, 0 unexpected, 0 duplicates, door messages
#      acknowledged by NATS, none unexpected (those lost are printed, not judged: a known
#      window, docs/cluster.md "What session groups do not guarantee yet"); no version gap,
#      no epoch going down in a shard, and all 1024 shards owned by live nodes;
#   5. scripts/cluster-down leaves no process of the cluster behind.
# No timing is asserted; the figures are printed for docs/cluster.md.
#   tests/cluster/cluster_test.sh SOURCE_DIR GATEHOUSE_EXECUTABLE CLUSTER_CHAOS_EXECUTABLE \
#     GATEHOUSECTL_EXECUTABLE
set -uo pipefail
ROOT=${1:?give the source directory}
GATEHOUSE=${2:?give the gatehouse executable}
CHAOS=${3:?give the cluster_chaos executable}
GATEHOUSECTL=${4:?give the gatehousectl executable}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/gh-cluster-test.XXXXXX")
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
finish() {
  if [ -f "$DIR/cluster.env" ]; then "$ROOT/scripts/cluster-down" --dir "$DIR" --purge >/dev/null 2>&1; fi
  rm -rf "$DIR"
}
trap finish EXIT

echo "== cluster-up"
if ! "$ROOT/scripts/cluster-up" --dir "$DIR" --timeout 150 --gatehouse "$GATEHOUSE" --gatehousectl "$GATEHOUSECTL" > "$DIR.up" 2>&1; then
  cat "$DIR.up"
  for log in "$DIR"/*/log; do echo "--- $log"; tail -n 20 "$log"; done
  rm -f "$DIR.up"
  echo "FAIL: cluster-up"
  exit 1
fi
cat "$DIR.up"
conninfo=$(sed -n 's/^PostgreSQL (gatehouse.s connection string): //p' "$DIR.up")
mqtt=$(sed -n 's/^MQTT: //p' "$DIR.up")
nodes=$(sed -n 's/^gatehouse nodes: \(.*\) (API token in .*/\1/p' "$DIR.up")
rm -f "$DIR.up"
. "$DIR/cluster.env"
[[ "$conninfo" == *"@127.0.0.1:$GH_PG1_PORT,127.0.0.1:$GH_PG2_PORT/gatehouse?target_session_attrs=read-write"* ]] ||
  fail "the connection string does not name both PostgreSQL hosts with target_session_attrs=read-write: $conninfo"
[ "$(wc -w <<<"$mqtt")" -eq 3 ] || fail "expected 3 MQTT URLs, got: $mqtt"
[ "$(wc -w <<<"$nodes")" -eq 3 ] || fail "expected 3 gatehouse nodes, got: $nodes"
[ "$(psql -X -At -F ' ' "$conninfo" -c "SELECT current_user, NOT pg_is_in_recovery()")" = "gatehouse t" ] ||
  fail "the printed connection string does not log gatehouse in on the primary"

echo "== cluster-status"
"$ROOT/scripts/cluster-status" --dir "$DIR" || fail "cluster-status is not healthy after cluster-up"
[ "$(grep -c '^ok' < <("$ROOT/scripts/cluster-status" --dir "$DIR"))" -eq 15 ] || fail "cluster-status does not report all 15 checks ok"
# Every node answers for a door wherever it lives: registered on its owner, read through
# each node (the others forward to the owner).
token=$(cat "$DIR/secrets/api-token")
# The registration that succeeds (201) gives door1 its NATS password (its user JWT).
door1_jwt=""
for url in $nodes; do
  answer=$(curl -s -m 10 -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"id":"door1"}' "$url/devices")
  [ -n "$door1_jwt" ] || door1_jwt=$(jq -r '.credential.password // empty' <<<"$answer")
done
[ -n "$door1_jwt" ] || fail "registering door1 gave no NATS password"
# door1's own MQTT login on NATS (operator mode); without it NATS refuses the client.
door1_login=(-i door1-test -u door1 -P "$door1_jwt")
if timeout 10 mosquitto_pub -h 127.0.0.1 -p "$GH_NATS1_MQTT" -q 1 -t gatehouse/devices/door1/state -m LOCKED 2>/dev/null; then
  fail "NATS took a publish from a client without a JWT"
fi
if timeout 10 mosquitto_pub -h 127.0.0.1 -p "$GH_NATS1_MQTT" -u door1 -P "$(cat "$DIR/secrets/api-token")" -q 1 -t gatehouse/devices/door1/state -m LOCKED 2>/dev/null; then
  fail "NATS took a publish from a client whose password is no JWT of gatehouse's account"
fi
for url in $nodes; do
  got=$(curl -s -m 10 -H "Authorization: Bearer $token" "$url/devices/door1" | jq -r '.device.id')
  [ "$got" = door1 ] || fail "$url does not answer for door1 (got: $got)"
done

echo "== gatehouse on NATS: a door's state published on each NATS node reaches its owner"
# The nodes hold the 32 session groups' MQTT sessions between them (opened after the leases).
groups_open() {
  local url total=0 n
  for url in $nodes; do
    n=$(curl -s -m 5 "$url/metrics" | sed -n 's/^gatehouse_cluster_session_groups_open //p')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
for _ in $(seq 150); do [ "$(groups_open)" = 32 ] && break; sleep 0.2; done
[ "$(groups_open)" = 32 ] || fail "the nodes hold $(groups_open) session groups, not 32"
n=0
for port in $GH_NATS1_MQTT $GH_NATS2_MQTT $GH_NATS3_MQTT; do
  n=$((n + 1))
  want=LOCKED
  [ $((n % 2)) -eq 1 ] || want=UNLOCKED
  timeout 10 mosquitto_pub -h 127.0.0.1 -p "$port" "${door1_login[@]}" -q 1 -t gatehouse/devices/door1/state -m "$want" ||
    fail "cannot publish door1's state on 127.0.0.1:$port"
  for url in $nodes; do
    got=""
    for _ in $(seq 100); do
      got=$(curl -s -m 10 -H "Authorization: Bearer $token" "$url/devices/door1" | jq -r '.device.reported')
      [ "$got" = "$want" ] && break
      sleep 0.2
    done
    [ "$got" = "$want" ] || fail "door1's $want published on 127.0.0.1:$port: $url says $got"
  done
done

echo "== gatehouse on NATS: the owner of door1's group stops; the next owner records what came meanwhile"
. "$ROOT/scripts/lib/cluster.sh"
GH_DIR=$DIR
. "$DIR/cluster.env"  # again: the library resets what cluster.env says (GH_GATEHOUSE_NAMES)
owner_name=""
for name in $GH_GATEHOUSE_NAMES; do
  port="GH_${name^^}_HTTP"
  code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -H "Authorization: Bearer $token" \
    -H "X-Gatehouse-Forwarded-By: cluster-test" "http://127.0.0.1:${!port}/devices/door1")
  [ "$code" = 200 ] && owner_name=$name
done
if [ -z "$owner_name" ]; then
  fail "no gatehouse node serves door1"
else
  pid=$(gh_live_pid "$owner_name")
  kill -TERM "$pid"  # a clean stop: its group sessions closed, its leases released
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  timeout 10 mosquitto_pub -h 127.0.0.1 -p "$GH_NATS1_MQTT" "${door1_login[@]}" -q 1 -t gatehouse/devices/door1/state -m UNLOCKED ||
    fail "cannot publish door1's state after $owner_name stopped"
  for name in $GH_GATEHOUSE_NAMES; do
    [ "$name" = "$owner_name" ] && continue
    port="GH_${name^^}_HTTP"
    got=""
    for _ in $(seq 150); do
      got=$(curl -s -m 10 -H "Authorization: Bearer $token" "http://127.0.0.1:${!port}/devices/door1" | jq -r '.device.reported')
      [ "$got" = UNLOCKED ] && break
      sleep 0.2
    done
    [ "$got" = UNLOCKED ] || fail "door1's state sent after $owner_name stopped: $name says $got"
  done
  echo "$owner_name stopped; door1's UNLOCKED, sent then, recorded by the next owner"
  "$DIR/$owner_name/start"
  "$ROOT/scripts/cluster-status" --dir "$DIR" --wait 60 > /dev/null || fail "not healthy after $owner_name restarted"
fi

echo "== routing: MQTT on nats1 -> session group subject on nats2"
sub() { timeout 20 mosquitto_sub -h 127.0.0.1 -u tools -P "$(cat "$GH_NATS_TOOLS_JWT")" -q 1 "$@"; }
pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -u tools -P "$(cat "$GH_NATS_TOOLS_JWT")" -q 1 "$@"; }
# The stand-in clients use the probe prefix (GH_PROBE_PREFIX), mapped as gatehouse's is but
# subscribed by no gatehouse node: a subscription overlapping a gatehouse node's session
# misses messages now and then on nats-server 2.9.10 (docs/cluster.md).
P=$GH_PROBE_PREFIX
# Persistent sessions, subscribed before anything is published: nothing can be missed.
shards=(-p "$GH_NATS2_MQTT" -i gh-test-shards -c -t "shard-group/+/$P/#")
command=(-p "$GH_NATS3_MQTT" -i gh-test-door1 -c -t "$P/devices/door1/command")
sub "${shards[@]}" -E || fail "cannot subscribe on nats2"
sub "${command[@]}" -E || fail "cannot subscribe on nats3"
pub -p "$GH_NATS1_MQTT" -t "$P/devices/door1/state" -m LOCKED || fail "cannot publish on nats1"
pub -p "$GH_NATS1_MQTT" -t "$P/devices/front-door/hello" -m '{}' || fail "cannot publish on nats1"
pub -p "$GH_NATS1_MQTT" -t "$P/devices/door1/command" -m UNLOCK || fail "cannot publish on nats1"
sub "${shards[@]}" -v -C 2 -W 15 > "$DIR/shards"
sub "${command[@]}" -v -C 1 -W 15 > "$DIR/command"
cat "$DIR/shards" "$DIR/command"
# FNV-1a-32 mod 32: door1 -> 8 (its shard 712 mod 32), front-door -> 7 (shard 295 mod 32):
# gatehouse's shard_of mod cluster.session-groups must agree.
grep -qx "shard-group/8/$P/devices/door1/state LOCKED" "$DIR/shards" || fail "door1's state did not arrive on group 8"
grep -qx "shard-group/7/$P/devices/front-door/hello {}" "$DIR/shards" || fail "front-door's hello did not arrive on group 7"
grep -qx "$P/devices/door1/command UNLOCK" "$DIR/command" || fail "a command to door1 did not keep its topic"

echo "== routing: a group owner's persistent session, resumed on another node"
owner=(-i gh-test-owner-8 -c -t "shard-group/8/$P/devices/+/+")
sub -p "$GH_NATS1_MQTT" "${owner[@]}" -E || fail "the owner cannot subscribe on nats1"
pub -p "$GH_NATS2_MQTT" -t "$P/devices/door1/state" -m UNLOCKED || fail "cannot publish on nats2"
got=$(sub -p "$GH_NATS3_MQTT" "${owner[@]}" -v -C 1 -W 10)
echo "$got"
[ "$got" = "shard-group/8/$P/devices/door1/state UNLOCKED" ] ||
  fail "the owner's session resumed on nats3 did not get what was published while it was away"

echo "== failover: PostgreSQL primary"
"$ROOT/scripts/cluster-failover" --dir "$DIR" postgres || fail "PostgreSQL failover"
echo "== failover: a NATS node"
"$ROOT/scripts/cluster-failover" --dir "$DIR" nats || fail "NATS failover"
echo "== failover: the gatehouse node serving a door"
"$ROOT/scripts/cluster-failover" --dir "$DIR" gatehouse || fail "gatehouse node failover"

echo "== chaos: a gatehouse node killed, one paused past the lease TTL, one paused briefly; doors over MQTT"
chaos_started=$(date +%s)
"$ROOT/scripts/cluster-chaos" --dir "$DIR" --events 3 --seed 1 --campaign "$CHAOS" \
  --kinds gatehouse-kill,gatehouse-pause-long,gatehouse-pause --allow-door-losses > "$DIR.chaos" 2>&1
chaos_status=$?
cat "$DIR.chaos"
echo "(the chaos run took $(($(date +%s) - chaos_started)) s)"
[ "$chaos_status" -eq 0 ] || fail "cluster-chaos exited $chaos_status"
for line in '^events: 3 of 3$' '^lost 0, unexpected 0, duplicates 0, changed 0, wrong answers 0$' \
  '^door messages lost [0-9]*, unexpected 0, ' \
  '^version gaps 0, epoch regressions 0, fenced writes without epoch 0$' \
  '^shards owned by live nodes (gh1,gh2,gh3): 1024 of 1024$' '^gatehouse-pause-long: count 1,' \
  '^gatehouse-kill: count 1,' '^long pauses that woke a zombie (shards taken meanwhile): 1 of 1$' \
  '^cluster-chaos: ok$'; do
  grep -q "$line" "$DIR.chaos" || fail "cluster-chaos did not print a line matching $line"
done
grep -Eq '^writes: [1-9][0-9]* acknowledged' "$DIR.chaos" || fail "cluster-chaos acknowledged no write"
grep -Eq '^door messages: [1-9][0-9]* acknowledged by NATS' "$DIR.chaos" || fail "no door message was acknowledged by NATS"
rm -f "$DIR.chaos"

echo "== cluster-down"
. "$ROOT/scripts/lib/cluster.sh"
GH_DIR=$DIR
pids=$(gh_leftovers | awk '{ print $1 }')
[ "$(wc -w <<<"$pids")" -ge 8 ] || fail "expected at least 8 processes before cluster-down, found: $pids"
"$ROOT/scripts/cluster-down" --dir "$DIR" --purge || fail "cluster-down"
for pid in $pids; do
  # A zombie (state Z) has ended and only waits for its parent to collect it: not running.
  state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  if [ -n "$state" ] && [ "${state#Z}" = "$state" ]; then fail "process $pid is still running: $(ps -o args= -p "$pid")"; fi
done
[ ! -e "$DIR" ] || fail "cluster-down --purge left $DIR"

[ "$FAILED" -eq 0 ] && echo "cluster: ok"
exit "$FAILED"
