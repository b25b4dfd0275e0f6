#!/bin/sh
# The Debian package as an operator gets it: CPack builds it from the build tree; apt-get
# resolves its dependencies against this Debian 12 machine (`apt-get install --simulate`);
# `dpkg -i` installs it -- dependency check against the machine's real package database,
# unpack, conffiles, configure -- into a temporary root holding a copy of that database
# (`--root`), so the test needs no systemd and leaves the machine
# as it was; and the installed gatehouse -- with the installed broker plugin, sandbox helper
# and example config -- starts, answers /healthz, and locks a provisioned door played by
# mosquitto's own clients. Finally `dpkg -r` removes it and keeps the edited conffile.
# dpkg writes files owned by root: run as root (CI containers) or under fakeroot.
#   tests/package/package_test.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "package test: $*" >&2; [ -f "$tmp/out" ] && cat "$tmp/out" "$tmp/err" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(ls "$tmp"/pkg/gatehouse_*.deb) || fail "no .deb built"
dpkg-deb -f "$deb" Depends | grep -q mosquitto || fail "the package does not depend on mosquitto"
dpkg-deb -f "$deb" Depends | grep -q libcaf || fail "shared library dependencies missing"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/gatehouse/gatehouse.ini ||
  fail "the example config is not a conffile"
# Every dependency resolves on this machine (installed, or installable from its apt sources).
apt-get install --simulate --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 ||
  { cat "$tmp/apt.log"; fail "apt-get cannot resolve the package's dependencies"; }
grep -q '^Inst gatehouse ' "$tmp/apt.log" || { cat "$tmp/apt.log"; fail "apt-get would not install gatehouse"; }
root="$tmp/root"
admin="$root/var/lib/dpkg"  # dpkg wants its database inside the directory it installs into
mkdir -p "$root" "$admin/updates" "$admin/info"
# The machine's package database, copied: dpkg checks Depends against what is really installed.
cp /var/lib/dpkg/status "$admin/status"
asroot=""
[ "$(id -u)" = 0 ] || asroot=fakeroot
# The maintainer scripts (CPack's postinst/postrm: `ldconfig` for the broker plugin) run outside
# the root, which has no shell to chroot into; ldconfig only refreshes the machine's cache.
dpkg_tmp() {
  $asroot dpkg --root="$root" --force-script-chrootless --log="$tmp/dpkg.log" "$@"
}
dpkg_tmp -i "$deb" >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -i failed"; }
dpkg-query --admindir="$admin" -W -f='${Status}' gatehouse | grep -qx 'install ok installed' ||
  fail "dpkg does not record gatehouse as installed"
for f in usr/bin/gatehouse usr/bin/gatehousectl usr/bin/gatehouse-lua-sandbox \
         usr/lib/gatehouse/gatehouse_auth.so usr/lib/systemd/system/gatehouse.service \
         etc/gatehouse/gatehouse.ini usr/share/doc/gatehouse/README.md \
         usr/share/doc/gatehouse/docs/operations.md; do
  [ -f "$root/$f" ] || fail "$f is not in the package"
done
unit="$root/usr/lib/systemd/system/gatehouse.service"
grep -qx 'Type=notify' "$unit" || fail "the unit is not Type=notify"
grep -q '^ExecStart=/usr/bin/gatehouse --config-file=/etc/gatehouse/gatehouse.ini$' "$unit" ||
  fail "the unit does not start /usr/bin/gatehouse with /etc/gatehouse/gatehouse.ini"

gh="$root/usr/bin/gatehouse"
"$gh" --version | grep -q '^gatehouse [0-9]' || fail "--version"
# The example config is valid as shipped.
"$gh" --config-file="$root/etc/gatehouse/gatehouse.ini" --dump-config >"$tmp/dump" ||
  fail "the example config is refused: $(cat "$tmp/dump")"
grep -qx 'port=1884' "$tmp/dump" || fail "--dump-config does not show the example's mqtt.port"

mkdir "$tmp/run"
cd "$tmp/run"
# systemd's side of Type=notify: a datagram socket named by NOTIFY_SOCKET gets READY=1.
python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(120)
open(sys.argv[2], "w").write(s.recv(4096).decode())' "$tmp/notify" "$tmp/notified" &
notify=$!
while [ ! -S "$tmp/notify" ]; do sleep 0.05; done
NOTIFY_SOCKET="$tmp/notify" "$gh" --config-file="$root/etc/gatehouse/gatehouse.ini" \
  --http.port=0 --mqtt.port=0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
# Until the banner's last line (or the process ends).
while ! grep -q 'Ctrl-C stops cleanly' "$tmp/out"; do
  kill -0 "$pid" 2>/dev/null || fail "the installed gatehouse did not start"
  sleep 0.1
done
http=$(sed -n 's/^  http  *\(http:[^ ]*\).*/\1/p' "$tmp/out")
mqtt_port=$(sed -n 's/^  broker  *tcp:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/out")
token=$(sed -n 's/.*admin = \([0-9a-f]*\).*/\1/p' "$tmp/out")
[ -n "$http" ] && [ -n "$mqtt_port" ] && [ -n "$token" ] || fail "banner"
grep -q "plugin $root/usr/lib/gatehouse/gatehouse_auth.so" "$tmp"/run/run/mosquitto/*.conf ||
  fail "the private broker does not load the installed plugin"

wait "$notify" || fail "no sd_notify message"
grep -q 'READY=1' "$tmp/notified" || fail "sd_notify sent $(cat "$tmp/notified"), not READY=1"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$http/healthz")" = 200 ] || fail "/healthz"
auth="Authorization: Bearer $token"
secret=$(curl -s -X POST -H "$auth" -H 'Content-Type: application/json' \
  -d '{"id":"door1","type":"lock"}' "$http/devices" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["credential"]["secret"])') ||
  fail "provisioning door1"
door="-p $mqtt_port -u door1 -P $secret -i door1"
mosquitto_pub $door -q 1 -t gatehouse/devices/door1/hello -m '{"type":"lock"}'
# A persistent session subscribed before the command (-E: exit once the broker acknowledged
# the subscription), so the broker keeps the LOCK for the door until it reads it below.
mosquitto_sub $door -c -q 1 -t gatehouse/devices/door1/command -E || fail "the door cannot subscribe"
curl -s -X POST -d '' -H "$auth" "$http/devices/door1/lock?wait=10" >"$tmp/lock" &
lock=$!
# Its commands one at a time, until LOCK: a GET (gatehouse asking a door that said hello for
# its state) may come first when the server is slow to answer the hello.
for attempt in 1 2 3; do
  mosquitto_sub $door -c -q 1 -t gatehouse/devices/door1/command -C 1 -W 30 >"$tmp/command" ||
    fail "the door received no command"
  [ "$(cat "$tmp/command")" = GET ] || break
done
grep -qx LOCK "$tmp/command" || fail "the door received $(cat "$tmp/command"), not LOCK"
mosquitto_pub $door -q 1 -t gatehouse/devices/door1/state -m LOCKED
wait "$lock"
grep -q '"status":"confirmed"' "$tmp/lock" || fail "the lock was not confirmed: $(cat "$tmp/lock")"

kill -TERM "$pid"
wait "$pid" || fail "gatehouse did not stop cleanly"
pid=""
grep -q 'stopped cleanly' "$tmp/err" || fail "no 'stopped cleanly' in the log"

# Removal takes the files and keeps the operator's configuration (a conffile), as dpkg -r does.
echo '# edited by the operator' >>"$root/etc/gatehouse/gatehouse.ini"
dpkg_tmp -r gatehouse >"$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -r failed"; }
[ ! -e "$root/usr/bin/gatehouse" ] || fail "dpkg -r left /usr/bin/gatehouse"
grep -q 'edited by the operator' "$root/etc/gatehouse/gatehouse.ini" ||
  fail "dpkg -r did not keep the edited conffile"
echo "package test: ok ($(basename "$deb"))"
