#!/usr/bin/env bash
# What does the create script alone cost Redis, against the ceiling's script (issue 13)? No HTTP,
# no server: `redis-benchmark` sends EVALSHA of each script to a private, quiet redis-server.
#
#   benches/load/script_cost.sh                       # 3 rounds of 100,000 calls per script
#   ROUNDS=5 CALLS=200000 benches/load/script_cost.sh
#
# Scripts, each measured on a freshly started Redis, in alternating order between rounds:
#   - ceiling: the script of benches/ceiling/main.rs (INCR, HSET, ZADD, XADD);
#   - create: lua/task_create.lua behind its preludes, as the server sends it, without a rate limit;
#   - create + limit: the same with the caller's limit checked in the script (a new caller each
#     call, as in redis_cost.sh: the limiter's key is created every time).
# Prints, per script and round, the Redis process CPU time per call (used_cpu_sys + used_cpu_user)
# and commandstats' usec_per_call of EVALSHA, then each script's median and its ratio to the
# ceiling's median. Needs redis-server, redis-benchmark, redis-cli and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-3}
calls=${CALLS:-100000}
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

cat lua/lib/publish.lua lua/lib/task_keys.lua lua/lib/gcra.lua lua/task_create.lua >"$dir/create.lua"
python3 - "$dir/ceiling.lua" <<'PY'
import sys
source = open("benches/ceiling/main.rs").read()
open(sys.argv[1], "w").write(source.split('const CREATE: &str = r#"', 1)[1].split('"#;', 1)[0])
PY

rcli() { redis-cli -p "$port" "$@"; }
cpu() { rcli info cpu | awk -F: '/used_cpu_(sys|user):/ {s += $2} END {printf "%.6f", s}'; }
tag='{cb:0:0}'
keys="$tag:tasks:pending $tag:tasks:status:pending $tag:tasks:status:in_progress $tag:tasks:status:completed"
keys="$keys $tag:tasks:status:failed $tag:epoch $tag:tasks:finished $tag:tasks:seq $tag:tasks:seq:limit"
keys="$keys $tag:stream:task.created"
iso=2026-12-01T03:00:00.000Z
tail='"text":"a task to do","status":"pending","priority":50,"assignedTo":null,"createdAt":"'$iso'","updatedAt":"'$iso'"'
args=(0 1 '"a task to do"' 50 1764558000000 "$iso" cb:events:task.created '' "$tail}" "$tail,\"version\":1}")

measure() { # round name
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile "$dir/redis.log" >/dev/null
  for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
  local sha
  case $2 in
    ceiling) sha=$(rcli script load "$(cat "$dir/ceiling.lua")") ;;
    *) sha=$(rcli script load "$(cat "$dir/create.lua")"); rcli set "$tag:epoch" 1 >/dev/null ;;
  esac
  rcli config resetstat >/dev/null
  local before after
  before=$(cpu)
  case $2 in
    ceiling) redis-benchmark -p "$port" -n "$calls" -c 8 -P 8 -q EVALSHA "$sha" 3 c:seq c:pending c:stream \
      c:task: "a task to do" 50 "$iso" '' ",$tail}" 1764558000000 >/dev/null ;;
    create) redis-benchmark -p "$port" -n "$calls" -c 8 -P 8 -q EVALSHA "$sha" 10 $keys "${args[@]}" >/dev/null ;;
    limited) redis-benchmark -p "$port" -n "$calls" -c 8 -P 8 -q -r 100000000 EVALSHA "$sha" 11 $keys \
      "$tag:ratelimit:task.create:client:__rand_int__" "${args[@]}" 1000000000 60000 >/dev/null ;;
  esac
  after=$(cpu)
  local usec
  usec=$(rcli info commandstats | sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p')
  local failed
  failed=$(rcli info commandstats | sed -n 's/^cmdstat_evalsha:.*failed_calls=\([0-9]*\).*/\1/p')
  [ "${failed:-0}" = 0 ] || { echo "$2: $failed calls failed" >&2; exit 1; }
  echo "$1 $2 $(python3 -c "print(round(($after - $before) * 1e6 / $calls, 2))") $usec" | tee -a "$dir/results"
  rcli shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 50); do rcli ping >/dev/null 2>&1 || break; sleep 0.1; done
}

echo "round script cpu_us_per_call evalsha_usec_per_call"
for round in $(seq "$rounds"); do
  order="ceiling create limited"
  [ $((round % 2)) = 1 ] || order="limited create ceiling"
  for name in $order; do measure "$round" "$name"; done
done
python3 - "$dir/results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
median = {name: statistics.median(float(r[2]) for r in rows if r[1] == name) for name in ("ceiling", "create", "limited")}
for name, label in (("ceiling", "ceiling"), ("create", "create"), ("limited", "create + limit")):
    print(f"{label:15} median {median[name]:6.2f} µs Redis CPU per call   {median[name] / median['ceiling']:.2f}× the ceiling")
PY
