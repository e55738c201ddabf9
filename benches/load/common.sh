# Shared by the load benchmarks of this directory (sourced, after `cd` to the repository root):
# the two servers' binaries, built with the release profile unless given, and free ports.
#   CLAUDEBENCH_BIN, CEILING_BIN: prebuilt binaries (no cargo build)
# Sets cb_bin and ceiling_bin.

target=${CARGO_TARGET_DIR:-target}
if [ -z "${CLAUDEBENCH_BIN:-}" ]; then
  cargo build --release --quiet
fi
cb_bin=${CLAUDEBENCH_BIN:-$target/release/claudebench}
if [ -z "${CEILING_BIN:-}" ]; then
  # The bench's executable, built with the release profile (like the server it is compared with).
  CEILING_BIN=$(cargo build --release --quiet --bench ceiling --message-format=json \
    | python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ceiling" and m.get("executable"):
        print(m["executable"])')
fi
ceiling_bin=$CEILING_BIN

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
