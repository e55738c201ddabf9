#!/usr/bin/env bash
# What does one `task.create` cost Redis, in the real server and in the ceiling (issue 13)?
#
#   benches/load/redis_cost.sh
#   ROUNDS=2 DURATION=6s CONNECTIONS=50 THREADS=2 IDLE_SECONDS=5 benches/load/redis_cost.sh   (the defaults)
#   CLAUDEBENCH_BIN=… CEILING_BIN=… benches/load/redis_cost.sh   (prebuilt binaries; no cargo build)
#   BASELINE_BIN=path/to/older/claudebench benches/load/redis_cost.sh   (a third server, `baseline`:
#     another build of claudebench measured in the same rounds, for before → after figures)
#
# Starts a private redis-server on a free port (no persistence) and measures, in ROUNDS rounds,
# each of two (or, with BASELINE_BIN, three) servers in turn (the order alternates between rounds:
# ceiling first in odd rounds, last in even ones), each against a freshly started, empty Redis:
#   - ceiling: benches/ceiling (one EVALSHA per create: INCR, HSET, ZADD, XADD);
#   - claudebench: the release `claudebench serve`, SQLite persistence in a temporary directory,
#     its own key prefix, the full pipeline (per-caller rate limit, create, publish, persister).
# For each run: a 1 s warm-up at the same concurrency, then `wrk -t2 -c50 -d6s` with
# benches/load/create_counted.lua (a fresh X-Client-Id per request, so the per-caller rate limit
# runs but never refuses) between two samples of the Redis process's `INFO cpu` (used_cpu_sys +
# used_cpu_user) and `INFO commandstats`. For claudebench, each sample is taken once /health's
# outboxLag is 0 (the persister has drained), so its share of the cost is counted. Then an idle
# phase: IDLE_SECONDS with the server idle, the Redis commands it causes per second.
# Prints, per run and then per round: µs of Redis CPU per acknowledged (2xx) create, requests/s
# (2xx per second) and p99, the ratios claudebench/ceiling, the idle commands/s by command, and
# the Redis time by command per create (commandstats usec; note that an EVAL/EVALSHA's usec
# includes the commands its script calls, which are also counted under their own names).
# Needs wrk (installed with apt-get when missing), redis-server, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/services.sh
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v redis-server >/dev/null 2>&1 || apt_install redis-server

rounds=${ROUNDS:-2}
duration=${DURATION:-6s}
connections=${CONNECTIONS:-50}
threads=${THREADS:-2}
idle=${IDLE_SECONDS:-5}

source benches/load/common.sh
baseline_bin=${BASELINE_BIN:-}
servers="ceiling claudebench${baseline_bin:+ baseline}"

dir=$(mktemp -d)
redis_port=$(free_port)
redis_pid=""
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
rcli() { redis-cli -p "$redis_port" "$@"; }

start_redis() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --logfile "$dir/redis.log" >/dev/null &
  redis_pid=$!
  for _ in $(seq 100); do rcli ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the private redis-server did not start (see $dir/redis.log)" >&2
  exit 1
}
stop() { # pid variable name
  local pid=${!1}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  printf -v "$1" '%s' ""
}

# Waits (at most 60 s) until the server has nothing left to persist; the ceiling has no persister.
drain() {
  local name=$1 port=$2
  [ "$name" != ceiling ] || return 0
  for _ in $(seq 240); do
    lag=$(curl -s "127.0.0.1:$port/health" | python3 -c 'import sys, json; print(json.load(sys.stdin)["outboxLag"])' || echo "?")
    [ "$lag" = 0 ] && return 0
    sleep 0.25
  done
  echo "warning: $name's outbox did not drain within 60 s (lag $lag)" >&2
}

sample() { rcli info cpu commandstats >"$1"; date +%s.%N >>"$1"; }

run() { # round server
  local round=$1 name=$2 port out="$dir/r$1-$2"
  port=$(free_port)
  start_redis
  if [ "$name" = ceiling ]; then
    "$ceiling_bin" --port "$port" --redis-url "redis://127.0.0.1:$redis_port" --prefix "ceil-$$" 2>"$out.log" &
    server_pid=$!
    for _ in $(seq 100); do port_open "$port" && break; sleep 0.1; done
  else
    local bin=$cb_bin
    [ "$name" = claudebench ] || bin=$baseline_bin
    mkdir -p "$out.data"
    env REDIS_URL="redis://127.0.0.1:$redis_port" CLAUDEBENCH_KEY_PREFIX="cost-$$" CLAUDEBENCH_DATA_DIR="$out.data" \
      RUST_LOG=warn "$bin" serve --port "$port" 2>"$out.log" &
    server_pid=$!
    for _ in $(seq 100); do curl -sf "127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  fi
  port_open "$port" || { echo "$name did not start:" >&2; cat "$out.log" >&2; exit 1; }
  wrk -t"$threads" -c"$connections" -d1s -s benches/load/create_counted.lua "http://127.0.0.1:$port" >/dev/null
  drain "$name" "$port"
  sample "$out.before"
  wrk -t"$threads" -c"$connections" -d"$duration" -s benches/load/create_counted.lua "http://127.0.0.1:$port" \
    >"$out.wrk"
  drain "$name" "$port"
  sample "$out.after"
  sleep "$idle"
  sample "$out.idle"
  stop server_pid
  stop redis_pid
  echo "round $round, $name: $(grep '^RESULT' "$out.wrk")"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ {print $2}') GiB; $(redis-server --version | cut -d' ' -f1-3)"
echo "load: wrk -t$threads -c$connections -d$duration -s benches/load/create_counted.lua, $rounds rounds, idle ${idle}s"
for round in $(seq "$rounds"); do
  if [ $((round % 2)) = 1 ]; then order=$servers; else order=$(echo "$servers" | tr ' ' '\n' | tac | tr '\n' ' '); fi
  for name in $order; do run "$round" "$name"; done
done

python3 - "$dir" "$rounds" $servers <<'PY'
import re, sys

dir, rounds = sys.argv[1], int(sys.argv[2])
SERVERS = tuple(sys.argv[3:])

def info(path):
    text = open(path).read().split("\n")
    cpu = sum(float(l.split(":")[1]) for l in text if l.startswith(("used_cpu_sys:", "used_cpu_user:")))
    cmds = {}
    for l in text:
        m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", l)
        if m:
            cmds[m[1]] = (int(m[2]), int(m[3]))
    return cpu, cmds, float(text[-2] if text[-1] == "" else text[-1])

def delta(a, b):
    keys = set(a) | set(b)
    d = {k: (b.get(k, (0, 0))[0] - a.get(k, (0, 0))[0], b.get(k, (0, 0))[1] - a.get(k, (0, 0))[1]) for k in keys}
    # The samples' own INFO calls are not the server's.
    d.pop("info", None)
    return {k: v for k, v in d.items() if v[0] > 0}

runs, totals = {}, {s: {} for s in SERVERS}
for r in range(1, rounds + 1):
    for s in SERVERS:
        p = f"{dir}/r{r}-{s}"
        res = dict(kv.split("=") for kv in open(p + ".wrk").read().split("RESULT ")[1].split())
        cpu0, c0, _ = info(p + ".before")
        cpu1, c1, t1 = info(p + ".after")
        cpu2, c2, t2 = info(p + ".idle")
        ok = int(res["ok"])
        load = delta(c0, c1)
        for k, (calls, usec) in load.items():
            t = totals[s].setdefault(k, [0, 0, 0])
            t[0] += calls; t[1] += usec
        totals[s].setdefault("_ok", [0, 0, 0])[0] += ok
        totals[s].setdefault("_cpu", [0, 0, 0])[1] += (cpu1 - cpu0) * 1e6
        runs[r, s] = dict(
            ok=ok, errors=int(res["non2xx"]) + int(res["errors"]), rps=float(res["ok_per_s"]),
            p99=int(res["p99_us"]) / 1000, us=(cpu1 - cpu0) * 1e6 / max(ok, 1),
            cmd_us=sum(u for _, u in load.values()) / max(ok, 1),
            idle_secs=t2 - t1, idle_cpu=(cpu2 - cpu1) * 1e3 / (t2 - t1),
            idle=delta(c1, c2))

print()
print("Redis CPU per acknowledged create (used_cpu_sys + used_cpu_user, whole run incl. the persister draining)")
print(f"{'round':>5} {'server':<12} {'acked':>7} {'refused':>7} {'µs/create':>10} {'req/s':>8} {'p99 ms':>7}")
for r in range(1, rounds + 1):
    for s in SERVERS:
        x = runs[r, s]
        print(f"{r:>5} {s:<12} {x['ok']:>7} {x['errors']:>7} {x['us']:>10.1f} {x['rps']:>8.0f} {x['p99']:>7.2f}")
    b = runs[r, "ceiling"]
    for s in SERVERS[1:]:
        a = runs[r, s]
        print(f"{r:>5} {'ratio':<12} {'':>7} {'':>7} {a['us'] / b['us']:>9.2f}× {a['rps'] / b['rps']:>7.2f}× "
              f"{a['p99'] / b['p99']:>6.2f}×   ({s} / ceiling)")

print()
print("Idle: Redis commands per second caused by the idle server (INFO commandstats deltas)")
for r in range(1, rounds + 1):
    for s in SERVERS:
        x = runs[r, s]
        total = sum(c for c, _ in x["idle"].values()) / x["idle_secs"]
        parts = ", ".join(f"{k} {c / x['idle_secs']:.1f}" for k, (c, _) in
                          sorted(x["idle"].items(), key=lambda kv: -kv[1][0]))
        print(f"round {r}, {s}: {total:.1f}/s, Redis CPU {x['idle_cpu']:.1f} ms/s" + (f" ({parts})" if parts else ""))

print()
print("Redis time by command per acknowledged create, all rounds (commandstats: calls and usec per create).")
print("usec is time inside the command, wall clock (on a busy machine it includes preemption); an")
print("EVALSHA's usec includes the commands its script calls, which also appear under their own names.")
per = {s: {k: (v[0] / totals[s]["_ok"][0], v[1] / totals[s]["_ok"][0])
           for k, v in totals[s].items() if not k.startswith("_")} for s in SERVERS}
names = sorted({k for s in SERVERS for k in per[s]}, key=lambda k: -max(per[s].get(k, (0, 0))[1] for s in SERVERS))
shown = [k for k in names if max(per[s].get(k, (0, 0))[0] for s in SERVERS) >= 0.001]
print(f"{'command':<20}" + "".join(f"{s + ' calls':>18}{s + ' µs':>16}" for s in SERVERS))
for k in shown:
    row = f"{k:<20}"
    for s in SERVERS:
        calls, usec = per[s].get(k, (0, 0))
        row += f"{calls:>18.3f}{usec:>16.2f}" if calls else f"{'':>18}{'':>16}"
    print(row)
row = f"{'EVALSHA − the rest':<20}"
for s in SERVERS:
    rest = sum(u for k, (_, u) in per[s].items() if k not in ("evalsha", "eval"))
    row += f"{'':>18}{per[s].get('evalsha', (0, 0))[1] - rest:>16.2f}"
print(row + "   (≈ the scripts' own Lua time)")
row = f"{'Redis CPU, all':<20}"
for s in SERVERS:
    row += f"{'':>18}{totals[s]['_cpu'][1] / totals[s]['_ok'][0]:>16.2f}"
print(row)
if len(shown) < len(names):
    print(f"({len(names) - len(shown)} commands under 0.001 calls per create left out: {', '.join(k for k in names if k not in shown)})")
PY
