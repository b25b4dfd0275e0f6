#!/bin/sh
# Measures the chat account attacks of docs/security.md ("Chat and accounts") against a real
# gatehouse with its default settings (Argon2id 19 MiB, t=2; one hashing thread; the default
# guessing limits), a private mosquitto and the legacy topics on.
#
#   docs/measure_chat_accounts.sh [build/server/gatehouse]
#
# Needs curl, jq, mosquitto_pub/mosquitto_sub, and 127.0.0.2 on the loopback interface (Linux
# routes all of 127/8 there): the "attacker" uses 127.0.0.2, the owner 127.0.0.1.
set -eu
gatehouse=${1:-build/server/gatehouse}
work=$(mktemp -d /tmp/gh-measure.XXXXXX)
http_port=${HTTP_PORT:-18480}
api=http://127.0.0.1:$http_port/api
json='Content-Type: application/json'

"$gatehouse" --store.path="$work/store" --store.run-dir="$work/run" \
  --http.port="$http_port" --auth.bootstrap-token=off --legacy=on >"$work/out.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q "gatehouse is up" "$work/out.log" 2>/dev/null && break
  sleep 0.1
done
broker_port=$(sed -n 's/.*broker *tcp:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/out.log")
[ -n "$broker_port" ] || { cat "$work/out.log"; exit 1; }

register() {  # name password
  curl -s -o /dev/null -X POST -H "$json" -d "{\"name\":\"$1\",\"password\":\"$2\"}" "$api/users"
}
login() {  # from name password -> "status seconds"
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --interface "$1" -X POST -H "$json" \
    -d "{\"name\":\"$2\",\"password\":\"$3\"}" "$api/sessions"
}
register alice alice-password
register bob bob-password

echo "== 1. 1500 anonymous chat/login over MQTT (one client), then an HTTP login"
mosquitto_sub -p "$broker_port" -q 1 -t 'gatehouse/inbox/evil/#' -C 1500 -W 30 >"$work/replies" &
sub=$!
sleep 0.3
seq 1500 | awk '{printf "{\"id\":%d,\"reply_to\":\"gatehouse/inbox/evil/r\",\"name\":\"alice\",\"password\":\"wrong-password\"}\n", $1}' |
  mosquitto_pub -p "$broker_port" -q 1 -t gatehouse/chat/login -l
echo "owner's HTTP login (status, seconds): $(login 127.0.0.1 alice alice-password)"
wait $sub || true
echo "flood replies received by error code (mosquitto_sub may miss some under load):"
jq -r '.error.code // "ok"' "$work/replies" | sort | uniq -c
echo "server counters:"
curl -s "http://127.0.0.1:$http_port/metrics" |
  grep -E '^gatehouse_chat_(password_hashes_total|attempts_throttled_total|hashes_refused_total|logins_ok_total)'

echo "== 2. 400 parallel HTTP logins from 127.0.0.2, a real one from 127.0.0.1 meanwhile"
sleep 2  # let the owner's address and alice's account buckets refill a little
seq 400 | xargs -P 400 -I{} curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.2 \
  -X POST -H "$json" -d '{"name":"bob","password":"wrong-password"}' "$api/sessions" \
  >"$work/flood_http" &
flood=$!
sleep 0.2
echo "owner's HTTP login (status, seconds): $(login 127.0.0.1 bob bob-password)"
wait $flood
echo "flood answers by status:"; sort "$work/flood_http" | uniq -c

echo "== 3. five wrong passwords from 127.0.0.4, then the right one from each address"
register carol carol-password
for _ in 1 2 3 4 5; do login 127.0.0.4 carol wrong-password; done | awk '{print "wrong:", $1}'
echo "right password from 127.0.0.4: $(login 127.0.0.4 carol carol-password)"
echo "right password from 127.0.0.1: $(login 127.0.0.1 carol carol-password)"

echo "== 4. legacy set_security_question for a user registered over HTTP (the takeover)"
# Long wait: these requests queue behind what is left of the MQTT flood of 1.
mosquitto_sub -p "$broker_port" -t evilreply -C 2 -W 60 >"$work/legacy" &
sub=$!
sleep 0.3
mosquitto_pub -p "$broker_port" -t set_security_question \
  -m "{'userName': 'bob', 'question': 'Mine?', 'answer': 'x', 'returnTopic': 'evilreply'}"
mosquitto_pub -p "$broker_port" -t verify_security_answer \
  -m "{'userName': 'bob', 'answer': 'x', 'newPassword': 'taken-over', 'returnTopic': 'evilreply'}"
wait $sub || true
cat "$work/legacy"
echo "bob's own password still works: $(login 127.0.0.1 bob bob-password)"

echo "== 5. answers and timing for an unknown user (15 logins each, interleaved, each from its own address)"
for i in $(seq 15); do
  echo "alice $(login "127.0.2.$i" alice wrong-password)"
  echo "nobody $(login "127.0.3.$i" nobody wrong-password)"
done | sort -k1,1 -k3,3n | awk '
  { n[$1]++; c[$1, $2]++; t[$1, n[$1]] = $3; sum[$1] += $3 }
  END { for (w in n) printf "%s: %d x 401 of %d; mean %.1f ms, median %.1f ms\n", w, c[w, 401], n[w], 1000 * sum[w] / n[w], 1000 * t[w, int((n[w] + 1) / 2)] }'
for who in alice nobody; do
  echo "reset $who: $(curl -s -X POST -H "$json" -d '{"answer":"x","new_password":"new-password"}' \
    -w ' %{http_code}' "$api/users/$who/password-reset")"
  echo "question $who: $(curl -s -w ' %{http_code}' "$api/users/$who/security-question")"
done
