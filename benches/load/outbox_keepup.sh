#!/usr/bin/env bash
# Does the SQL persister keep up with the server's full task.create rate?
#
#   benches/load/outbox_keepup.sh sqlite
#   benches/load/outbox_keepup.sh postgres postgres://postgres@127.0.0.1:5432/DB   (an empty database)
#
# Starts a release `claudebench serve` on a free port (the local Redis, a fresh key prefix), drives
# it with `wrk -t2 -c50 -d10s` (benches/load/create.lua), samples the outbox backlog from /health
# every second during and after the load, and prints the create rate, the largest backlog (entries
# and age of the oldest) and how many rows reached SQL. Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
kind=${1:?sqlite or postgres}; db=${2:-}
cargo build --release --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prefix="keepup-$$-$RANDOM"; dir=$(mktemp -d)
env REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" CLAUDEBENCH_KEY_PREFIX="$prefix" CLAUDEBENCH_DATA_DIR="$dir" \
  ${db:+DATABASE_URL=$db} RUST_LOG=warn target/release/claudebench serve --port "$port" 2>"$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.1; done
sample() {
  for _ in $(seq 16); do
    curl -s "localhost:$port/health" | python3 -c 'import sys, json; d = json.load(sys.stdin); print(d["outboxLag"], d["outboxAgeMs"])'
    sleep 1
  done
}
sample >"$dir/lag" &
sampler=$!
wrk -t2 -c50 -d10s -s benches/load/create.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|requests in|Non-2xx|Latency"
wait $sampler
python3 - "$dir/lag" <<'PY'
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(f"outbox backlog, sampled every second: max {max(r[0] for r in rows)} entries, "
      f"oldest at most {max(r[1] for r in rows)} ms; at the end {rows[-1][0]} entries")
PY
echo "task ids issued: $(redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" get "{$prefix}:tasks:seq")"
