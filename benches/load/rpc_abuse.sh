#!/usr/bin/env bash
# How much memory can one JSON-RPC message make the server use?
#
#   benches/load/rpc_abuse.sh                 (builds and runs target/release/claudebench)
#   CLAUDEBENCH_BIN=/path/to/claudebench benches/load/rpc_abuse.sh   (another build, e.g. an older one)
#
# Starts a release `claudebench serve` on a free port (the local Redis, a fresh key prefix, rate
# limits off so the bounds themselves are measured), then
#  (a) sends one 262 KB batch of 2,000 `system.discover` calls;
#  (b) sends 16 batches of ~0.9 MB (12,000 calls each) at once;
#  (c) for 5 s, 16 clients send the largest batch the server takes (100 calls) in a loop;
#  (d) one WebSocket sends 3,000 `system.discover` calls and reads no answer for 5 s.
# For each phase it prints what came back and the server's VmRSS before, at the peak (sampled
# every 50 ms) and after. Needs python3 and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CLAUDEBENCH_BIN:-target/release/claudebench}
[ -n "${CLAUDEBENCH_BIN:-}" ] || cargo build --release --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prefix="rpc-abuse-$$-$RANDOM"; dir=$(mktemp -d)
env REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" CLAUDEBENCH_KEY_PREFIX="$prefix" CLAUDEBENCH_DATA_DIR="$dir" \
  CLAUDEBENCH_RATE_LIMITS=off RUST_LOG=error "$bin" serve --port "$port" 2>"$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.1; done
python3 -u - "$port" "$server" <<'PY'
import base64, http.client, json, os, socket, sys, threading, time

port, pid = int(sys.argv[1]), int(sys.argv[2])

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024  # MiB

class Sampler:
    def __init__(self):
        self.peak, self.stop = rss(), False
        threading.Thread(target=self.run, daemon=True).start()
    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss())
            time.sleep(0.05)

def batch(n):
    return json.dumps([{"jsonrpc": "2.0", "id": i, "method": "system.discover", "params": {}} for i in range(n)]).encode()

def post(body):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("POST", "/rpc", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data
    except Exception as e:  # a timeout or a dropped connection is a result here
        return None, type(e).__name__.encode()

def summary(status, data):
    if status is None:
        return f"no answer ({data.decode()})"
    try:
        answer = json.loads(data)
    except ValueError:
        return f"HTTP {status}, {len(data):,} bytes, not JSON"
    if isinstance(answer, dict):
        return f"HTTP {status}, {len(data):,} bytes, one answer: {answer.get('error', {}).get('code', 'result')}"
    codes = {}
    for a in answer:
        k = a["error"]["code"] if "error" in a else "result"
        codes[k] = codes.get(k, 0) + 1
    return f"HTTP {status}, {len(data):,} bytes, answers {codes}"

def phase(title, work):
    print(title)
    time.sleep(1)
    before, sampler, t0 = rss(), Sampler(), time.monotonic()
    outcome = work()
    elapsed = time.monotonic() - t0
    sampler.stop = True
    time.sleep(2)
    print(f"    {outcome}")
    print(f"    {elapsed:.1f} s; VmRSS before {before} MiB, peak {sampler.peak} MiB, 2 s after {rss()} MiB")

def a():
    body = batch(2000)
    return f"{len(body):,}-byte body: " + summary(*post(body))

def b():
    body = batch(12000)
    results = [None] * 16
    def one(i): results[i] = summary(*post(body))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    [t.start() for t in threads]; [t.join() for t in threads]
    return f"16 × {len(body):,} bytes: " + "; ".join(sorted(set(results)))

def c():
    body, stop, sent = batch(100), time.monotonic() + 5, [0]
    lock = threading.Lock()
    def loop():
        while time.monotonic() < stop:
            post(body)
            with lock: sent[0] += 1
    threads = [threading.Thread(target=loop) for _ in range(16)]
    [t.start() for t in threads]; [t.join() for t in threads]
    return f"{sent[0]} batches of 100 answered; last: " + summary(*post(body))

def d():
    s = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = s.recv(4096).split(b"\r\n", 1)[0].decode()
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 5
    for i in range(3000):
        payload = json.dumps({"jsonrpc": "2.0", "id": i, "method": "system.discover", "params": {}}).encode()
        frame = bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + b"\0\0\0\0" + payload
        while frame and time.monotonic() < deadline:
            try:
                frame = frame[s.send(frame):]
            except BlockingIOError:
                time.sleep(0.01)
        if frame:
            break
        sent += 1
    while time.monotonic() < deadline:
        time.sleep(0.1)
    s.close()
    return f"upgrade {head!r}; {sent} of 3,000 calls written before the 5 s were up (the server stops reading when busy)"

phase("(a) one batch of 2,000 system.discover calls", a)
phase("(b) 16 batches of 12,000 calls (~0.9 MB each) at once", b)
phase("(c) 16 clients sending the largest accepted batch (100 calls) for 5 s", c)
phase("(d) one WebSocket: 3,000 calls, no answer read for 5 s", d)
PY
