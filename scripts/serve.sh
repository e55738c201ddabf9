#!/usr/bin/env bash
# Run the server: starts (or installs) Redis when needed, then `claudebench serve`.
# Extra arguments go to `claudebench serve` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_redis
exec cargo run --release --locked -- serve "$@"
