#!/usr/bin/env bash
# CPU instructions per acknowledged `task.create`, in the real server and in the ceiling (issue 13),
# counted by callgrind: unlike wall-clock figures, the count does not move with the machine's other
# load, so two builds can be compared run against run.
#
#   benches/load/instructions.sh                     # both servers, release builds, 10 s of load each
#   SECONDS_OF_LOAD=20 CONNECTIONS=4 benches/load/instructions.sh
#   CLAUDEBENCH_BIN=… CEILING_BIN=… benches/load/instructions.sh   (prebuilt binaries; no cargo build)
#   KEEP=dir benches/load/instructions.sh            # keep the callgrind files (callgrind_annotate)
#
# Each server runs under `valgrind --tool=callgrind` against a private, empty redis-server (the
# real server with SQLite persistence in a temporary directory, as in redis_cost.sh). After a
# warm-up, the counters are zeroed; `wrk` drives benches/load/create_counted.lua for
# SECONDS_OF_LOAD; then 3 s more let the persister drain, and the counters are dumped. Printed:
# instructions of the whole process (every thread: HTTP, pipeline, Redis client, persister, SQLite)
# divided by the acknowledged creates. Background jobs count too; at about 20 Redis commands a
# second they are a rounding error against the load. Needs valgrind, wrk, redis-server, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/services.sh
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v valgrind >/dev/null 2>&1 || apt_install valgrind
command -v redis-server >/dev/null 2>&1 || apt_install redis-server

load=${SECONDS_OF_LOAD:-10}
connections=${CONNECTIONS:-4}

source benches/load/common.sh
dir=${KEEP:-$(mktemp -d)}
mkdir -p "$dir"
redis_pid=""
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

measure() { # server
  local name=$1 redis_port port out="$dir/$1"
  redis_port=$(free_port)
  port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --logfile "$out.redis.log" >/dev/null &
  redis_pid=$!
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if [ "$name" = ceiling ]; then
    valgrind --tool=callgrind --callgrind-out-file="$out.callgrind" \
      "$CEILING_BIN" --port "$port" --redis-url "redis://127.0.0.1:$redis_port" --prefix "ceil-$$" 2>"$out.log" &
  else
    mkdir -p "$out.data"
    env REDIS_URL="redis://127.0.0.1:$redis_port" CLAUDEBENCH_KEY_PREFIX="cost-$$" CLAUDEBENCH_DATA_DIR="$out.data" \
      RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$out.callgrind" \
      "$cb_bin" serve --port "$port" 2>"$out.log" &
  fi
  server_pid=$!
  # Under callgrind the start takes a while.
  for _ in $(seq 600); do port_open "$port" && break; sleep 0.2; done
  port_open "$port" || { echo "$name did not start:" >&2; cat "$out.log" >&2; exit 1; }
  wrk -t1 -c"$connections" -d3s -s benches/load/create_counted.lua "http://127.0.0.1:$port" >/dev/null
  sleep 2
  callgrind_control -z "$server_pid" >/dev/null
  wrk -t1 -c"$connections" -d"${load}s" -s benches/load/create_counted.lua "http://127.0.0.1:$port" >"$out.wrk"
  sleep 3
  callgrind_control -d "$server_pid" >/dev/null
  sleep 1
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  kill "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=""
  local ok ir dump
  ok=$(grep -o 'ok=[0-9]*' "$out.wrk" | head -1 | cut -d= -f2)
  dump=$(ls -t "$out.callgrind".* | head -1)
  ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  printf '%-12s %8d creates %14d instructions %9d per create   (%s)\n' "$name" "$ok" "$ir" $((ir / ok)) "$dump"
}

echo "load: wrk -t1 -c$connections -d${load}s -s benches/load/create_counted.lua, under callgrind"
measure ceiling
measure claudebench
