#!/usr/bin/env bash
# How does the server hold up against clients that open connections and never finish a request?
#
#   benches/load/connection_abuse.sh                 (builds and runs target/release/claudebench)
#   CLAUDEBENCH_BIN=/path/to/claudebench benches/load/connection_abuse.sh   (another build, e.g. an older one)
#
# Starts a release `claudebench serve` on a free port (the local Redis, a fresh key prefix), then
#  (a) opens 6,000 half-sent requests (3,000 stop in the middle of the headers, 3,000 in the middle
#      of a /rpc body) and waits up to 70 s for the server to close them: prints how long they
#      stayed open (as the client sees it, including any wait to be accepted) and the most
#      sockets the server held at once;
#  (b) opens 2,000 idle WebSockets (no subscription), holds them 5 s, closes them, waits 5 s.
# For each phase it prints the server's VmRSS before, at the peak (sampled every 100 ms) and after.
# Needs python3 and curl; raises `ulimit -n` for itself and the server.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CLAUDEBENCH_BIN:-target/release/claudebench}
[ -n "${CLAUDEBENCH_BIN:-}" ] || cargo build --release --quiet
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 16384 ] || { echo "ulimit -n is $(ulimit -n); need 16384 (raise the hard limit)"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prefix="abuse-$$-$RANDOM"; dir=$(mktemp -d)
env REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" CLAUDEBENCH_KEY_PREFIX="$prefix" CLAUDEBENCH_DATA_DIR="$dir" \
  RUST_LOG=error "$bin" serve --port "$port" 2>"$dir/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.1; done
python3 -u - "$port" "$server" <<'PY'
import asyncio, os, statistics, sys, threading, time

port, pid = int(sys.argv[1]), int(sys.argv[2])
HOST = f"127.0.0.1:{port}"

def status(field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # MiB
def sockets():
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:  # closed while counting
            pass
    return count

class Sampler:
    """VmRSS and the server's socket count every 100 ms, per phase."""
    def __init__(self):
        self.peak_rss = self.peak_sockets = 0
        self.stop = False
        threading.Thread(target=self.run, daemon=True).start()
    def run(self):
        while not self.stop:
            self.peak_rss = max(self.peak_rss, status("VmRSS"))
            self.peak_sockets = max(self.peak_sockets, sockets())
            time.sleep(0.1)

async def half_sent(i, opened):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 60)
    except Exception:
        return None, "connect failed"
    if i % 2 == 0:
        writer.write(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: ".encode())
    else:
        writer.write(f"POST /rpc HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 1000\r\n\r\n{{\"jsonrpc\":".encode())
    start = time.monotonic()
    opened.append(1)
    answer = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), 70 - (time.monotonic() - start))
            if not chunk:
                break
            answer += chunk
    except asyncio.TimeoutError:
        writer.close()
        return None, "still open after 70 s"
    except ConnectionError:
        pass
    writer.close()
    return time.monotonic() - start, answer.split(b"\r\n", 1)[0].decode() or "closed without an answer"

async def phase_a():
    print("(a) 6,000 half-sent requests (3,000 in the headers, 3,000 in a /rpc body)")
    before, sampler, opened = status("VmRSS"), Sampler(), []
    t0 = time.monotonic()
    results = await asyncio.gather(*(half_sent(i, opened) for i in range(6000)))
    sampler.stop = True
    await asyncio.sleep(1)
    closed = sorted(r[0] for r in results if r[0] is not None)
    outcomes = {}
    for _, what in results:
        outcomes[what] = outcomes.get(what, 0) + 1
    print(f"    outcomes: {outcomes}")
    if closed:
        q = statistics.quantiles(closed, n=20)
        print(f"    time open until the server closed it (client view): min {closed[0]:.1f} s, median "
              f"{statistics.median(closed):.1f} s, p95 {q[-1]:.1f} s, max {closed[-1]:.1f} s; "
              f"all gone after {time.monotonic() - t0:.1f} s")
    print(f"    server sockets at most {sampler.peak_sockets}; VmRSS before {before} MiB, peak {sampler.peak_rss} MiB, "
          f"after {status('VmRSS')} MiB")

async def websocket(sockets_open, release):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /ws HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        line = (await asyncio.wait_for(reader.readline(), 30)).decode().strip()
    except Exception as e:
        return f"failed: {type(e).__name__}"
    code = line.split(" ")[1] if " " in line else line or "closed"
    if code == "101":
        sockets_open.append(1)
        await release.wait()
        writer.write(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # masked close frame, code 1000
        try:
            await writer.drain()
        except ConnectionError:
            pass
    writer.close()
    return code

async def phase_b():
    print("(b) 2,000 idle WebSockets, held 5 s, then closed")
    before, sampler, sockets_open, release = status("VmRSS"), Sampler(), [], asyncio.Event()
    tasks = [asyncio.create_task(websocket(sockets_open, release)) for _ in range(2000)]
    deadline = time.monotonic() + 60
    while len(sockets_open) + sum(t.done() for t in tasks) < 2000 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(5)
    peak = max(sampler.peak_rss, status("VmRSS"))
    release.set()
    codes = await asyncio.gather(*tasks)
    await asyncio.sleep(5)
    sampler.stop = True
    counts = {}
    for c in codes:
        counts[c] = counts.get(c, 0) + 1
    print(f"    upgrade answers: {counts}")
    print(f"    VmRSS before {before} MiB, peak {peak} MiB, 5 s after closing {status('VmRSS')} MiB "
          f"(+{peak - before} MiB at the peak; {(peak - before) * 1024 / max(1, len(sockets_open)):.0f} KiB per open socket)")

async def main():
    await phase_a()
    await phase_b()
    print(f"VmHWM {status('VmHWM')} MiB")

asyncio.run(main())
PY
