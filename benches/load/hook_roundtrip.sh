#!/usr/bin/env bash
# How long one Claude Code hook takes to be answered (issue 14): over HTTP (`POST
# /hooks/claude-code`, a new connection per hook, as Claude Code's HTTP hooks make them) and through
# the command bridge (`claudebench hook`, one process per hook, reading the input on stdin).
#
#   benches/load/hook_roundtrip.sh                 # 300 calls of each kind, release build
#   CALLS=1000 benches/load/hook_roundtrip.sh
#   CLAUDEBENCH_BIN=path/to/claudebench benches/load/hook_roundtrip.sh   (prebuilt; no cargo build)
#
# Starts a private redis-server and `claudebench serve` (SQLite in a temporary directory) on free
# ports, warms up, then times, for three hook inputs of tests/fixtures/claude-code/inputs/
# (PreToolUse of a Bash command, the guard's busiest path; PostToolUse; Notification), CALLS calls
# each way, one at a time, and prints the median, p90 and p99 in ms. Needs redis-server, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${CALLS:-300}
if [ -z "${CLAUDEBENCH_BIN:-}" ]; then cargo build --release --locked --quiet --bin claudebench; fi
bin=${CLAUDEBENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/claudebench}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d)
redis_port=$(free_port)
port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --logfile "$dir/redis.log" >/dev/null &
redis_pid=$!
server_pid=""
trap '[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; kill "$redis_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
env REDIS_URL="redis://127.0.0.1:$redis_port" CLAUDEBENCH_DATA_DIR="$dir/data" CLAUDEBENCH_KEY_PREFIX="hooks-$$" \
  RUST_LOG=warn "$bin" serve --port "$port" 2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores; $calls calls of each kind, one at a time"
python3 - "$bin" "$port" "$calls" <<'PY'
import http.client, json, os, statistics, subprocess, sys, time

bin, port, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
inputs = "tests/fixtures/claude-code/inputs"
cases = [("PreToolUse (Bash)", "PreToolUse.Bash.json"), ("PostToolUse", "PostToolUse.json"),
         ("Notification", "Notification.json")]
env = dict(os.environ, CLAUDEBENCH_URL=f"http://127.0.0.1:{port}")

def http_once(body):
    started = time.perf_counter()
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    con.request("POST", "/hooks/claude-code", body=body, headers={"content-type": "application/json"})
    response = con.getresponse()
    response.read()
    con.close()
    assert response.status == 200, response.status
    return (time.perf_counter() - started) * 1000

def bridge_once(body):
    started = time.perf_counter()
    done = subprocess.run([bin, "hook"], input=body, capture_output=True, env=env)
    assert done.returncode == 0 and "continuing" not in done.stderr.decode(), done
    return (time.perf_counter() - started) * 1000

def summary(samples):
    samples = sorted(samples)
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    return f"median {statistics.median(samples):6.2f} ms   p90 {pick(0.9):6.2f} ms   p99 {pick(0.99):6.2f} ms"

for name, file in cases:
    body = open(f"{inputs}/{file}", "rb").read()
    for _ in range(20):
        http_once(body)
        bridge_once(body)
    print(f"{name:20} HTTP    {summary([http_once(body) for _ in range(calls)])}")
    print(f"{name:20} bridge  {summary([bridge_once(body) for _ in range(calls)])}")
PY
