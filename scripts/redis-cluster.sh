#!/usr/bin/env bash
# A local Redis Cluster of three masters (no replicas), for tests and benchmarks that need one.
#
#   scripts/redis-cluster.sh start [DIR]   start it under DIR (default: a new temp dir); prints
#                                          REDIS_CLUSTER_NODES=127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3
#                                          and CLUSTER_DIR=DIR on stdout, progress on stderr
#   scripts/redis-cluster.sh stop DIR      stop the nodes started under DIR and remove DIR
#   scripts/redis-cluster.sh check DIR     exit 0 when the cluster under DIR is up with every slot served
#
# Ports are free ones picked at start (never 6379), data is in memory only, and nothing outlives
# `stop`. The slots are split evenly by `redis-cli --cluster create`.
set -euo pipefail
source "$(dirname "$0")/services.sh"

# A free port whose cluster bus port (port + 10000) is free and valid too.
free_port() {
  python3 - <<'PY'
import random, socket
while True:
    port = random.randint(20000, 55000)
    try:
        for p in (port, port + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", p)); s.close()
    except OSError:
        continue
    print(port)
    break
PY
}

start() {
  local dir=${1:-$(mktemp -d -t cb-cluster-XXXXXX)}
  mkdir -p "$dir"
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  local ports=() nodes=()
  for i in 1 2 3; do
    local port
    port=$(free_port)
    mkdir -p "$dir/$port"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir/$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --save "" --appendonly no --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log"
    wait_for_port "$port" "cluster node $i" || { stop "$dir"; return 1; }
    ports+=("$port"); nodes+=("127.0.0.1:$port")
  done
  log "creating a 3-master cluster on ${nodes[*]}"
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; stop "$dir"; return 1; }
  printf '%s\n' "${ports[@]}" >"$dir/ports"
  for _ in $(seq 100); do check "$dir" && break; sleep 0.1; done
  check "$dir" || { log "the cluster did not come up"; stop "$dir"; return 1; }
  local joined
  joined=$(IFS=,; echo "${nodes[*]}")
  echo "REDIS_CLUSTER_NODES=$joined"
  echo "CLUSTER_DIR=$dir"
}

# Every node must see the whole cluster up: right after `create` one node may say ok while
# another still answers CLUSTERDOWN.
check() {
  local dir=${1:?cluster dir}
  [ -s "$dir/ports" ] || return 1
  local port info
  while read -r port; do
    info=$(redis-cli -p "$port" cluster info 2>/dev/null) || return 1
    grep -q '^cluster_state:ok' <<<"$info" && grep -q '^cluster_slots_ok:16384' <<<"$info" || return 1
  done <"$dir/ports"
}

stop() {
  local dir=${1:?cluster dir}
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 0.2
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  check) check "${2:-}" ;;
  *) echo "usage: $0 start [DIR] | stop DIR | check DIR" >&2; exit 2 ;;
esac
