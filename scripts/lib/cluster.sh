# Shared by scripts/cluster-up, cluster-down, cluster-status, cluster-failover and
# cluster-chaos: the proof
# environment of cluster mode (docs/cluster.md, "Running the proof environment"). Sourced,
# not run. Every daemon lives under one state directory; its layout:
#   cluster.env          ports, user, connection strings (sourced by the other scripts)
#   secrets/             PostgreSQL passwords and the pgpass file of the scripts' own clients
#   etcd{1,2,3}/         data, log, pid, start
#   pg{1,2}/             patroni.yml, data/, log, pid, start (Patroni, which runs PostgreSQL)
#   nats{1,2,3}/         nats.conf, jetstream/, log, pid, start
#   gh{1,2,3}/           store/, run/ (its private broker), log, pid, start (gatehouse nodes)
# `start` is the command that (re)starts that one daemon in the background and records its pid.

GH_PG_BIN=/usr/lib/postgresql/15/bin
GH_ETCD_NAMES="etcd1 etcd2 etcd3"
GH_PG_NAMES="pg1 pg2"
GH_NATS_NAMES="nats1 nats2 nats3"
GH_ALL_NAMES="$GH_ETCD_NAMES $GH_PG_NAMES $GH_NATS_NAMES"
GH_GATEHOUSE_NAMES=""  # cluster.env says which gatehouse nodes cluster-up started

gh_die() {
  echo "$GH_SCRIPT: $*" >&2
  exit 1
}

gh_default_dir() {
  echo "${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/gatehouse-cluster"
}

# Loads cluster.env of the state directory $1, or says why it cannot.
gh_load() {
  [ -f "$1/cluster.env" ] || gh_die "no cluster in $1 (no cluster.env): start one with scripts/cluster-up --dir $1"
  # shellcheck disable=SC1091
  . "$1/cluster.env"
}

# The pid a daemon recorded, if that process still runs.
gh_live_pid() {
  local pid
  pid=$(cat "$GH_DIR/$1/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# The postmaster of a PostgreSQL data directory, if it still runs (Patroni may be gone).
gh_postmaster_pid() {
  local pid
  pid=$(head -n 1 "$GH_DIR/$1/data/postmaster.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Every process of the cluster still alive: each daemon was started in a session of its own
# (setsid), so it and everything it started share its session id; a PostgreSQL that outlived
# its Patroni is found by its postmaster.pid, and its children by their parent. A recorded
# pid counts only while its command line names the state directory (never a reused pid).
gh_leftovers() {
  local name pid pids=""
  for name in $GH_ALL_NAMES $GH_GATEHOUSE_NAMES; do
    pid=$(cat "$GH_DIR/$name/pid" 2>/dev/null) && [ -n "$pid" ] && pids="$pids $pid"
    pid=$(head -n 1 "$GH_DIR/$name/data/postmaster.pid" 2>/dev/null) && [ -n "$pid" ] && pids="$pids $pid"
  done
  [ -n "$pids" ] || return 0
  ps -e -o pid=,ppid=,sid=,args= | awk -v pids="$pids" -v dir="$GH_DIR" '
    BEGIN { n = split(pids, p, " "); for (i = 1; i <= n; i++) candidate[p[i]] = 1 }
    { line[NR] = $0; pid[NR] = $1; ppid[NR] = $2; sid[NR] = $3
      if (($1 in candidate) && index($0, dir) > 0) ours[$1] = 1 }
    END { for (i = 1; i <= NR; i++)
            if ((pid[i] in ours) || (ppid[i] in ours) || (sid[i] in ours)) print line[i] }'
}

gh_etcd_endpoints() {
  echo "127.0.0.1:$GH_ETCD1_CLIENT,127.0.0.1:$GH_ETCD2_CLIENT,127.0.0.1:$GH_ETCD3_CLIENT"
}

gh_etcdctl() {
  ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=3s "$@"
}

# Patroni's view of the cluster (GET /cluster) from the first member whose REST API answers.
gh_patroni_cluster() {
  local port
  for port in $GH_PG1_API $GH_PG2_API; do
    curl -sf -m 2 "http://127.0.0.1:$port/cluster" && return 0
  done
  return 1
}

# A gatehouse node's metric (name $2, without labels) from its /metrics (open on loopback).
gh_node_metric() {
  local port="GH_${1^^}_HTTP"
  curl -sf -m 2 "http://127.0.0.1:${!port}/metrics" | awk -v m="$2" '$1 == m { print $2; exit }'
}

# psql as PostgreSQL's superuser on one member (port $1), with the scripts' own pgpass.
gh_psql_super() {
  local port=$1
  shift
  PGPASSFILE="$GH_DIR/secrets/pgpass" PGCONNECT_TIMEOUT=2 \
    psql -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

# --- shared by cluster-failover and cluster-chaos ------------------------------------------

GH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

gh_now() { date +%s.%N; }
# Seconds from $1 to $2 (both gh_now), with two decimals.
gh_seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# gh_wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails at the end.
gh_wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# The name of the Patroni member with role $1 (leader, sync_standby), if any.
gh_patroni_member() {
  gh_patroni_cluster | jq -r --arg role "$1" '.members[] | select(.role == $role) | .name' | head -n 1
}

# Starts daemon $1 again with its start script and waits up to $2 seconds for the whole
# cluster to be healthy (cluster-status); sets GH_HEALTHY_AFTER to the seconds that took.
# Fails, printing cluster-status, when it is not healthy in time.
gh_restart_and_wait() {
  local started
  started=$(gh_now)
  "$GH_DIR/$1/start"
  gh_wait_healthy "$2" || return 1
  # shellcheck disable=SC2034  # the caller reads it
  GH_HEALTHY_AFTER=$(gh_seconds "$started" "$(gh_now)")
}

# Waits up to $1 seconds for the whole cluster to be healthy; prints cluster-status and fails
# when it is not.
gh_wait_healthy() {
  local report
  report=$("$GH_LIB_DIR/../cluster-status" --dir "$GH_DIR" --wait "$1") || { echo "$report"; return 1; }
}
