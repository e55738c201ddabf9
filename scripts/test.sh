#!/usr/bin/env bash
# Run the whole test suite: starts (or installs) Redis and PostgreSQL when needed, prepares the
# Python OpenAPI tools and schemathesis, runs every test of the workspace, then every fuzz target
# for a bounded time (scripts/fuzz.sh; CB_FUZZ_SECONDS per target, 0 skips them). Extra arguments
# go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_redis
ensure_postgres
ensure_python_tools

cargo test --workspace --locked "$@"

if [ "${CB_FUZZ_SECONDS:-}" != 0 ]; then
  ./scripts/fuzz.sh
fi
